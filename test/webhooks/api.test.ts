// Webhooks inside the running service: an ingested event becomes an alert, and its signed
// webhook reaches a real receiver (token canary redacted); the dead-letter list and manual
// replay over the API with scope webhooks:admin; SSRF refusal stops start-up.
import { afterEach, describe, expect, it } from 'vitest';
import { eventClock, getJson, startService, type TestService } from '../auth/harness.js';
import { startReceiver, TEST_SECRET, type Receiver } from './support/receiver.js';

let svc: TestService | null = null;
const receivers: Receiver[] = [];
afterEach(async () => {
  await svc?.close();
  svc = null;
  for (const r of receivers.splice(0)) await r.close();
});

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1600 && !cond(); i++) await new Promise((r) => setTimeout(r, 25));
  if (!cond()) throw new Error(`gave up waiting for ${what}`);
}

describe('webhooks in the service', { timeout: 60_000 }, () => {
  it('an ingested event → alert → signed webhook, with the raw token redacted and a link to the API', async () => {
    const rec = await startReceiver(TEST_SECRET, () => ({ status: 204 }));
    receivers.push(rec);
    svc = await startService({
      'webhooks.allow_private_targets': true,
      'webhooks.endpoints': [{ name: 'soar', url: rec.url, secret: TEST_SECRET, rules: ['alg-not-allowed'] }],
    });
    const clock = eventClock(svc.app);
    const canary = ['eyJhbGciOiJub25lIn0', Buffer.from('{"sub":"canary-webhook-9z"}').toString('base64url'), ''].join('.');
    const tok = await svc.mint(['events:write']);
    const ev = {
      time: clock.at(1),
      observer: { type: 'gateway', name: 'edge-wh-1' },
      source: { ip: '198.51.100.77' },
      http: { method: 'GET', route: '/api/orders', status: 401 },
      auth: { result: 'alg_not_allowed', scheme: 'bearer', detail: `rejected Bearer ${canary}` },
      token: { alg: 'none' },
    };
    const r = await getJson(svc.url + '/v1/events', { method: 'POST', headers: { authorization: `Bearer ${tok}`, 'content-type': 'application/json' }, body: JSON.stringify([ev]) });
    expect(r.status).toBe(200);
    clock.settle();
    await until(() => rec.received.length > 0, 'the webhook');
    const got = rec.received[0];
    expect(got.verified).toBe(true);
    expect(got.payload.type).toBe('alert.created');
    const data = got.payload.data as { id: string; rule: { name: string }; group: Record<string, string>; link: string };
    expect(data.rule.name).toBe('alg-not-allowed');
    expect(data.group).toEqual({ 'source.ip': '198.51.100.77' });
    expect(data.link).toBe(`${svc.url}/v1/alerts/${data.id}`);
    expect(got.body).not.toContain(canary);
    expect(got.body).not.toContain('canary-webhook-9z');
    expect(svc.logs.join('')).not.toContain(canary);
  });

  it('dead letters: 410 disables the endpoint; list needs webhooks:admin; replay re-delivers with the same webhook-id', async () => {
    let gone = true;
    const rec = await startReceiver(TEST_SECRET, () => ({ status: gone ? 410 : 200 }));
    receivers.push(rec);
    svc = await startService({
      'webhooks.allow_private_targets': true,
      'webhooks.endpoints': [{ name: 'old-soar', url: rec.url, secret: TEST_SECRET }],
    });
    const group = { 'source.ip': '203.0.113.99' };
    svc.app.store.saveAlerts([
      { id: 'al_test_dead_1', rule: { id: 'r1', name: 'oauth-401-burst', title: 'burst', level: 'high' }, group, count: 25, first_seen: '2026-01-01T00:00:00.000Z', last_seen: '2026-01-01T00:01:00.000Z', evidence: { event_ids: [], samples: [] }, status: 'open', proposed: [] },
    ]);
    await until(() => rec.received.length > 0, 'the first attempt');
    const admin = await svc.mint(['webhooks:admin']);
    const auth = { authorization: `Bearer ${admin}` };
    let list: Awaited<ReturnType<typeof getJson>> = await getJson(svc.url + '/v1/webhooks/deliveries?state=dead', { headers: auth });
    for (let i = 0; i < 800 && list.body?.items?.length !== 1; i++) {
      await new Promise((r) => setTimeout(r, 25));
      list = await getJson(svc.url + '/v1/webhooks/deliveries?state=dead', { headers: auth });
    }
    expect(list.status).toBe(200);
    expect(list.body.items).toHaveLength(1);
    const dead = list.body.items[0];
    expect(dead).toMatchObject({ endpoint: 'old-soar', state: 'dead', last_status: 410, event_type: 'alert.created' });
    expect(dead.payload.data.id).toBe('al_test_dead_1');

    // scopes: no token 401, wrong scope 403
    expect((await getJson(svc.url + '/v1/webhooks/deliveries?state=dead')).status).toBe(401);
    const reader = await svc.mint(['alerts:read']);
    const forbidden = await getJson(svc.url + '/v1/webhooks/deliveries?state=dead', { headers: { authorization: `Bearer ${reader}` } });
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.code).toBe('INSUFFICIENT_SCOPE');
    expect((await getJson(svc.url + `/v1/webhooks/deliveries/${dead.id}/replay`, { method: 'POST', headers: { authorization: `Bearer ${reader}` } })).status).toBe(403);

    // replay
    gone = false;
    const replay = await getJson(svc.url + `/v1/webhooks/deliveries/${dead.id}/replay`, { method: 'POST', headers: auth });
    expect(replay.status).toBe(200);
    expect(replay.body).toMatchObject({ id: dead.id, state: 'pending', attempts: 0 });
    await until(() => rec.received.length >= 2, 'the replayed delivery');
    expect(rec.received[1].id).toBe(rec.received[0].id);
    expect(rec.received[1].verified).toBe(true);
    await until(() => svc!.app.store.db.prepare("SELECT state FROM webhook_deliveries WHERE id = ?").pluck().get(dead.id) === 'delivered', 'delivered state');
    const one = await getJson(svc.url + `/v1/webhooks/deliveries/${dead.id}`, { headers: auth });
    expect(one.body.state).toBe('delivered');
    // replaying a delivered one is a conflict; an unknown id is 404
    expect((await getJson(svc.url + `/v1/webhooks/deliveries/${dead.id}/replay`, { method: 'POST', headers: auth })).status).toBe(409);
    expect((await getJson(svc.url + '/v1/webhooks/deliveries/msg_nope/replay', { method: 'POST', headers: auth })).status).toBe(404);
    expect((await getJson(svc.url + '/v1/webhooks/deliveries?state=bogus', { headers: auth })).status).toBe(400);
  });

  it('refuses to start with a webhook URL on loopback unless private targets are allowed', async () => {
    await expect(
      startService({ 'webhooks.endpoints': [{ name: 'x', url: 'http://127.0.0.1:9/hook', secret: TEST_SECRET }] }),
    ).rejects.toThrow(/loopback address/);
  });
});
