// The ingest hot path has fast paths and one-entry caches (docs/performance.md); each must
// answer exactly as the plain definition it replaces, which is written out here.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { templateRoute } from '../../src/events/adapters/http-facts.js';
import { compact } from '../../src/events/adapters/adapter-types.js';
import { epochMs, normaliseTime } from '../../src/events/event-time.js';
import { adaptNginxLine, timeLocalToRfc3339 } from '../../src/events/adapters/nginx-adapter.js';
import { isDottedQuad } from '../../src/events/event-validate.js';
import { z } from 'zod';
import { ORIGIN, testIngestor } from './support/ingest.js';
import { expectNoSecret, mintJwt, opaqueToken } from './support/tokens.js';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const HEX_ID_RE = /^(?=.*\d)[0-9a-f]{16,}$/i;
const OPAQUE_ID_RE = /^(?=.*\d)(?=.*[A-Za-z])[A-Za-z0-9_-]{20,}$/;
/** templateRoute as first written: split, test every segment with every pattern, join. */
function referenceRoute(pathWithQuery: string): string {
  let p = pathWithQuery;
  const q = p.search(/[?#]/);
  if (q >= 0) p = p.slice(0, q);
  if (p === '') return '/';
  return p
    .split('/')
    .map((seg) => (/^\d+$/.test(seg) || UUID_RE.test(seg) || HEX_ID_RE.test(seg) || OPAQUE_ID_RE.test(seg) ? '{id}' : seg))
    .join('/');
}

/** compact as first written (deletes in place); the fast one builds new objects instead. */
function referenceCompact(o: Record<string, unknown>): Record<string, unknown> {
  for (const k of Object.keys(o)) {
    const v = o[k];
    if (v === undefined) delete o[k];
    else if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
      referenceCompact(v as Record<string, unknown>);
      if (Object.keys(v).length === 0) delete o[k];
    }
  }
  return o;
}

describe('templateRoute fast path', () => {
  const segment = fc.oneof(
    fc.constantFrom('', 'api', 'v1', '123', '0', 'orders', '550e8400-e29b-41d4-a716-446655440000', 'DEADBEEF00112233', 'deadbeefdeadbeef', 'abcdefghij0123456789xyz', 'a?b', '#frag', '١٢٣'),
    fc.string({ maxLength: 24 }),
    fc.stringMatching(/^[0-9a-fA-F_-]{0,40}$/),
  );
  it('templates exactly like the split/test/join definition', () => {
    fc.assert(
      fc.property(fc.array(segment, { maxLength: 8 }), (segs) => {
        const p = segs.join('/');
        expect(templateRoute(p)).toBe(referenceRoute(p));
      }),
      { numRuns: 3000 },
    );
    for (const p of ['', '/', '//', '/a//1/', '?x', '#', '/1', '1', '/api/v1/orders/123?x=1', '/a/b/c']) expect(templateRoute(p)).toBe(referenceRoute(p));
  });
});

describe('compact without delete', () => {
  const value = fc.oneof(fc.constant(undefined), fc.integer(), fc.string({ maxLength: 4 }), fc.constant({}), fc.array(fc.integer(), { maxLength: 2 }));
  const obj = fc.dictionary(fc.constantFrom('a', 'b', 'c', '__proto__', 'z'), fc.oneof(value, fc.dictionary(fc.constantFrom('x', 'y', '__proto__'), value)));
  it('gives the same members, in the same order, as deleting in place', () => {
    fc.assert(
      fc.property(obj, (o) => {
        const copy = structuredClone(o);
        const fast = compact(o);
        const ref = referenceCompact(copy);
        expect(JSON.stringify(fast)).toBe(JSON.stringify(ref));
        expect(Object.keys(fast)).toEqual(Object.keys(ref));
        expect(Object.getPrototypeOf(fast)).toBe(Object.prototype);
      }),
      { numRuns: 2000 },
    );
  });
  it('keeps a `__proto__` member as a member', () => {
    const o = JSON.parse('{"__proto__":{"polluted":1},"a":{"__proto__":2}}') as Record<string, unknown>;
    const c = compact(o) as Record<string, unknown>;
    expect(Object.keys(c)).toEqual(['__proto__', 'a']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(c)).toBe(Object.prototype);
  });
});

describe('one-entry time caches', () => {
  it('normaliseTime answers the same for a repeated, an alternating and an invalid input', () => {
    const inputs = ['2026-01-02T03:04:05+00:00', '2026-01-02T03:04:05+00:00', '2026-02-30T00:00:00Z', '2026-02-30T00:00:00Z', '', '2026-01-02T03:04:05+00:00', '2026-01-02T05:04:05+02:00'];
    const expected = ['2026-01-02T03:04:05.000Z', '2026-01-02T03:04:05.000Z', undefined, undefined, undefined, '2026-01-02T03:04:05.000Z', '2026-01-02T03:04:05.000Z'];
    expect(inputs.map((s) => normaliseTime(s))).toEqual(expected);
  });
  it('epochMs answers as Date.parse for repeated, alternating and invalid inputs', () => {
    const inputs = ['2026-01-02T03:04:05.000Z', '2026-01-02T03:04:05.000Z', 'nope', 'nope', '', '2026-01-02T03:04:06.000Z', '2026-01-02T03:04:05.000Z'];
    expect(inputs.map((s) => epochMs(s))).toEqual(inputs.map((s) => Date.parse(s)));
  });
  it('timeLocalToRfc3339 answers the same for repeated and invalid inputs', () => {
    const inputs = ['10/Oct/2000:13:55:36 -0700', '10/Oct/2000:13:55:36 -0700', '10/Foo/2000:13:55:36 -0700', '10/Foo/2000:13:55:36 -0700', '', '10/Oct/2000:13:55:36 -0700'];
    const expected = ['2000-10-10T13:55:36-07:00', '2000-10-10T13:55:36-07:00', undefined, undefined, undefined, '2000-10-10T13:55:36-07:00'];
    expect(inputs.map((s) => timeLocalToRfc3339(s))).toEqual(expected);
  });
});

describe('dotted-quad fast path of the contract check', () => {
  const IPV4 = z.regexes.ipv4;
  it('accepts only what the zod IPv4 regex accepts, and every plain IPv4 address', () => {
    const octet = fc.oneof(fc.integer({ min: 0, max: 300 }).map(String), fc.constantFrom('00', '01', '010', '255', '256', '1000', '', 'a', ' 1', '1 '));
    fc.assert(
      fc.property(fc.array(octet, { minLength: 1, maxLength: 5 }), fc.constantFrom('.', '.', '.', ':', '..'), (parts, sep) => {
        const s = parts.join(sep);
        expect(isDottedQuad(s)).toBe(IPV4.test(s));
      }),
      { numRuns: 5000 },
    );
    fc.assert(fc.property(fc.ipV4(), (ip) => {
      expect(isDottedQuad(ip)).toBe(true);
    }), { numRuns: 2000 });
    fc.assert(fc.property(fc.string({ maxLength: 16 }), (s) => {
      expect(!isDottedQuad(s) || IPV4.test(s)).toBe(true);
    }), { numRuns: 5000 });
    for (const s of ['1.2.3.4\n', '1.2.3.4.', '.1.2.3', '1.2.3', '0.0.0.0', '255.255.255.255', '::ffff:1.2.3.4']) expect(isDottedQuad(s)).toBe(IPV4.test(s));
  });
});

describe('NGINX combined lines the adapter vouches for (no redaction walk)', () => {
  // Canaries minted once per run; the fragments put them (and near misses) in every field.
  const jwt = mintJwt();
  const opaque = opaqueToken();
  const canaries = [jwt, opaque];
  const plain = fc.constantFrom('', 'orders', 'v1', '42', 'catalog', 'abc', 'Mozilla/5.0 (X11; Linux x86_64)', 'python-requests/2.32', 'https://app.example/', 'x', '-');
  const risky = fc.constantFrom(
    `access_token=${opaque}`, `?code=${opaque}`, 'a=b', `%3Daccess_token%3D${opaque}`, `Bearer ${opaque}`, `basic ${opaque}`, jwt, `x.${jwt}`, 'eyJ', 'EYJ',
    '\\x22', '\\"', `\\x3Daccess_token\\x3D${opaque}`, `"access_token":"${opaque}"`, 'authorization', 'Cookie', 'x-api-key', 'dpop', 'DPoP', 'bearer',
  );
  const fragment = fc.oneof({ weight: 16, arbitrary: plain }, { weight: 1, arbitrary: risky }, { weight: 1, arbitrary: fc.string({ maxLength: 12 }) });
  // a raw `"` ends a field (one only after a backslash); a space ends the path
  const field = fc.array(fragment.filter((f) => !/(^|[^\\])"/.test(f)), { maxLength: 4 }).map((a) => a.join(''));
  const pathOf = fc.array(fragment.filter((f) => !/[ "]/.test(f)), { maxLength: 4 }).map((a) => '/' + a.join('/'));
  const ipOf = fc.oneof({ weight: 6, arbitrary: fc.ipV4() }, { weight: 1, arbitrary: fc.constantFrom(`"access_token":"${opaque}"`, `eyJ${opaque}`, '10.0.0.1"', 'a=bcdefghij') });
  const longUa = fc.constantFrom('', '', '', '', 'L'.repeat(4000), 'L'.repeat(4200));
  const lineOf = fc
    .record({ ip: ipOf, method: fc.constantFrom('GET', 'POST', 'DELETE'), path: pathOf, status: fc.constantFrom(200, 401, 403, 500), ref: field, ua: field, pad: longUa, extra: fc.constantFrom('', ' "-" 0.004', ` "${opaque}"`) })
    .map((r) => `${r.ip} - - [26/Nov/2026:10:00:00 +0000] "${r.method} ${r.path} HTTP/1.1" ${r.status} 12 "${r.ref}" "${r.ua + r.pad}"${r.extra}`);
  const observers = ['nginx', 'edge-basic-gw', `Bearer ${opaque}`];

  it('accepts exactly what the full walk accepts, with the same event and id; a vouched line holds no canary', () => {
    let vouched = 0;
    let walked = 0;
    for (const observer of observers) {
      const fast = testIngestor({ inputFormat: 'nginx', observerNames: { nginx: observer } });
      const full = testIngestor({ inputFormat: 'nginx', observerNames: { nginx: observer }, trustAdapterChecks: false });
      fc.assert(
        fc.property(lineOf, (line) => {
          const a = fast.ingestLine(line, ORIGIN);
          const b = full.ingestLine(line, ORIGIN);
          expect(JSON.stringify(a)).toBe(JSON.stringify(b));
          const adapted = adaptNginxLine(line, { fingerprint: () => 'tfp_x', observerName: observer });
          if (adapted.ok && adapted.redactionFree) {
            vouched++;
            // every canary fragment carries a marker (=, eyJ, a scheme, a quote...): none is vouched for
            if (a.ok) expectNoSecret(a.event, canaries);
          } else walked++;

        }),
        { numRuns: 1500 },
      );
    }
    // both paths were exercised, not one of them vacuously
    expect(vouched).toBeGreaterThan(400);
    expect(walked).toBeGreaterThan(400);
  });

  it('vouches for a plain line and not for one holding a secret, an escape or an over-long field', () => {
    const ctx = { fingerprint: () => 'tfp_x' };
    const base = '10.0.0.1 - - [26/Nov/2026:10:00:00 +0000] "GET /api/v1/orders/7 HTTP/1.1" 401 12 "-" "curl/8.5.0"';
    const vouches = (line: string) => {
      const r = adaptNginxLine(line, ctx);
      return r.ok && r.redactionFree === true;
    };
    expect(vouches(base)).toBe(true);
    expect(vouches(base.replace('/7', `/7?access_token=${opaque}`))).toBe(false);
    expect(vouches(base.replace('curl/8.5.0', `curl/8.5.0 ${jwt}`))).toBe(false);
    expect(vouches(base.replace('"-"', '"https://a.example/\\x22"'))).toBe(false);
    expect(vouches(base.replace('curl/8.5.0', 'c'.repeat(5000)))).toBe(false);
    expect(adaptNginxLine(base, { ...ctx, observerName: `Bearer ${opaque}` })).toMatchObject({ ok: true });
    expect(vouches(base.replace('10.0.0.1', `eyJ${opaque}`))).toBe(false);
  });
});
