// Canary tokens: tokens sent to the API in every place a client can put one (Authorization,
// other headers, query strings, paths, form and JSON bodies, ingested events) must never come
// back in any response body or header, nor appear in the log output or the store.
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT, generateKeyPair } from 'jose';
import { ALL_SCOPES, eventClock, startService, type TestService } from '../auth/harness.js';

let svc: TestService;
const seen: string[] = []; // every response status line, header and body

async function forgedJwt(): Promise<string> {
  const { privateKey } = await generateKeyPair('ES256');
  const t = Math.floor(Date.now() / 1000);
  return new SignJWT({ client_id: 'canary', scope: ALL_SCOPES.join(' '), note: randomUUID() })
    .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'canary-kid' })
    .setIssuer('https://canary.example/')
    .setSubject('canary')
    .setAudience('authwatch')
    .setIssuedAt(t)
    .setExpirationTime(t + 300)
    .setJti(randomUUID())
    .sign(privateKey);
}

async function send(path: string, init: RequestInit = {}): Promise<number> {
  const res = await fetch(svc.url + path, init);
  const body = await res.text();
  const headers = [...res.headers.entries()].map(([k, v]) => `${k}: ${v}`).join('\n');
  seen.push(`${res.status}\n${headers}\n${body}`);
  return res.status;
}

/** What must never leak: the whole token and its signature (unique to the token). */
function needles(token: string): string[] {
  const parts = token.split('.');
  return parts.length === 3 ? [token, parts[2]] : [token];
}

beforeAll(async () => {
  svc = await startService();
});
afterAll(async () => {
  await svc?.close();
});

describe('canary tokens never leak', () => {
  it('through responses, logs or the store', async () => {
    const valid = await svc.mint(ALL_SCOPES, { clientId: 'canary-client' });
    const forged = await forgedJwt();
    const opaque = 'cnry_' + randomBytes(24).toString('hex');
    const refresh = 'rt_' + randomBytes(24).toString('base64url');
    const canaries = [valid, forged, opaque, refresh];
    const auth = { authorization: `Bearer ${valid}` };
    const clock = eventClock(svc.app);

    // Authorization header: valid, forged, opaque, oversized
    await send('/v1/rules', { headers: auth });
    await send('/v1/rules', { headers: { authorization: `Bearer ${forged}` } });
    await send('/v1/rules', { headers: { authorization: `Bearer ${opaque}` } });
    await send('/v1/rules', { headers: { authorization: `Bearer ${forged}${'A'.repeat(9000)}` } });
    await send('/v1/rules', { headers: { authorization: `Basic ${Buffer.from('svc:' + opaque).toString('base64')}` } });
    // other headers
    await send('/v1/rules', { headers: { ...auth, cookie: `session=${forged}`, 'x-api-key': opaque, 'x-forwarded-authorization': `Bearer ${forged}` } });
    await send('/v1/decisions/stream', { headers: { 'x-api-key': opaque } });
    // query strings and paths
    await send(`/v1/rules?access_token=${valid}`);
    await send(`/v1/rules?access_token=${forged}`, { headers: auth });
    await send(`/v1/rules?token=${forged}&refresh_token=${refresh}`, { headers: auth });
    await send(`/v1/${forged}?code=${opaque}`, { headers: auth });
    await send(`/healthz?access_token=${opaque}`);
    // form and JSON bodies, content-type
    await send('/v1/rules/reload', { method: 'POST', headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' }, body: `access_token=${forged}&client_secret=${opaque}` });
    await send('/v1/rules/reload', { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: `{"token": "${forged}", ` });
    await send('/v1/events', { method: 'POST', headers: { ...auth, 'content-type': `application/${forged}` }, body: 'x' });
    // ingested events with tokens in every field a gateway might put one
    const ev = (i: number) => ({
      time: clock.at(i),
      observer: { type: 'gateway', name: 'edge-canary' },
      source: { ip: '203.0.113.50', user_agent: `curl Bearer ${forged}` },
      http: { method: 'GET', route: '/api/{x}', path: `/api/${forged}?access_token=${opaque}&refresh_token=${refresh}`, status: 401 },
      auth: { result: 'bad_signature', scheme: 'bearer', detail: `rejected token ${valid}` },
      headers: { Authorization: `Bearer ${forged}` },
      extra: { nested: { deeper: [`id_token=${forged}`, { client_secret: opaque }] } },
    });
    await send('/v1/events', { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify([ev(1), ev(2), { time: forged }]) });
    const ndjson = [JSON.stringify(ev(3)), `{"broken": "${forged}`, `not json Bearer ${opaque}`, JSON.stringify({ ...ev(4), time: `${forged}` })].join('\n');
    await send('/v1/events', { method: 'POST', headers: { ...auth, 'content-type': 'application/x-ndjson' }, body: ndjson });
    // alerts and actions routes: tokens in filters, ids, cursors and action bodies
    await send(`/v1/alerts?rule=${forged}&cursor=${forged}`, { headers: auth });
    await send(`/v1/alerts/${forged}`, { headers: auth });
    await send(`/v1/alerts/${forged.slice(0, 60)}%zz${forged}`, { headers: auth }); // bad percent-encoding
    await send(`/v1/alerts/${forged}/ack`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ comment: `see ${valid}` }) });
    await send('/v1/actions', { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ type: 'revoke_token', target: forged, ttl: '1h', reason: `token ${valid}` }) });
    await send('/v1/actions', { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ type: 'block_ip', target: '203.0.113.50', ttl: '1h', reason: `seen with Bearer ${forged}` }) });

    svc.app.selfMonitor.flush();
    clock.settle();
    for (const fmt of ['json', 'ocsf', 'ecs', 'cef']) await send(`/v1/alerts?format=${fmt}`, { headers: auth });
    await send('/v1/alerts/feed', { headers: auth });
    await send('/v1/actions', { headers: auth });
    await send('/v1/decisions', { headers: auth });
    await send('/openapi.json');
    await send('/metrics');
    const stored = JSON.stringify([svc.app.store.listAlerts({}, 500).items, svc.app.store.rejections(500), svc.app.store.audit(undefined, undefined, 500)]);
    const metricsText = await svc.app.metrics.registry.metrics();
    expect(seen.length).toBe(32);
    expect(svc.logs.length).toBeGreaterThan(0);
    for (const c of canaries) {
      for (const n of needles(c)) {
        for (const r of seen) expect(r.includes(n), `response leaked ${n.slice(0, 12)}…: ${r.slice(0, 200)}`).toBe(false);
        for (const l of svc.logs) expect(l.includes(n), `log leaked ${n.slice(0, 12)}…: ${l.slice(0, 300)}`).toBe(false);
        expect(stored.includes(n), 'store leaked').toBe(false);
        expect(metricsText.includes(n), 'metrics leaked').toBe(false);
      }
    }
    // and the stored rows did keep evidence of what happened (fingerprints, not tokens)
    expect(stored).toContain('tfp_');
  });
});
