// The alert, action and decision routes through the real service (createApp → buildServer):
// real dev-issuer tokens, scopes enforced by the auth layer, the caller's client id in the audit.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJson, startService, type TestService } from '../auth/harness.js';
import { makeAlert } from '../store/helpers.js';

let svc: TestService;
beforeAll(async () => {
  svc = await startService({ 'bouncers.api_keys': ['e2e-bouncer-key-0123456789'] });
});
afterAll(async () => {
  await svc?.close();
});

describe('alerts/actions/decisions through buildServer', () => {
  it('enforces scopes with real bearer tokens and audits the token client id', async () => {
    const a = makeAlert({ group: { 'source.ip': '203.0.113.66' }, proposed: [{ action: 'block_ip', ttl: '1h', approval: 'required' }] });
    svc.app.store.saveAlerts([a]);
    const read = await svc.mint(['alerts:read'], { clientId: 'siem-reader' });
    const write = await svc.mint(['alerts:read', 'alerts:write', 'actions:read', 'actions:write'], { clientId: 'soc-bot' });

    expect((await getJson(`${svc.url}/v1/alerts`)).status).toBe(401);
    const list = await getJson(`${svc.url}/v1/alerts?group.source.ip=203.0.113.66`, { headers: { authorization: `Bearer ${read}` } });
    expect(list.status).toBe(200);
    expect(list.body.items.map((x: { id: string }) => x.id)).toEqual([a.id]);
    const denied = await getJson(`${svc.url}/v1/alerts/${a.id}/ack`, { method: 'POST', headers: { authorization: `Bearer ${read}`, 'content-type': 'application/json' }, body: '{}' });
    expect(denied.status).toBe(403);
    const ack = await getJson(`${svc.url}/v1/alerts/${a.id}/ack`, { method: 'POST', headers: { authorization: `Bearer ${write}`, 'content-type': 'application/json' }, body: '{"comment":"triage"}' });
    expect(ack.body.status).toBe('acknowledged');
    expect(svc.app.store.audit('alert', a.id).at(-1)).toMatchObject({ actor: 'soc-bot', op: 'ack', comment: 'triage' });

    const actions = await getJson(`${svc.url}/v1/actions?alert=${a.id}`, { headers: { authorization: `Bearer ${write}` } });
    const id = actions.body.items[0].id;
    const ap = await getJson(`${svc.url}/v1/actions/${id}/approve`, { method: 'POST', headers: { authorization: `Bearer ${write}`, 'content-type': 'application/json' }, body: '{}' });
    expect(ap.body.status).toBe('active');
    const dec = await getJson(`${svc.url}/v1/decisions`, { headers: { authorization: `Bearer ${write}` } });
    expect(dec.body.new.map((d: { target: string }) => d.target)).toEqual(['203.0.113.66']);
    const cs = await getJson(`${svc.url}/v1/decisions/stream?startup=true`, { headers: { 'x-api-key': 'e2e-bouncer-key-0123456789' } });
    expect(cs.status).toBe(200);
    expect(cs.body.new.map((d: { value: string }) => d.value)).toEqual(['203.0.113.66']);
    expect((await getJson(`${svc.url}/v1/decisions/stream?startup=true`, { headers: { 'x-api-key': 'wrong-key-wrong-key-wrong' } })).status).toBeGreaterThanOrEqual(401);
    const feed = await getJson(`${svc.url}/v1/alerts/feed?format=ecs`, { headers: { authorization: `Bearer ${read}` } });
    expect(feed.body.items.map((i: { change: string }) => i.change)).toEqual(['created', 'acknowledged']);
    expect(feed.body.items[0].alert.event.kind).toBe('alert');
    // the OpenAPI document describes the routes
    const doc = await getJson(`${svc.url}/openapi.json`);
    expect(Object.keys(doc.body.paths)).toEqual(expect.arrayContaining(['/v1/alerts', '/v1/alerts/feed', '/v1/actions', '/v1/decisions', '/v1/decisions/stream']));
  });
});
