// authwatch monitors its own API: bad tokens against it become authwatch events in its own
// pipeline, and the default rule pack turns a burst of them into an oauth-401-burst alert for
// the caller's address. The alert carries token fingerprints, never a token.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT, generateKeyPair } from 'jose';
import { randomUUID } from 'node:crypto';
import { getJson, startService, type TestService } from '../auth/harness.js';

let svc: TestService;

beforeAll(async () => {
  svc = await startService();
});
afterAll(async () => {
  await svc?.close();
});

async function forged(): Promise<string> {
  const { privateKey } = await generateKeyPair('ES256');
  const t = Math.floor(Date.now() / 1000);
  return new SignJWT({ client_id: 'intruder', scope: 'alerts:read' })
    .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'forged-kid' })
    .setIssuer(svc.app.auth.issuer())
    .setSubject('intruder')
    .setAudience('authwatch')
    .setIssuedAt(t)
    .setExpirationTime(t + 300)
    .setJti(randomUUID())
    .sign(privateKey);
}

describe('self-monitoring of API auth outcomes', () => {
  it('25 bad tokens from 127.0.0.1 raise oauth-401-burst for 127.0.0.1, with fingerprints and no token', async () => {
    const tokens: string[] = [];
    for (let i = 0; i < 25; i++) {
      const tok = await forged();
      tokens.push(tok);
      const r = await getJson(svc.url + '/v1/rules', { headers: { authorization: `Bearer ${tok}` } });
      expect(r.status).toBe(401);
    }
    // hand the queued events to the pipeline and let the watermark pass them
    svc.app.selfMonitor.flush();
    svc.app.pipeline.tick(Date.now() + 120_000);
    const alerts = svc.app.store.listAlerts({ rule: 'oauth-401-burst' }, 10).items;
    const mine = alerts.filter((a) => a.group['source.ip'] === '127.0.0.1');
    expect(mine).toHaveLength(1);
    expect(mine[0].count).toBeGreaterThanOrEqual(20);
    const sample = mine[0].evidence.samples[0] as Record<string, any>;
    expect(sample.observer).toMatchObject({ type: 'api', name: 'authwatch-api' });
    expect(sample.http).toMatchObject({ method: 'GET', route: '/v1/rules', status: 401 });
    expect(sample.auth.result).toBe('unknown_kid');
    expect(sample.token.kid).toBe('forged-kid');
    expect(sample.token.client_id).toBe('intruder');
    expect(tokens.map((t) => svc.app.fingerprint(t))).toContain(sample.token.fp);
    const everything = JSON.stringify(svc.app.store.listAlerts({}, 100).items);
    for (const t of tokens) {
      expect(everything).not.toContain(t);
      expect(everything).not.toContain(t.split('.')[2]);
    }
  });

  it('the alg-not-allowed rule fires on an alg "none" token sent to our API', async () => {
    const b = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const t = Math.floor(Date.now() / 1000);
    const token = `${b({ alg: 'none', typ: 'at+jwt' })}.${b({ iss: svc.app.auth.issuer(), sub: 'x', aud: 'authwatch', exp: t + 60, iat: t, jti: 'j', client_id: 'x', scope: 'rules:admin' })}.`;
    const r = await getJson(svc.url + '/v1/rules', { headers: { authorization: `Bearer ${token}` } });
    expect(r.status).toBe(401);
    svc.app.selfMonitor.flush();
    svc.app.pipeline.tick(Date.now() + 120_000);
    const alerts = svc.app.store.listAlerts({ rule: 'alg-not-allowed' }, 10).items;
    expect(alerts.map((a) => a.group['source.ip'])).toContain('127.0.0.1');
  });

  it('successful calls are recorded as auth.result ok with the client id and final status', async () => {
    const seen: Array<Record<string, any>> = [];
    const pipeline = svc.app.pipeline;
    const orig = pipeline.ingestObjects.bind(pipeline);
    pipeline.ingestObjects = (objs, origin, firstLine) => {
      if (origin.source === 'self') seen.push(...(objs as Array<Record<string, any>>));
      return orig(objs, origin, firstLine);
    };
    try {
      const tok = await svc.mint(['rules:admin'], { clientId: 'soc-dashboard' });
      expect((await getJson(svc.url + '/v1/rules', { headers: { authorization: `Bearer ${tok}` } })).status).toBe(200);
      svc.app.selfMonitor.flush();
      const ev = seen.find((e) => e.token?.client_id === 'soc-dashboard');
      expect(ev).toBeDefined();
      expect(ev!.auth).toMatchObject({ result: 'ok', scheme: 'bearer', required_scopes: ['rules:admin'] });
      expect(ev!.http).toMatchObject({ route: '/v1/rules', status: 200, route_class: 'restricted' });
      expect(ev!.token.fp).toBe(svc.app.fingerprint(tok));
      expect(ev!.token.alg).toBe('ES256');
      expect(JSON.stringify(seen)).not.toContain(tok);
    } finally {
      pipeline.ingestObjects = orig;
    }
  });
});
