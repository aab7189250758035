import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDbFile } from '../store/helpers.js';
import { call, startRoutes, type RoutesHarness } from './routes-harness.js';

const KEY_A = 'bouncer-a-' + 'a'.repeat(20);
const KEY_B = 'bouncer-b-' + 'b'.repeat(20);
let h: RoutesHarness;
let reader: Record<string, string>;
let writer: Record<string, string>;
const file = tempDbFile('aw-decisions-');

beforeAll(async () => {
  h = await startRoutes({ bouncerKeys: [KEY_A, KEY_B], file });
  reader = h.as('gateway', ['actions:read']);
  writer = h.as('soc', ['actions:write']);
});
afterAll(async () => {
  await h?.close();
});

const create = async (type: string, target: string) => (await call(`${h.url}/v1/actions`, { headers: writer, json: { type, target, ttl: '1h', reason: 'test' } })).body;

describe('GET /v1/decisions', () => {
  it('full state without a cursor, then new and deleted since the cursor, for every type', async () => {
    const ip = await create('block_ip', '192.0.2.10');
    const tok = await create('revoke_token', 'tfp_abcdefghijklmnopqrstuv');
    const full = await call(`${h.url}/v1/decisions`, { headers: reader });
    expect(full.status).toBe(200);
    expect(full.body.full).toBe(true);
    expect(full.body.new.map((d: { id: string }) => d.id).sort()).toEqual([ip.id, tok.id].sort());
    await call(`${h.url}/v1/actions/${ip.id}/lift`, { headers: writer, json: {} });
    const client = await create('disable_client', 'rogue');
    const delta = await call(`${h.url}/v1/decisions?cursor=${full.body.next_cursor}`, { headers: reader });
    expect(delta.body).toMatchObject({ full: false, more: false });
    expect(delta.body.new.map((d: { target: string }) => d.target)).toEqual(['rogue']);
    expect(delta.body.deleted.map((d: { target: string }) => d.target)).toEqual(['192.0.2.10']);
    const none = await call(`${h.url}/v1/decisions?cursor=${delta.body.next_cursor}`, { headers: reader });
    expect(none.body).toMatchObject({ new: [], deleted: [], next_cursor: delta.body.next_cursor });
    const onlyIp = await call(`${h.url}/v1/decisions?type=block_ip`, { headers: reader });
    expect(onlyIp.body.new).toEqual([]);
    expect(client.status).toBe('active');
    for (const bad of ['abc', '-1', '99999999']) {
      const r = await call(`${h.url}/v1/decisions?cursor=${bad}`, { headers: reader });
      expect(r.status, bad).toBe(400);
      expect(r.body.code).toBe('INVALID_CURSOR');
    }
    expect((await call(`${h.url}/v1/decisions`, { headers: h.as('x', ['alerts:read']) })).status).toBe(403);
  });
});

describe('GET /v1/decisions/stream (CrowdSec LAPI format)', () => {
  it('startup gives the active IP/range bans, then per-bouncer deltas with null for empty lists', async () => {
    expect((await call(`${h.url}/v1/decisions/stream?startup=true`)).status).toBe(403);
    expect((await call(`${h.url}/v1/decisions/stream?startup=true`, { headers: { 'x-api-key': 'wrong-key-wrong-key-wrong' } })).status).toBe(403);
    const range = await create('block_ip', '198.51.100.0/24');
    const start = await call(`${h.url}/v1/decisions/stream?startup=true`, { headers: { 'x-api-key': KEY_A } });
    expect(start.status).toBe(200);
    expect(start.body.deleted).toBeNull();
    const d = start.body.new.find((x: { value: string }) => x.value === '198.51.100.0/24');
    expect(d).toMatchObject({ origin: 'authwatch', scenario: 'manual', scope: 'Range', type: 'ban' });
    expect(typeof d.id).toBe('number');
    expect(d.duration).toMatch(/^(\d+h)?(\d+m)?[\d.]+s$/);
    expect(start.body.new.every((x: { value: string }) => x.value !== 'rogue' && !x.value.startsWith('tfp_'))).toBe(true);
    // nothing new since: both lists are null, as LAPI sends them
    const idle = await call(`${h.url}/v1/decisions/stream?startup=false`, { headers: { 'x-api-key': KEY_A } });
    expect(idle.text).toBe('{"new":null,"deleted":null}');
    const single = await create('block_ip', '203.0.113.99');
    await call(`${h.url}/v1/actions/${range.id}/lift`, { headers: writer, json: {} });
    const delta = await call(`${h.url}/v1/decisions/stream?startup=false&scopes=ip,range`, { headers: { 'x-api-key': KEY_A } });
    expect(delta.body.new.map((x: { value: string; scope: string }) => [x.value, x.scope])).toEqual([['203.0.113.99', 'Ip']]);
    expect(delta.body.deleted.map((x: { value: string }) => x.value)).toEqual(['198.51.100.0/24']);
    // bouncer B has never pulled: its first non-startup pull is the full state
    const b = await call(`${h.url}/v1/decisions/stream`, { headers: { 'x-api-key': KEY_B } });
    expect(b.body.new.map((x: { value: string }) => x.value)).toContain('203.0.113.99');
    expect(b.body.deleted).toBeNull();
    expect(single.status).toBe('active');
  });

  it('keeps each bouncer position across a restart of the service', async () => {
    await h.close();
    h = await startRoutes({ bouncerKeys: [KEY_A, KEY_B], file });
    writer = h.as('soc', ['actions:write']);
    await create('block_ip', '203.0.113.100');
    const r = await call(`${h.url}/v1/decisions/stream?startup=false`, { headers: { 'x-api-key': KEY_A } });
    expect(r.body.new.map((x: { value: string }) => x.value)).toEqual(['203.0.113.100']);
    expect(r.body.deleted).toBeNull();
  });
});
