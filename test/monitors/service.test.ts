// The JWKS monitor inside the running service: gateway events ingested over HTTP feed the
// kid index through Pipeline.onEvent; a monitor round then tells stale caches from forged
// kids, and the alerts are served by the API like any other.
import { afterEach, describe, expect, it } from 'vitest';
import { getJson, startService, type TestService } from '../auth/harness.js';
import { makeKey, startJwksServer, type JwksServer } from './support/jwks-server.js';

let svc: TestService | null = null;
let srv: JwksServer | null = null;
afterEach(async () => {
  await svc?.close();
  await srv?.close();
  svc = null;
  srv = null;
});

describe('JWKS monitor in the service', () => {
  it('ingested unknown_kid rejections become stale-cache and forged-kid alerts in the API', async () => {
    srv = await startJwksServer([await makeKey('kid-live')]);
    svc = await startService({ idps: [{ name: 'corp', issuer: srv.issuer, jwks_uri: srv.jwksUrl }] });
    const writer = await svc.mint(['events:write']);
    const now = Date.now();
    const events = ['kid-live', 'kid-live', 'kid-evil', 'kid-evil', 'kid-evil'].map((kid, i) => ({
      time: new Date(now - 10_000 + i * 1000).toISOString(),
      observer: { type: 'gateway', name: 'edge-1' },
      source: { ip: `198.51.100.${10 + i}` },
      http: { method: 'GET', route: '/api/orders', status: 401 },
      auth: { result: 'unknown_kid', scheme: 'bearer' },
      token: { kid, iss: srv!.issuer, alg: 'ES256' },
    }));
    const r = await getJson(svc.url + '/v1/events', { method: 'POST', headers: { authorization: `Bearer ${writer}`, 'content-type': 'application/json' }, body: JSON.stringify(events) });
    expect(r.status).toBe(200);
    expect(r.body.accepted).toBe(5);

    const run = await svc.app.background.scheduler.runJob('jwks-monitor');
    expect(run).toMatchObject({ result: 'ok', summary: { idps: 1, failed: 0, alerts: 2 } });

    const reader = await svc.mint(['alerts:read']);
    const get = async (rule: string) => (await getJson(`${svc!.url}/v1/alerts?rule=${rule}`, { headers: { authorization: `Bearer ${reader}` } })).body.items;
    const stale = await get('jwks-stale-gateway-cache');
    expect(stale.map((a: { group: unknown; count: number }) => [a.group, a.count])).toEqual([[{ idp: 'corp', kid: 'kid-live' }, 2]]);
    const forged = await get('jwks-forged-kid');
    expect(forged.map((a: { group: unknown; count: number; rule: { level: string } }) => [a.group, a.count, a.rule.level])).toEqual([[{ idp: 'corp', kid: 'kid-evil' }, 3, 'high']]);
    expect(forged[0].evidence.event_ids).toHaveLength(3);
    // job metrics are exported
    const metrics = await (await fetch(svc.url + '/metrics')).text();
    expect(metrics).toMatch(/authwatch_job_runs_total\{job="jwks-monitor",result="ok"\} 1/);
    expect(metrics).toMatch(/authwatch_jwks_fetches_total\{idp="corp",result="ok"\} 1/);
  });
});
