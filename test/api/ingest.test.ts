// POST /v1/events over real HTTP: NDJSON, JSON array and single object; mixed good and bad
// lines get per-line verdicts; good events reach the engine and their alerts the SQLite store;
// rejected lines land in the dead-letter table; an oversized body is 413 and the server stays up.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/errors.js';
import { eventClock, getJson, startService, type TestService } from '../auth/harness.js';

let svc: TestService;
let token: string;
let clock: ReturnType<typeof eventClock>;

const BODY_LIMIT = 256 * 1024;

function algEvent(ip: string, i = 0): Record<string, unknown> {
  return {
    time: clock.at(i),
    observer: { type: 'gateway', name: 'edge-test-1' },
    source: { ip },
    http: { method: 'GET', route: '/api/v1/orders/{id}', status: 401 },
    auth: { result: 'alg_not_allowed', scheme: 'bearer' },
    token: { alg: 'none' },
  };
}

async function post(body: string | Buffer, contentType: string, tok: string | null = token) {
  const headers: Record<string, string> = { 'content-type': contentType };
  if (tok) headers.authorization = `Bearer ${tok}`;
  return getJson(svc.url + '/v1/events', { method: 'POST', headers, body: typeof body === 'string' ? body : new Uint8Array(body) });
}

function algAlertIps(): string[] {
  clock.settle(); // the watermark passes every event stamped so far
  const page = svc.app.store.listAlerts({ rule: 'alg-not-allowed' }, 100);
  return page.items.map((a) => String(a.group['source.ip'])).sort();
}

beforeAll(async () => {
  svc = await startService({ 'http.body_limit_bytes': BODY_LIMIT });
  token = await svc.mint(['events:write']);
  clock = eventClock(svc.app);
});
afterAll(async () => {
  await svc?.close();
});

describe('POST /v1/events', () => {
  it('NDJSON with good and bad lines: per-line verdicts, good events alert, bad lines dead-lettered', async () => {
    const lines = [
      JSON.stringify(algEvent('198.51.100.1', 1)),
      '{"time": "2026-03-01T10:00:02Z", "observer": {', // malformed JSON
      JSON.stringify(algEvent('198.51.100.2', 3)),
      JSON.stringify({ ...algEvent('198.51.100.9', 4), auth: undefined }), // missing auth.result
      '\u0000\u0001\u0002\ufffd\ufffdgarbage\u0007',
      JSON.stringify({ ...algEvent('198.51.100.9', 5), pad: 'x'.repeat(70 * 1024) }), // over max_line_bytes
      '',
      JSON.stringify(algEvent('198.51.100.3', 6)),
    ];
    const r = await post(lines.join('\n') + '\n', 'application/x-ndjson');
    expect(r.status).toBe(200);
    expect(r.body.accepted).toBe(3);
    expect(r.body.rejected).toBe(4);
    expect(r.body.results_truncated).toBe(false);
    expect(r.body.results.map((x: { line: number }) => x.line)).toEqual([2, 4, 5, 6]);
    for (const x of r.body.results) {
      expect(x.status).toBe('rejected');
      expect(typeof x.reason).toBe('string');
      expect(typeof x.message).toBe('string');
    }
    const byLine = Object.fromEntries(r.body.results.map((x: { line: number; reason: string }) => [x.line, x.reason]));
    expect(byLine[2]).toBe('malformed_json');
    expect(byLine[4]).toBe('schema_violation');
    expect(byLine[6]).toBe('line_too_long');
    expect(algAlertIps()).toEqual(['198.51.100.1', '198.51.100.2', '198.51.100.3']);
    const dead = svc.app.store.rejections(100).filter((x) => x.source === 'http');
    expect(dead.map((x) => x.line).sort((a, b) => Number(a) - Number(b))).toEqual([2, 4, 5, 6]);
    expect(dead.every((x) => x.name === 'test-client')).toBe(true);
  });

  it('a JSON array: index + 1 is the line number', async () => {
    const r = await post(JSON.stringify([algEvent('198.51.100.4', 7), { nope: true }, 42, algEvent('198.51.100.5', 8)]), 'application/json');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ accepted: 2, rejected: 2 });
    expect(r.body.results.map((x: { line: number; reason: string }) => [x.line, x.reason])).toEqual([
      [2, 'unknown_format'],
      [3, 'not_an_object'],
    ]);
    expect(algAlertIps()).toContain('198.51.100.5');
  });

  it('a single JSON object, and text/plain NDJSON', async () => {
    const one = await post(JSON.stringify(algEvent('198.51.100.6', 9)), 'application/json; charset=utf-8');
    expect(one.body).toMatchObject({ accepted: 1, rejected: 0, results: [] });
    const plain = await post(JSON.stringify(algEvent('198.51.100.7', 10)), 'text/plain');
    expect(plain.body).toMatchObject({ accepted: 1, rejected: 0 });
    expect(algAlertIps()).toEqual(expect.arrayContaining(['198.51.100.6', '198.51.100.7']));
  });

  it('NDJSON sent as application/json is read line by line', async () => {
    const body = [algEvent('198.51.100.8', 11), algEvent('198.51.100.8', 12)].map((e) => JSON.stringify(e)).join('\n');
    const r = await post(body, 'application/json');
    expect(r.body).toMatchObject({ accepted: 2, rejected: 0 });
  });

  it('binary garbage as a whole body: rejected lines, never 500', async () => {
    const garbage = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256));
    const r = await post(garbage, 'application/x-ndjson');
    expect(r.status).toBe(200);
    expect(r.body.accepted).toBe(0);
    expect(r.body.rejected).toBeGreaterThan(0);
  });

  it('an empty body is an empty batch', async () => {
    const r = await post('', 'application/x-ndjson');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ accepted: 0, rejected: 0, results: [] });
  });

  it('a body over the limit: 413, and the server keeps serving', async () => {
    const line = JSON.stringify(algEvent('198.51.100.10', 13));
    const body = Array.from({ length: Math.ceil((BODY_LIMIT * 1.5) / line.length) }, () => line).join('\n');
    const r = await post(body, 'application/x-ndjson');
    expect(r.status).toBe(413);
    expect(r.body).toEqual({ code: 'PAYLOAD_TOO_LARGE', message: ERROR_CODES.PAYLOAD_TOO_LARGE.message });
    expect((await getJson(svc.url + '/healthz')).status).toBe(200);
    expect((await post(line, 'application/x-ndjson')).body.accepted).toBe(1);
  });

  it('unsupported content type: 415', async () => {
    const r = await post('<events/>', 'application/xml');
    expect(r.status).toBe(415);
    expect(r.body.code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('needs events:write: 401 without a token, 403 with another scope', async () => {
    const line = JSON.stringify(algEvent('198.51.100.11', 14));
    expect((await post(line, 'application/x-ndjson', null)).status).toBe(401);
    const r = await post(line, 'application/x-ndjson', await svc.mint(['alerts:read']));
    expect(r.status).toBe(403);
    expect(r.headers.get('www-authenticate')).toContain('scope="events:write"');
  });

  it('many bad lines: counted in full, listed up to the cap', async () => {
    const body = Array.from({ length: 1500 }, () => 'not json').join('\n');
    const r = await post(body, 'application/x-ndjson');
    expect(r.status).toBe(200);
    expect(r.body.rejected).toBe(1500);
    expect(r.body.results).toHaveLength(1000);
    expect(r.body.results_truncated).toBe(true);
  });
});
