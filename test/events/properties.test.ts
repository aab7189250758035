// Property-based: no input makes the ingest path throw, and no generated token survives it.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createHmac } from 'node:crypto';
import { createRedactor, redactText } from '../../src/events/redaction.js';
import { adaptNginxJson, adaptNginxLine } from '../../src/events/adapters/nginx-adapter.js';
import { adaptEnvoy } from '../../src/events/adapters/envoy-adapter.js';
import { adaptKong } from '../../src/events/adapters/kong-adapter.js';
import { INPUT_FORMATS } from '../../src/events/ingest-types.js';
import { gatewayEvent, ORIGIN, TEST_SECRET, testIngestor } from './support/ingest.js';

const RUNS = 300;
const ctx = { fingerprint: (t: string) => `tfp_${t.length}` };
const ingestors = INPUT_FORMATS.map((f) => testIngestor({ inputFormat: f, maxLineBytes: 4096 }));

const anyLine = fc.oneof(
  fc.string({ maxLength: 300 }),
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.record({ request: fc.jsonValue(), response: fc.jsonValue(), started_at: fc.oneof(fc.integer(), fc.double()) }).map((v) => JSON.stringify(v)),
  fc.tuple(fc.ipV4(), fc.string({ maxLength: 40 }), fc.integer({ min: 0, max: 999 })).map(([ip, req, st]) => `${ip} - - [14/Mar/2026:10:30:00 +0100] "${req}" ${st} 1 "-" "-"`),
);

describe('nothing throws', () => {
  it('ingestLine, in every input format, returns an outcome for any line', () => {
    fc.assert(
      fc.property(anyLine, (l) => {
        for (const ing of ingestors) {
          const r = ing.ingestLine(l, ORIGIN);
          expect(typeof r.ok).toBe('boolean');
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('ingestObject returns an outcome for any value', () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), fc.anything()), (v) => {
        for (const ing of ingestors) expect(typeof ing.ingestObject(structuredCloneSafe(v), ORIGIN).ok).toBe('boolean');
      }),
      { numRuns: RUNS },
    );
  });

  it('adapters and redaction never throw on arbitrary records and strings', () => {
    const redact = createRedactor(TEST_SECRET);
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), fc.string(), (o, s) => {
        adaptNginxJson(o, ctx);
        adaptEnvoy(o, ctx);
        adaptKong(o, ctx);
        adaptNginxLine(s, ctx);
        redactText(s);
        redact(JSON.parse(JSON.stringify(o)));
      }),
      { numRuns: RUNS },
    );
  });
});

function structuredCloneSafe(v: unknown): unknown {
  try {
    return structuredClone(v);
  } catch {
    return v;
  }
}

// --- secrets never survive ----------------------------------------------------------------

const b64url = fc.stringMatching(/^[A-Za-z0-9_-]{12,40}$/);
/** a random-looking token: has a digit and a capital like real ones */
const opaque = b64url.map((s) => `${s}7Q`);
const jwt = fc.tuple(fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 4 }), fc.string({ maxLength: 12 })).map(([claims, k]) => {
  const h = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
  const p = Buffer.from(JSON.stringify({ ...claims, sub: 'canary' })).toString('base64url');
  return { text: `${h}.${p}.${createHmac('sha256', k || 'k').update(`${h}.${p}`).digest('base64url')}`, secret: `${h}.${p}` };
});
const PARAMS = ['access_token', 'refresh_token', 'id_token', 'code', 'client_secret', 'assertion', 'password', 'token'];
const secretText = fc.oneof(
  jwt.map((j) => ({ text: j.text, pieces: [j.text, ...j.text.split('.').slice(1)] })),
  fc.tuple(fc.constantFrom('Bearer', 'bearer', 'DPoP', 'Basic'), opaque).map(([s, t]) => ({ text: `${s} ${t}`, pieces: [t] })),
  fc.tuple(fc.constantFrom(...PARAMS), opaque).map(([p, t]) => ({ text: `${p}=${t}`, pieces: [t] })),
  fc.tuple(fc.constantFrom('Authorization', 'Proxy-Authorization'), opaque).map(([h, t]) => ({ text: `${h}: ${t}`, pieces: [t] })),
);
const SEPARATORS = [' ', '&', '?', '\n', ', ', '"'];
const surround = fc.tuple(fc.string({ maxLength: 30 }), fc.constantFrom(...SEPARATORS), fc.constantFrom(...SEPARATORS), fc.string({ maxLength: 30 }));

function place(e: Record<string, any>, where: string, text: string, extra: unknown): void {
  switch (where) {
    case 'path':
      e.http.path = `/api/v1/x?${text}`;
      break;
    case 'detail':
      e.auth.detail = text;
      break;
    case 'ua':
      e.source.user_agent = text;
      break;
    case 'nested':
      e.extra = { gen: extra, deep: { deeper: { note: text } } };
      break;
    case 'array':
      e.extra = { list: [extra, text] };
      break;
    case 'header':
      e.http.headers = { authorization: text };
      break;
  }
}

describe('no generated secret survives', () => {
  const ing = testIngestor({ maxLineBytes: 8192 });
  it('embedded anywhere in an event, in accepted events and in rejections alike', () => {
    fc.assert(
      fc.property(secretText, surround, fc.constantFrom('path', 'detail', 'ua', 'nested', 'array', 'header'), fc.jsonValue({ maxDepth: 2 }), fc.boolean(), (sec, [pre, s1, s2, post], where, extra, breakIt) => {
        const e = gatewayEvent();
        place(e, where, `${pre}${s1}${sec.text}${s2}${post}`, extra);
        if (breakIt) e.time = 'not a time';
        const out = JSON.stringify(ing.ingestLine(JSON.stringify(e), ORIGIN));
        for (const p of sec.pieces) expect(out.includes(p), `${p} survived in ${out}`).toBe(false);
      }),
      { numRuns: RUNS * 2 },
    );
  });

  it('in free text, redactText removes them', () => {
    fc.assert(
      fc.property(secretText, surround, (sec, [pre, s1, s2, post]) => {
        const out = redactText(`${pre}${s1}${sec.text}${s2}${post}`);
        for (const p of sec.pieces) expect(out.includes(p)).toBe(false);
      }),
      { numRuns: RUNS * 2 },
    );
  });

  it('in raw lines of any format, accepted or rejected', () => {
    fc.assert(
      fc.property(secretText, surround, fc.constantFrom(...ingestors), (sec, [pre, s1, s2, post], ingestor) => {
        const l = `203.0.113.9 - - [14/Mar/2026:10:30:00 +0100] "GET /a?${pre}${s1}${sec.text.replace(/["\n]/g, ' ')}${s2.replace(/["\n]/g, ' ')} HTTP/1.1" 401 1 "-" "${post.replace(/["\n\\]/g, '')}"`;
        const out = JSON.stringify(ingestor.ingestLine(l, ORIGIN));
        for (const p of sec.pieces) expect(out.includes(p)).toBe(false);
      }),
      { numRuns: RUNS },
    );
  });

  it('in gateway records: Kong headers and URIs, NGINX JSON and Envoy fields', () => {
    const auto = testIngestor({ maxLineBytes: 8192 });
    fc.assert(
      fc.property(secretText, surround, fc.string({ maxLength: 20 }), fc.constantFrom('kong-auth', 'kong-header', 'kong-uri', 'nginx-auth', 'nginx-uri', 'envoy-details', 'envoy-path', 'envoy-auth'), (sec, [pre, s1, s2, post], headerName, where) => {
        const text = `${pre}${s1}${sec.text}${s2}${post}`;
        let rec: Record<string, unknown>;
        if (where.startsWith('kong')) {
          const headers: Record<string, string> = { host: 'api.example.com' };
          if (where === 'kong-auth') headers.authorization = text;
          if (where === 'kong-header') headers[headerName || 'x'] = text;
          rec = { request: { method: 'GET', uri: where === 'kong-uri' ? `/a?${text}` : '/a', headers }, response: { status: 401 }, client_ip: '198.51.100.1', started_at: 1773480840000 };
        } else if (where.startsWith('nginx')) {
          rec = { time_iso8601: '2026-03-14T10:31:00+01:00', remote_addr: '203.0.113.10', request_method: 'GET', request_uri: where === 'nginx-uri' ? `/a?${text}` : '/a', status: '401', http_authorization: where === 'nginx-auth' ? text : '' };
        } else {
          rec = { start_time: '2026-03-14T09:32:00.250Z', method: 'GET', path: where === 'envoy-path' ? `/a?${text}` : '/a', response_code: 401, response_code_details: where === 'envoy-details' ? text : 'via_upstream', downstream_remote_address: '198.51.100.77:5041', ...(where === 'envoy-auth' ? { authorization: text } : {}) };
        }
        const out = JSON.stringify(auto.ingestLine(JSON.stringify(rec), ORIGIN));
        for (const p of sec.pieces) expect(out.includes(p), `${where}: ${p} survived in ${out}`).toBe(false);
      }),
      { numRuns: RUNS * 2 },
    );
  });
});
