import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeAlert } from '../store/helpers.js';
import { call, startRoutes, type RoutesHarness } from './routes-harness.js';

let h: RoutesHarness;
let reader: Record<string, string>;
let writer: Record<string, string>;

beforeAll(async () => {
  h = await startRoutes();
  reader = h.as('gateway-1', ['actions:read']);
  writer = h.as('soc-analyst', ['actions:read', 'actions:write']);
});
afterAll(async () => {
  await h?.close();
});

describe('/v1/actions', () => {
  it('creates, lists with filters and cursor, gets, approves, rejects and lifts with an audit trail', async () => {
    expect((await call(`${h.url}/v1/actions`, { headers: reader, json: { type: 'block_ip', target: '192.0.2.1', ttl: '1h', reason: 'x' } })).status).toBe(403);
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      const r = await call(`${h.url}/v1/actions`, { headers: writer, json: { type: 'block_ip', target: `192.0.2.${i}`, ttl: '1h', reason: `probe ${i}`, approval: i % 2 ? 'required' : 'auto' } });
      expect(r.status).toBe(201);
      expect(r.body).toMatchObject({ type: 'block_ip', target: `192.0.2.${i}`, status: i % 2 ? 'proposed' : 'active', alert: null, scenario: 'manual' });
      ids.push(r.body.id);
    }
    const seen: string[] = [];
    let cursor = '';
    for (let i = 0; i < 10; i++) {
      const r = await call(`${h.url}/v1/actions?limit=3${cursor ? `&cursor=${cursor}` : ''}`, { headers: reader });
      seen.push(...r.body.items.map((a: { id: string }) => a.id));
      if (!r.body.next_cursor) break;
      cursor = r.body.next_cursor;
    }
    expect(seen).toEqual([...ids].reverse());
    const proposed = await call(`${h.url}/v1/actions?status=proposed`, { headers: reader });
    expect(proposed.body.items).toHaveLength(3);
    expect((await call(`${h.url}/v1/actions?type=revoke_token`, { headers: reader })).body.items).toEqual([]);
    expect((await call(`${h.url}/v1/actions/${ids[1]}`, { headers: reader })).body.status).toBe('proposed');
    expect((await call(`${h.url}/v1/actions/ac_nope`, { headers: reader })).status).toBe(404);

    const ap = await call(`${h.url}/v1/actions/${ids[1]}/approve`, { headers: writer, json: { comment: 'seen in logs' } });
    expect(ap.body.status).toBe('active');
    expect(Date.parse(ap.body.expires_at) - Date.now()).toBeGreaterThan(3_500_000);
    expect((await call(`${h.url}/v1/actions/${ids[3]}/reject`, { method: 'POST', headers: writer })).body.status).toBe('rejected');
    expect((await call(`${h.url}/v1/actions/${ids[0]}/lift`, { headers: writer, json: {} })).body.status).toBe('lifted');
    const conflict = await call(`${h.url}/v1/actions/${ids[0]}/lift`, { headers: writer, json: {} });
    expect(conflict.status).toBe(409);
    expect(conflict.body.code).toBe('CONFLICT');
    expect(h.store.audit('action', ids[1]).map((e) => [e.actor, e.op, e.comment])).toEqual([
      ['soc-analyst', 'create', 'probe 1'],
      ['soc-analyst', 'approve', 'seen in logs'],
    ]);
  });

  it('refuses a raw token as a revoke target without echoing or storing it', async () => {
    const canary = ['eyJhbGciOiJSUzI1NiIsInR5cCI6ImF0K2p3dCJ9', Buffer.from(JSON.stringify({ sub: 'canary', jti: String(Math.random()) })).toString('base64url'), 'c2lnbmF0dXJl'].join('.');
    for (const target of [canary, `Bearer ${canary}`]) {
      const r = await call(`${h.url}/v1/actions`, { headers: writer, json: { type: 'revoke_token', target, ttl: '1h', reason: 'leaked' } });
      expect(r.status).toBe(400);
      expect(r.body.code).toBe('VALIDATION_FAILED');
      expect(r.body.message).toMatch(/raw token/);
      expect(r.text).not.toContain(canary.split('.')[1]);
    }
    const dump = JSON.stringify(h.store.db.prepare('SELECT * FROM actions').all()) + JSON.stringify(h.store.db.prepare('SELECT * FROM audit_log').all());
    expect(dump).not.toContain(canary.split('.')[1]);
    const ok = await call(`${h.url}/v1/actions`, { headers: writer, json: { type: 'revoke_token', target: 'tfp_0123456789abcdefghijkl', ttl: '2h', reason: 'leaked' } });
    expect(ok.status).toBe(201);
  });

  it('rejects malformed bodies with 4xx, never 5xx', async () => {
    const bodies: unknown[] = [
      {},
      { type: 'nuke', target: 'x', ttl: '1h', reason: 'x' },
      { type: 'block_ip', target: 'not-an-ip', ttl: '1h', reason: 'x' },
      { type: 'block_ip', target: '10.0.0.0/4', ttl: '1h', reason: 'x' },
      { type: 'block_ip', target: '192.0.2.200', ttl: '-1h', reason: 'x' },
      { type: 'block_ip', target: '192.0.2.200', ttl: '999d', reason: 'x' },
      { type: 'disable_client', target: 'has space', ttl: '1h', reason: 'x' },
      { type: 'block_ip', target: ['192.0.2.1'], ttl: '1h', reason: 'x' },
      [1, 2, 3],
      'string',
      null,
    ];
    for (const b of bodies) {
      const r = await call(`${h.url}/v1/actions`, { headers: writer, json: b });
      expect(r.status, JSON.stringify(b)).toBeGreaterThanOrEqual(400);
      expect(r.status, JSON.stringify(b)).toBeLessThan(500);
    }
    const raw = await fetch(`${h.url}/v1/actions`, { method: 'POST', headers: { ...writer, 'content-type': 'application/json' }, body: '{"type":' });
    expect(raw.status).toBe(400);
  });

  it('lists the actions a rule proposed for an alert', async () => {
    const a = makeAlert({ group: { 'source.ip': '203.0.113.77' }, proposed: [{ action: 'block_ip', ttl: '1h', approval: 'required' }] });
    h.store.saveAlerts([a]);
    const r = await call(`${h.url}/v1/actions?alert=${a.id}`, { headers: reader });
    expect(r.body.items).toHaveLength(1);
    expect(r.body.items[0]).toMatchObject({ target: '203.0.113.77', status: 'proposed', alert: a.id, scenario: 'token-spray', approval: 'required' });
    const one = await call(`${h.url}/v1/alerts/${a.id}`, { headers: h.as('siem', ['alerts:read']) });
    expect(one.body.actions).toEqual([{ id: r.body.items[0].id, type: 'block_ip', target: '203.0.113.77', status: 'proposed', expires_at: null }]);
  });
});
