// Fuzzing the API over real HTTP: arbitrary bodies, content types, query strings and paths.
// The only acceptable answers are 2xx and 4xx; the server must still be alive afterwards.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_SCOPES, startService, type TestService } from '../auth/harness.js';

let svc: TestService;
let auth: Record<string, string>;
const statuses = new Map<number, number>();

beforeAll(async () => {
  svc = await startService({ 'http.body_limit_bytes': 64 * 1024, 'http.rate_limit.max': 1_000_000 });
  auth = { authorization: `Bearer ${await svc.mint(ALL_SCOPES)}` };
});
afterAll(async () => {
  await svc?.close();
});

async function status(path: string, init: RequestInit): Promise<number> {
  const res = await fetch(svc.url + path, init);
  await res.arrayBuffer();
  statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
  return res.status;
}

const eventish = fc.record(
  {
    time: fc.oneof(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), fc.string(), fc.integer()),
    observer: fc.oneof(fc.record({ type: fc.constantFrom('gateway', 'api', 'idp', 'x'), name: fc.string() }), fc.string()),
    source: fc.record({ ip: fc.oneof(fc.ipV4(), fc.ipV6(), fc.string()) }, { requiredKeys: [] }),
    http: fc.record({ method: fc.string(), route: fc.string(), status: fc.oneof(fc.integer(), fc.string()) }, { requiredKeys: [] }),
    auth: fc.record({ result: fc.oneof(fc.constantFrom('ok', 'expired', 'bad_signature'), fc.string()) }, { requiredKeys: [] }),
  },
  { requiredKeys: [] },
);

const bodies = fc.oneof(
  fc.string({ maxLength: 2000 }),
  fc.string({ unit: 'binary', maxLength: 2000 }),
  fc.uint8Array({ maxLength: 4000 }).map((a) => Buffer.from(a)),
  fc.array(eventish, { maxLength: 20 }).map((a) => JSON.stringify(a)),
  fc.array(eventish, { maxLength: 20 }).map((a) => a.map((e) => JSON.stringify(e)).join('\n')),
  fc.jsonValue({ maxDepth: 12 }).map((v) => JSON.stringify(v)),
  fc.constant('['.repeat(5000)),
  fc.constant('{"a":'.repeat(3000)),
);
const contentTypes = fc.constantFrom(
  'application/json',
  'application/x-ndjson',
  'text/plain',
  'text/plain; charset=latin1',
  'application/json; charset=utf-16',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/octet-stream',
  '',
  'garbage/;;;',
);
const queryish = fc.oneof(
  fc.string({ maxLength: 200 }).map((s) => encodeURIComponent(s)),
  fc.dictionary(fc.constantFrom('limit', 'cursor', 'status', 'level', 'rule', 'since', 'until', 'group', 'format', 'type', 'startup', 'x'), fc.string({ maxLength: 60 }), { maxKeys: 5 }).map((d) =>
    new URLSearchParams(d).toString(),
  ),
  fc.array(fc.constantFrom('limit=-1', 'limit=1e309', 'limit=99999999999', 'cursor=%00', 'since=not-a-date', 'status=open&status=open', 'group=a', '%%', '&&&', '=', 'a[b]=c'), { maxLength: 6 }).map((a) =>
    a.join('&'),
  ),
);

describe('fuzzed requests never produce a 5xx', () => {
  it('POST /v1/events with arbitrary bodies and content types', async () => {
    await fc.assert(
      fc.asyncProperty(bodies, contentTypes, async (body, ct) => {
        const headers: Record<string, string> = { ...auth };
        if (ct) headers['content-type'] = ct;
        const s = await status('/v1/events', { method: 'POST', headers, body });
        expect(s, `content-type ${ct}`).toBeLessThan(500);
      }),
      { numRuns: 150 },
    );
  }, 180_000);

  it('query strings on list and rules routes', async () => {
    const paths = ['/v1/rules', '/v1/alerts', '/v1/actions', '/v1/decisions', '/v1/alerts/feed', '/readyz', '/healthz'];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...paths), queryish, async (path, q) => {
        const s = await status(`${path}?${q}`, { headers: auth });
        expect(s, `${path}?${q}`).toBeLessThan(500);
      }),
      { numRuns: 200 },
    );
  }, 180_000);

  it('arbitrary paths and methods', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'),
        fc.array(fc.oneof(fc.string({ maxLength: 30 }).map(encodeURIComponent), fc.constantFrom('v1', 'alerts', 'actions', 'rules', 'reload', 'ack', '..', '%2e%2e')), { maxLength: 5 }),
        async (method, segs) => {
          const s = await status('/' + segs.join('/'), { method, headers: auth });
          expect(s, `${method} /${segs.join('/')}`).toBeLessThan(500);
        },
      ),
      { numRuns: 150 },
    );
  }, 180_000);

  it('the server is still alive and answering', async () => {
    const res = await fetch(svc.url + '/healthz');
    expect(res.status).toBe(200);
    expect([...statuses.keys()].every((s) => s < 500)).toBe(true);
    expect(statuses.get(200) ?? 0).toBeGreaterThan(0);
  });
});
