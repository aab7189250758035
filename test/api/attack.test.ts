// Attacks on our own API's token checks, over real HTTP. Each answer is checked for its exact
// status, WWW-Authenticate header and a body that says no more than "invalid token"; the
// internal classification (what self-monitoring records) is checked through the metrics.
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { createHmac, randomUUID } from 'node:crypto';
import { ERROR_CODES } from '../../src/errors.js';
import { authCount, getJson, startService, type TestService } from '../auth/harness.js';

const INVALID = { code: 'INVALID_TOKEN', message: ERROR_CODES.INVALID_TOKEN.message };
const CHALLENGE = 'Bearer realm="authwatch"';
const CHALLENGE_INVALID = 'Bearer realm="authwatch", error="invalid_token"';

let svc: TestService;
let now: number;

function b64url(v: unknown): string {
  return Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
}

function claims(over: Record<string, unknown> = {}): Record<string, unknown> {
  now = Math.floor(Date.now() / 1000);
  const c: Record<string, unknown> = {
    iss: svc.app.auth.issuer(),
    sub: 'attacker',
    aud: 'authwatch',
    exp: now + 600,
    iat: now,
    jti: randomUUID(),
    client_id: 'attacker',
    scope: 'rules:admin events:write',
    ...over,
  };
  for (const k of Object.keys(c)) if (c[k] === undefined) delete c[k];
  return c;
}

/** Sign with the real dev issuer key, so only the one thing under test is wrong. */
function signDev(payload: Record<string, unknown>, header: Record<string, unknown> = {}): Promise<string> {
  const keys = svc.app.auth.devIssuer!;
  return new SignJWT(payload).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: keys.kid, ...header }).sign(keys.privateKey);
}

async function call(token: string | null, path = '/v1/rules', extraHeaders: Record<string, string> = {}) {
  const headers: Record<string, string> = { ...extraHeaders };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  return getJson(svc.url + path, { headers });
}

async function expectInvalid(token: string, result: string) {
  const before = await authCount(svc.app, result);
  const r = await call(token);
  expect(r.status).toBe(401);
  expect(r.headers.get('www-authenticate')).toBe(CHALLENGE_INVALID);
  expect(r.body).toEqual(INVALID);
  expect(await authCount(svc.app, result)).toBe(before + 1);
}

beforeAll(async () => {
  svc = await startService();
});
afterAll(async () => {
  await svc?.close();
});

describe('API attack suite (dev issuer, ES256)', () => {
  it('a valid token with the scope is accepted (control)', async () => {
    const r = await call(await signDev(claims()));
    expect(r.status).toBe(200);
    expect(Array.isArray(r.body.rules)).toBe(true);
  });

  it('no Authorization header: 401 with a bare challenge', async () => {
    const r = await call(null);
    expect(r.status).toBe(401);
    expect(r.headers.get('www-authenticate')).toBe(CHALLENGE);
    expect(r.body).toEqual({ code: 'UNAUTHORIZED', message: ERROR_CODES.UNAUTHORIZED.message });
  });

  it('another scheme (Basic) is no bearer credential: 401 with a bare challenge', async () => {
    const r = await getJson(svc.url + '/v1/rules', { headers: { authorization: 'Basic ' + Buffer.from('a:b').toString('base64') } });
    expect(r.status).toBe(401);
    expect(r.headers.get('www-authenticate')).toBe(CHALLENGE);
  });

  it('two Authorization headers: 400 invalid_request', async () => {
    const token = await signDev(claims());
    const { status, headers, body } = await new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
      const u = new URL(svc.url + '/v1/rules');
      const req = httpRequest({ host: u.hostname, port: u.port, path: u.pathname, method: 'GET' }, (res) => {
        let b = '';
        res.on('data', (c) => (b += c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: b }));
      });
      req.setHeader('Authorization', [`Bearer ${token}`, `Bearer ${token}`]);
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(400);
    expect(headers['www-authenticate']).toBe('Bearer realm="authwatch", error="invalid_request"');
    expect(JSON.parse(body).code).toBe('BAD_REQUEST');
  });

  it('header plus a token in a form body: 400 invalid_request', async () => {
    const token = await signDev(claims());
    const r = await getJson(svc.url + '/v1/rules/reload', {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: `access_token=${token}`,
    });
    expect(r.status).toBe(400);
    expect(r.headers.get('www-authenticate')).toBe('Bearer realm="authwatch", error="invalid_request"');
    expect(r.body.code).toBe('BAD_REQUEST');
  });

  it('header plus a token in the query string: 400 TOKEN_IN_QUERY', async () => {
    const token = await signDev(claims());
    const r = await call(token, `/v1/rules?access_token=${token}`);
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ code: 'TOKEN_IN_QUERY', message: ERROR_CODES.TOKEN_IN_QUERY.message });
  });

  it('a token only in the query string: 400 TOKEN_IN_QUERY', async () => {
    const token = await signDev(claims());
    const r = await call(null, `/v1/rules?access_token=${token}`);
    expect(r.status).toBe(400);
    expect(r.body.code).toBe('TOKEN_IN_QUERY');
  });

  it('malformed Authorization headers: 400 invalid_request, or 401 invalid_token for a non-JWT value', async () => {
    for (const h of ['Bearer', 'Bearer ', 'Bearer a b', 'Bearer  {json}']) {
      const r = await getJson(svc.url + '/v1/rules', { headers: { authorization: h } });
      expect(r.status, h).toBe(400);
      expect(r.headers.get('www-authenticate')).toBe('Bearer realm="authwatch", error="invalid_request"');
    }
    await expectInvalid('not-a-jwt', 'malformed_token');
    await expectInvalid('a.b.c', 'malformed_token');
  });

  it('alg "none" (unsigned): 401', async () => {
    const token = `${b64url({ alg: 'none', typ: 'at+jwt' })}.${b64url(claims())}.`;
    await expectInvalid(token, 'alg_not_allowed');
  });

  it('HS256 signed with our public key as the HMAC secret: 401', async () => {
    const pub = svc.app.auth.devIssuer!.jwks.keys[0];
    for (const secret of [JSON.stringify(pub), pub.x!]) {
      const head = b64url({ alg: 'HS256', typ: 'at+jwt', kid: pub.kid });
      const body = b64url(claims());
      const sig = createHmac('sha256', secret).update(`${head}.${body}`).digest('base64url');
      await expectInvalid(`${head}.${body}.${sig}`, 'alg_not_allowed');
    }
  });

  it('unknown kid (an attacker key): 401', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    const token = await new SignJWT(claims()).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'attacker-key' }).sign(privateKey);
    await expectInvalid(token, 'unknown_kid');
  });

  it('our kid, an attacker signature: 401', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    const token = await new SignJWT(claims()).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: svc.app.auth.devIssuer!.kid }).sign(privateKey);
    await expectInvalid(token, 'bad_signature');
  });

  it('jku / x5u / jwk headers are never fetched nor trusted', async () => {
    let hits = 0;
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const attackerJwk = { ...(await exportJWK(publicKey)), kid: 'evil', alg: 'ES256' };
    const evil: Server = createServer((_req, res) => {
      hits++;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [attackerJwk] }));
    });
    await new Promise<void>((r) => evil.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(evil.address() as AddressInfo).port}`;
    try {
      const sign = (h: Record<string, unknown>) => new SignJWT(claims()).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'evil', ...h }).sign(privateKey as CryptoKey);
      await expectInvalid(await sign({ jku: `${base}/jwks.json` }), 'malformed_token');
      await expectInvalid(await sign({ x5u: `${base}/cert.pem` }), 'malformed_token');
      await expectInvalid(await sign({ jwk: attackerJwk }), 'malformed_token');
      // Same with our own kid: the header alone gets the token refused.
      const ours = await signDev(claims(), { jku: `${base}/jwks.json` });
      await expectInvalid(ours, 'malformed_token');
      expect(hits).toBe(0);
    } finally {
      await new Promise((r) => evil.close(r));
    }
  });

  it('wrong or missing typ: 401', async () => {
    await expectInvalid(await signDev(claims(), { typ: 'JWT' }), 'wrong_type');
    await expectInvalid(await signDev(claims(), { typ: undefined }), 'wrong_type');
  });

  it('wrong issuer and wrong audience: 401', async () => {
    await expectInvalid(await signDev(claims({ iss: 'https://evil.example/' })), 'wrong_issuer');
    await expectInvalid(await signDev(claims({ aud: 'some-other-api' })), 'wrong_audience');
  });

  it('expired and not-yet-valid beyond the 60 s skew: 401; within the skew: accepted', async () => {
    const t = Math.floor(Date.now() / 1000);
    await expectInvalid(await signDev(claims({ iat: t - 900, exp: t - 120 })), 'expired');
    await expectInvalid(await signDev(claims({ nbf: t + 120 })), 'not_yet_valid');
    expect((await call(await signDev(claims({ iat: t - 900, exp: t - 20 })))).status).toBe(200);
    expect((await call(await signDev(claims({ nbf: t + 20 })))).status).toBe(200);
  });

  it('each RFC 9068 required claim missing: 401', async () => {
    for (const claim of ['iss', 'sub', 'aud', 'exp', 'iat', 'jti', 'client_id']) {
      const r = await call(await signDev(claims({ [claim]: undefined })));
      expect(r.status, claim).toBe(401);
      expect(r.body, claim).toEqual(INVALID);
      expect(r.headers.get('www-authenticate')).toBe(CHALLENGE_INVALID);
    }
  });

  it('an oversized token: 401 without being parsed', async () => {
    const big = await signDev(claims({ padding: 'x'.repeat(9000) }));
    expect(big.length).toBeGreaterThan(8192);
    await expectInvalid(big, 'malformed_token');
  });

  it('a valid token without the route scope: 403 insufficient_scope naming the scope', async () => {
    const before = await authCount(svc.app, 'insufficient_scope');
    const r = await call(await svc.mint(['events:write']));
    expect(r.status).toBe(403);
    expect(r.headers.get('www-authenticate')).toBe('Bearer realm="authwatch", error="insufficient_scope", scope="rules:admin"');
    expect(r.body).toEqual({ code: 'INSUFFICIENT_SCOPE', message: ERROR_CODES.INSUFFICIENT_SCOPE.message });
    expect(await authCount(svc.app, 'insufficient_scope')).toBe(before + 1);
  });

  it('public routes need no token; unknown routes are 404 without a challenge', async () => {
    expect((await getJson(svc.url + '/healthz')).status).toBe(200);
    const r = await getJson(svc.url + '/v1/nope');
    expect(r.status).toBe(404);
    expect(r.body).toEqual({ code: 'NOT_FOUND', message: ERROR_CODES.NOT_FOUND.message });
  });

  it('every refusal body has exactly the keys code and message', async () => {
    const spki = await exportSPKI((await generateKeyPair('ES256', { extractable: true })).publicKey);
    const r = await call(spki.replace(/\s/g, ''));
    expect(Object.keys(r.body).sort()).toEqual(['code', 'message']);
  });
});

describe('remote JWKS (oidc mode): warm cache keeps verifying, cold cache fails closed', () => {
  it('JWKS endpoint down: warm cache 200, cold cache 503 AUTH_UNAVAILABLE', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const jwk = { ...(await exportJWK(publicKey)), kid: 'idp-1', alg: 'ES256', use: 'sig' };
    let up = true;
    let fetches = 0;
    const idp: Server = createServer((_req, res) => {
      fetches++;
      if (!up) {
        res.statusCode = 503;
        res.end();
        return;
      }
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((r) => idp.listen(0, '127.0.0.1', r));
    const jwksUri = `http://127.0.0.1:${(idp.address() as AddressInfo).port}/jwks`;
    const issuer = 'https://idp.example.test/';
    const mint = () => {
      const t = Math.floor(Date.now() / 1000);
      return new SignJWT({ client_id: 'siem', scope: 'rules:admin' })
        .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'idp-1' })
        .setIssuer(issuer)
        .setSubject('siem')
        .setAudience('authwatch')
        .setIssuedAt(t)
        .setExpirationTime(t + 300)
        .setJti(randomUUID())
        .sign(privateKey);
    };
    const warm = await startService({ 'auth.mode': 'oidc', 'auth.issuer': issuer, 'auth.jwks_uri': jwksUri });
    try {
      const hdr = async () => ({ authorization: `Bearer ${await mint()}` });
      expect((await getJson(warm.url + '/v1/rules', { headers: await hdr() })).status).toBe(200);
      expect(fetches).toBe(1);
      up = false;
      expect((await getJson(warm.url + '/v1/rules', { headers: await hdr() })).status).toBe(200);
      // dev issuer is off in oidc mode
      expect((await getJson(warm.url + '/dev-issuer/jwks.json')).status).toBe(404);
    } finally {
      await warm.close();
    }
    // A fresh service that never fetched the keys, endpoint down: fail closed.
    const cold = await startService({ 'auth.mode': 'oidc', 'auth.issuer': issuer, 'auth.jwks_uri': jwksUri });
    try {
      const before = await authCount(cold.app, 'jwks_unavailable');
      const r = await getJson(cold.url + '/v1/rules', { headers: { authorization: `Bearer ${await mint()}` } });
      expect(r.status).toBe(503);
      expect(r.body).toEqual({ code: 'AUTH_UNAVAILABLE', message: ERROR_CODES.AUTH_UNAVAILABLE.message });
      expect(await authCount(cold.app, 'jwks_unavailable')).toBe(before + 1);
      // and with the endpoint unreachable altogether
      await new Promise((r2) => idp.close(r2));
      const r3 = await getJson(cold.url + '/v1/rules', { headers: { authorization: `Bearer ${await mint()}` } });
      expect(r3.status).toBe(503);
    } finally {
      await cold.close();
      idp.close();
    }
  });
});

describe('bouncer API key (CrowdSec decision stream)', () => {
  it('missing or wrong X-Api-Key: 403; the configured key: 200; bearer tokens do not open it', async () => {
    const key = 'bouncer-key-' + randomUUID();
    const b = await startService({ 'bouncers.api_keys': ['another-bouncer-key-0000', key] });
    try {
      const path = '/v1/decisions/stream?startup=true';
      const missing = await getJson(b.url + path);
      expect(missing.status).toBe(403);
      expect(missing.body).toEqual({ code: 'FORBIDDEN', message: ERROR_CODES.FORBIDDEN.message });
      for (const wrong of [key.slice(0, -1), key + 'x', key.toUpperCase(), 'x']) {
        const r = await getJson(b.url + path, { headers: { 'x-api-key': wrong } });
        expect(r.status, wrong).toBe(403);
        expect(r.body).toEqual({ code: 'FORBIDDEN', message: ERROR_CODES.FORBIDDEN.message });
      }
      const tok = await b.mint(['actions:read', 'actions:write', 'alerts:read']);
      expect((await getJson(b.url + path, { headers: { authorization: `Bearer ${tok}` } })).status).toBe(403);
      const ok = await getJson(b.url + path, { headers: { 'x-api-key': key } });
      expect(ok.status).toBe(200);
      expect(await authCount(b.app, 'ok')).toBeGreaterThanOrEqual(1);
      expect(await authCount(b.app, 'missing_token')).toBeGreaterThanOrEqual(2);
    } finally {
      await b.close();
    }
  });
});
