import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/observability/metrics.js';
import { fingerprint } from '../../src/events/redaction.js';
import { REJECT_REASONS, type IngestOutcome } from '../../src/events/ingest-types.js';
import { gatewayEvent, ORIGIN, TEST_SECRET, testIngestor } from './support/ingest.js';
import { expectNoSecret, mintJwt, opaqueToken } from './support/tokens.js';

const ing = testIngestor();
const line = (o: unknown) => JSON.stringify(o);
const accept = (o: unknown) => {
  const r = ing.ingestLine(line(o), ORIGIN);
  if (!r.ok) throw new Error(`rejected: ${r.rejection.reason}: ${r.rejection.message}`);
  return r.event as Record<string, any>;
};
const reject = (input: string, ingestor = ing) => {
  const r = ingestor.ingestLine(input, ORIGIN);
  if (r.ok) throw new Error('accepted unexpectedly');
  expect(REJECT_REASONS).toContain(r.rejection.reason);
  expect(r.rejection.origin).toEqual(ORIGIN);
  return r.rejection;
};

describe('event contract', () => {
  it('requires source.ip, http.method, http.route, http.status for gateway and api events', () => {
    for (const type of ['gateway', 'api']) {
      for (const [obj, field] of [['source', 'ip'], ['http', 'method'], ['http', 'route'], ['http', 'status']] as const) {
        const e = gatewayEvent({ observer: { type, name: 'x' } });
        delete e[obj][field];
        const r = reject(line(e));
        expect(r.reason).toBe('schema_violation');
        expect(r.message).toContain(`${obj}.${field}`);
      }
    }
  });

  it('requires idp.endpoint for idp events and accepts them without http/source', () => {
    const idp = { time: '2026-03-14T09:30:00Z', observer: { type: 'idp', name: 'login' }, auth: { result: 'invalid_client' }, idp: { endpoint: 'token', client_id: 'c1', error: 'invalid_client' } };
    expect(accept(idp).idp.endpoint).toBe('token');
    const r = reject(line({ ...idp, idp: { client_id: 'c1' } }));
    expect(r.reason).toBe('schema_violation');
    expect(r.message).toContain('idp.endpoint');
  });

  it('rejects values outside the enums and wrong types, naming the field', () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [gatewayEvent({ auth: { result: 'fine' } }), 'auth.result'],
      [gatewayEvent({ observer: { type: 'proxy', name: 'x' } }), 'observer.type'],
      [gatewayEvent({ http: { method: 'GET', route: '/a', status: '200' } }), 'http.status'],
      [gatewayEvent({ http: { method: 'GET', route: '/a', status: 700 } }), 'http.status'],
      [gatewayEvent({ http: { method: 'GET', route: '/a', status: 200, route_class: 'secret' } }), 'http.route_class'],
      [gatewayEvent({ source: { ip: '999.1.1.1' } }), 'source.ip'],
      [gatewayEvent({ token: { exp: 1.5 } }), 'token.exp'],
      [gatewayEvent({ token: { aud: [1] } }), 'token.aud'],
      [gatewayEvent({ auth: { result: 'ok', scheme: 'magic' } }), 'auth.scheme'],
      [gatewayEvent({ id: '' }), 'id'],
    ];
    for (const [e, field] of cases) {
      const r = reject(line(e));
      expect(r.reason, field).toBe('schema_violation');
      expect(r.message, field).toContain(field);
    }
  });

  it('keeps unknown extra fields', () => {
    const e = accept(gatewayEvent({ deployment: { region: 'eu-west-1', canary: true, tags: ['a', 'b'] }, http: { method: 'GET', route: '/x', status: 200, upstream_ms: 12 } }));
    expect(e.deployment).toEqual({ region: 'eu-west-1', canary: true, tags: ['a', 'b'] });
    expect(e.http.upstream_ms).toBe(12);
  });

  it('enforces size limits on unknown fields: depth, keys, array length, string length', () => {
    let deep: Record<string, unknown> = { leaf: 1 };
    for (let i = 0; i < 10; i++) deep = { d: deep };
    const many = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`k${i}`, i]));
    const cases: Array<[Record<string, unknown>, string]> = [
      [gatewayEvent({ extra: deep }), 'nested deeper'],
      [gatewayEvent({ extra: many }), 'more than 256 fields'],
      [gatewayEvent({ extra: { list: Array.from({ length: 200 }, () => 1) } }), 'array longer'],
      [gatewayEvent({ extra: { text: 'x'.repeat(5000) } }), 'string longer'],
    ];
    for (const [e, msg] of cases) {
      const r = reject(line(e));
      expect(r.reason).toBe('too_large');
      expect(r.message).toContain(msg);
    }
  });

  it('normalises time to UTC with milliseconds from any RFC 3339 offset', () => {
    const cases: Array<[string, string]> = [
      ['2026-03-14T11:30:00+02:00', '2026-03-14T09:30:00.000Z'],
      ['2026-03-14T09:30:00Z', '2026-03-14T09:30:00.000Z'],
      ['2026-03-14T09:30:00.5Z', '2026-03-14T09:30:00.500Z'],
      ['2026-03-14T09:30:00.123456789Z', '2026-03-14T09:30:00.123Z'],
      ['2026-03-13T23:30:00-10:00', '2026-03-14T09:30:00.000Z'],
      ['2026-03-14t09:30:00z', '2026-03-14T09:30:00.000Z'],
      ['2024-02-29T00:00:00+00:00', '2024-02-29T00:00:00.000Z'],
    ];
    for (const [t, want] of cases) expect(accept(gatewayEvent({ time: t })).time).toBe(want);
  });

  it('rejects invalid times with invalid_time', () => {
    for (const t of ['2026-03-14', '2026-02-30T00:00:00Z', '2026-03-14T24:00:00Z', '2026-03-14T09:30:00', '14/Mar/2026:10:30:00 +0100', '2026-03-14T09:30:00+25:00', 'yesterday']) {
      const r = reject(line(gatewayEvent({ time: t })));
      expect(r.reason, t).toBe('invalid_time');
      expect(r.message).toContain('time');
    }
  });

  it('derives a stable id from content when absent: same content same id, different content different id', () => {
    const a = accept(gatewayEvent());
    const b = accept(JSON.parse(line(gatewayEvent())));
    // same content, other key order and another spelling of the same instant
    const reordered = { auth: { scheme: 'bearer', result: 'ok' }, http: { status: 200, path: '/api/v1/orders/7', route: '/api/v1/orders/{id}', method: 'GET' }, source: { user_agent: 'curl/8.5.0', ip: '203.0.113.7' }, observer: { name: 'edge-1', type: 'gateway' }, time: '2026-03-14T11:30:00+02:00' };
    const c = accept(reordered);
    const d = accept(gatewayEvent({ http: { method: 'GET', route: '/api/v1/orders/{id}', path: '/api/v1/orders/8', status: 200 } }));
    expect(a.id).toMatch(/^ev_[A-Za-z0-9_-]{32}$/);
    expect(b.id).toBe(a.id);
    expect(c.id).toBe(a.id);
    expect(d.id).not.toBe(a.id);
    expect(accept(gatewayEvent({ id: 'producer-1' })).id).toBe('producer-1');
  });

  it('fills http.route_class from the route policy only when absent', () => {
    expect(accept(gatewayEvent()).http.route_class).toBe('protected');
    expect(accept(gatewayEvent({ http: { method: 'GET', route: '/api/x', status: 200, route_class: 'restricted' } })).http.route_class).toBe('restricted');
    expect(accept(gatewayEvent({ http: { method: 'GET', route: '/other', status: 200 } })).http.route_class).toBeUndefined();
  });

  it('strips a producer-supplied redaction mark; clean events carry none', () => {
    const e = accept(gatewayEvent({ redaction: { applied: true, count: 3, fields: ['x'] } }));
    expect(e.redaction).toBeUndefined();
  });

  it('ingestObject applies the same path to parsed objects', () => {
    const t = opaqueToken();
    const r = ing.ingestObject(gatewayEvent({ http: { method: 'GET', route: '/api/a', status: 200, path: `/api/a?access_token=${t}` } }), ORIGIN);
    expect(r.ok).toBe(true);
    expectNoSecret(r, [t]);
    const bad = ing.ingestObject([1, 2], ORIGIN);
    expect(!bad.ok && bad.rejection.reason).toBe('not_an_object');
  });
});

describe('canary tokens in every place a token can hide', () => {
  it('none survives anywhere in the output and token.fp is the fingerprint of the first one', () => {
    const inPath = mintJwt();
    const inQuery = opaqueToken('q');
    const inHeader = mintJwt({ sub: 'hdr' });
    const inDetail = mintJwt({ sub: 'detail' });
    const inNested = opaqueToken('n');
    const inArray = mintJwt({ sub: 'arr' });
    const inForm = opaqueToken('rt');
    const inUa = mintJwt({ sub: 'ua' });
    const secret = opaqueToken('cs');
    const code = opaqueToken('code');
    const e = gatewayEvent({
      source: { ip: '203.0.113.7', user_agent: `evil-bot/1.0 ${inUa}` },
      http: { method: 'POST', route: '/api/v1/orders', status: 401, path: `/api/v1/orders/${inPath}?access_token=${inQuery}&code=${code}`, headers: { authorization: `Bearer ${inHeader}` } },
      auth: { result: 'bad_signature', detail: `signature check failed for ${inDetail}` },
      extra: { a: { b: { c: `Authorization: Bearer ${inNested}` } }, list: ['x', inArray], body: `grant_type=refresh_token&refresh_token=${inForm}&client_secret=${secret}` },
    });
    const r = ing.ingestLine(line(e), ORIGIN);
    expect(r.ok).toBe(true);
    const ev = (r as Extract<IngestOutcome, { ok: true }>).event as Record<string, any>;
    expectNoSecret(r, [inPath, inQuery, inHeader, inDetail, inNested, inArray, inForm, inUa, secret, code]);
    expect(ev.token.fp).toBe(fingerprint(TEST_SECRET, inUa)); // the first token in walk order
    expect(ev.redaction.applied).toBe(true);
    expect(ev.redaction.fields).toEqual(expect.arrayContaining(['source.user_agent', 'http.path', 'http.headers.authorization', 'auth.detail', 'extra.a.b.c', 'extra.list.1', 'extra.body']));
  });

  it('Kong: the Authorization header is fingerprinted into token.fp, never raw', () => {
    const jwt = mintJwt({ client_id: 'kong-client', scope: 'a b' }, { kid: 'k7' });
    const kong = { request: { method: 'GET', uri: '/api/v1/x', headers: { authorization: `Bearer ${jwt}`, 'user-agent': 'ua' } }, response: { status: 200 }, client_ip: '198.51.100.1', started_at: 1773480840000 };
    const r = ing.ingestLine(line(kong), ORIGIN);
    expect(r.ok && r.format).toBe('kong');
    const ev = (r as Extract<IngestOutcome, { ok: true }>).event as Record<string, any>;
    expectNoSecret(r, [jwt]);
    expect(ev.token).toMatchObject({ fp: fingerprint(TEST_SECRET, jwt), kid: 'k7', client_id: 'kong-client', scopes: ['a', 'b'] });
  });

  it('rejected lines keep only redacted raw input', () => {
    const jwt = mintJwt();
    const t = opaqueToken();
    for (const input of [`{"bad json ${jwt}`, line(gatewayEvent({ time: 'nope', http: { path: `/a?refresh_token=${t}` } })), `garbage Bearer ${t}`, `{"authorization":"${t}"`]) {
      const r = ing.ingestLine(input, ORIGIN);
      expect(r.ok).toBe(false);
      expectNoSecret(r, [jwt, t]);
    }
    // oversized line with a JWT cut at the truncation point
    const big = `{"pad":"${'x'.repeat(4090)}","t":"${jwt}","more":"${'y'.repeat(70_000)}"}`;
    const r = reject(big);
    expect(r.reason).toBe('line_too_long');
    expectNoSecret(r, [jwt]);
    expect(r.raw.length).toBeLessThanOrEqual(2049);
  });
});

describe('bad input', () => {
  it('rejects each kind with its reason and keeps processing the rest of the batch', () => {
    const lines = [
      line(gatewayEvent()),
      '{"time": "2026-03-14T09:30:00Z", "observer": ',
      '"just a string"',
      line(gatewayEvent({ auth: undefined })),
      line(gatewayEvent({ time: '2026-13-01T00:00:00Z' })),
      'x'.repeat(70_000),
      'PK\u0003\u0004\u0000\u0000binary\uFFFD\uFFFD',
      'hello world',
      line(gatewayEvent({ extra: { s: 'y'.repeat(5000) } })),
      line({ request: { method: 'GET' }, response: { status: 200 }, started_at: 'yesterday' }),
      line(gatewayEvent({ id: 'last' })),
    ];
    const out = lines.map((l, i) => ing.ingestLine(l, { ...ORIGIN, line: i + 1 }));
    const reasons = out.map((r) => (r.ok ? 'ok' : r.rejection.reason));
    expect(reasons).toEqual(['ok', 'malformed_json', 'not_an_object', 'schema_violation', 'invalid_time', 'line_too_long', 'not_utf8', 'unknown_format', 'too_large', 'adapter_error', 'ok']);
    out.forEach((r, i) => {
      if (!r.ok) {
        expect(r.rejection.origin.line).toBe(i + 1);
        expect(r.rejection.message.length).toBeGreaterThan(5);
      }
    });
  });

  it('explicit formats reject lines of other formats with adapter_error or malformed_json', () => {
    const nginx = testIngestor({ inputFormat: 'nginx' });
    expect(reject('hello', nginx).reason).toBe('adapter_error');
    const envoy = testIngestor({ inputFormat: 'envoy' });
    expect(reject(line({ foo: 1 }), envoy).reason).toBe('adapter_error');
    expect(reject('not json', envoy).reason).toBe('malformed_json');
  });

  it('handles CRLF line endings and a BOM', () => {
    expect(ing.ingestLine('\uFEFF' + line(gatewayEvent()) + '\r', ORIGIN).ok).toBe(true);
  });

  it('too deep nesting is too_large, not a crash', () => {
    const deep = '{"a":'.repeat(5000) + '1' + '}'.repeat(5000);
    expect(reject(line(gatewayEvent({ extra: 'PLACEHOLDER' })).replace('"PLACEHOLDER"', deep)).reason).toBe('too_large');
    expect(reject(deep).reason).toBe('unknown_format'); // no adapter recognises it
  });
});

describe('metrics', () => {
  it('counts received lines by source and format, redactions by kind and redacted events by observer', async () => {
    const metrics = createMetrics();
    const i = testIngestor({ metrics });
    i.ingestLine(line(gatewayEvent({ http: { method: 'GET', route: '/a', status: 200, path: `/a?access_token=${opaqueToken()}` }, auth: { result: 'ok', detail: mintJwt() } })), ORIGIN);
    i.ingestLine(line(gatewayEvent()), ORIGIN);
    const text = await metrics.registry.metrics();
    expect(text).toContain('authwatch_redactions_total{kind="param"} 1');
    expect(text).toContain('authwatch_redactions_total{kind="jwt"} 1');
    expect(text).toContain('authwatch_events_redacted_total{observer="edge-1"} 1');
    i.ingestLine('{oops', { source: 'http', name: 'c' });
    i.ingestLine('198.51.100.1 - - [14/Mar/2026:10:30:00 +0100] "GET / HTTP/1.1" 200 1 "-" "-"', { source: 'http', name: 'c' });
    const after = await metrics.registry.metrics();
    expect(after).toContain('authwatch_events_received_total{source="file",format="authwatch"} 2');
    expect(after).toContain('authwatch_events_received_total{source="http",format="unknown"} 1');
    expect(after).toContain('authwatch_events_received_total{source="http",format="nginx"} 1');
  });
});
