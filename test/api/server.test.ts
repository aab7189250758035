// The service's operational surface and error mapping, over real HTTP on loopback: health,
// readiness, metrics, OpenAPI + docs, dev issuer endpoints, rate limits with Retry-After,
// fail-closed routes, and errors that never show internals.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildServer } from '../../src/delivery/api/server.js';
import { ERROR_CODES } from '../../src/errors.js';
import { ALL_SCOPES, getJson, startService, type TestService } from '../auth/harness.js';

let svc: TestService;

beforeAll(async () => {
  svc = await startService();
});
afterAll(async () => {
  await svc?.close();
});

describe('operations endpoints', () => {
  it('/healthz and /readyz', async () => {
    expect((await getJson(svc.url + '/healthz')).body).toEqual({ status: 'ok' });
    const r = await getJson(svc.url + '/readyz');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ status: 'ready', checks: { store: true, rules: true } });
  });

  it('/metrics exposes request metrics by route template', async () => {
    const tok = await svc.mint(['rules:admin']);
    await getJson(svc.url + '/v1/rules', { headers: { authorization: `Bearer ${tok}` } });
    const res = await fetch(svc.url + '/metrics');
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(text).toMatch(/authwatch_http_requests_total\{route="\/v1\/rules",method="GET",status="200"\} \d+/);
    expect(text).toContain('authwatch_http_request_duration_seconds_bucket');
    expect(text).toMatch(/authwatch_api_auth_total\{result="ok"\} \d+/);
  });

  it('/openapi.json documents routes with their scopes; /docs serves the UI', async () => {
    const doc = (await getJson(svc.url + '/openapi.json')).body;
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.paths['/v1/events'].post.security).toEqual([{ bearer: ['events:write'] }]);
    expect(doc.paths['/v1/rules'].get.security).toEqual([{ bearer: ['rules:admin'] }]);
    expect(doc.paths['/healthz'].get.security).toBeUndefined();
    const ui = await fetch(svc.url + '/docs');
    expect(ui.status).toBe(200);
    expect(await ui.text()).toMatch(/swagger/i);
  });

  it('the dev issuer publishes its JWKS and discovery document; minted tokens verify against them', async () => {
    const disc = (await getJson(svc.url + '/dev-issuer/.well-known/openid-configuration')).body;
    expect(disc.issuer).toBe(svc.app.auth.issuer());
    expect(disc.issuer).toBe(`${svc.url}/dev-issuer`);
    const jwks = (await getJson(svc.url + '/dev-issuer/jwks.json')).body;
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0].d).toBeUndefined(); // public only
    const token = await svc.mint(['alerts:read']);
    const { payload, protectedHeader } = await jwtVerify(token, createRemoteJWKSet(new URL(disc.jwks_uri)), { issuer: disc.issuer, audience: 'authwatch' });
    expect(protectedHeader.typ).toBe('at+jwt');
    expect(payload).toMatchObject({ client_id: 'test-client', scope: 'alerts:read' });
    for (const c of ['iss', 'sub', 'aud', 'exp', 'iat', 'jti', 'client_id']) expect(payload[c]).toBeDefined();
  });

  it('readyz answers 503 NOT_READY with no rules loaded', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'aw-norules-'));
    const other = await startService({ 'rules.dir': empty });
    try {
      const r = await getJson(other.url + '/readyz');
      expect(r.status).toBe(503);
      expect(r.body.code).toBe('NOT_READY');
      expect((await getJson(other.url + '/healthz')).status).toBe(200);
    } finally {
      await other.close();
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('readyz answers 503 NOT_READY once the store is closed', async () => {
    const other = await startService();
    try {
      other.app.store.close();
      const r = await getJson(other.url + '/readyz');
      expect(r.status).toBe(503);
      expect(r.body.code).toBe('NOT_READY');
    } finally {
      await other.close();
    }
  });
});

describe('router-level refusals', () => {
  it('an over-long path parameter is 404 and a bad percent-encoding 400, both without echoing the path', async () => {
    const tok = { authorization: `Bearer ${await svc.mint(['alerts:read'])}` };
    const long = await getJson(svc.url + '/v1/alerts/' + 'x'.repeat(300), { headers: tok });
    expect(long.status).toBe(404);
    expect(long.body).toEqual({ code: 'NOT_FOUND', message: ERROR_CODES.NOT_FOUND.message });
    const bad = await getJson(svc.url + '/v1/alerts/abc%zzdef', { headers: tok });
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual({ code: 'BAD_REQUEST', message: ERROR_CODES.BAD_REQUEST.message });
  });
});

describe('rate limits', () => {
  it('429 with Retry-After, counted per client id once authenticated', async () => {
    const limited = await startService({ 'http.rate_limit.max': 3, 'http.rate_limit.window': '1m' });
    try {
      const a = { authorization: `Bearer ${await limited.mint(ALL_SCOPES, { clientId: 'client-a' })}` };
      const b = { authorization: `Bearer ${await limited.mint(ALL_SCOPES, { clientId: 'client-b' })}` };
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await getJson(limited.url + '/v1/rules', { headers: a })).status);
      expect(statuses).toEqual([200, 200, 200, 429]);
      const r = await getJson(limited.url + '/v1/rules', { headers: a });
      expect(r.status).toBe(429);
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(r.body).toEqual({ code: 'RATE_LIMITED', message: ERROR_CODES.RATE_LIMITED.message });
      // another client has its own budget
      expect((await getJson(limited.url + '/v1/rules', { headers: b })).status).toBe(200);
    } finally {
      await limited.close();
    }
  });
});

describe('failed-credential limit per address', () => {
  it('past the budget of failed checks an address gets 429 before any verification', async () => {
    const limited = await startService({ 'http.rate_limit.max': 3, 'http.rate_limit.window': '1m' });
    try {
      const bad = { authorization: 'Bearer not.a.token' };
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await getJson(limited.url + '/v1/rules', { headers: bad })).status);
      expect(statuses).toEqual([401, 401, 401, 429]);
      const good = await getJson(limited.url + '/v1/rules', { headers: { authorization: `Bearer ${await limited.mint(['rules:admin'])}` } });
      expect(good.status).toBe(429);
      expect(Number(good.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(good.body).toEqual({ code: 'RATE_LIMITED', message: ERROR_CODES.RATE_LIMITED.message });
      // public routes stay reachable
      expect((await getJson(limited.url + '/healthz')).status).toBe(200);
    } finally {
      await limited.close();
    }
  });
});

describe('fail-closed routes and error mapping', () => {
  it('a route without an access rule is refused; errors show no internals', async () => {
    const fakeToken = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJsZWFrIn0.c2lnbmF0dXJlLWxlYWs';
    const { app } = await buildServer(
      { config: svc.app.config, logger: svc.app.logger, metrics: svc.app.metrics, store: svc.app.store, pipeline: svc.app.pipeline, rules: svc.app.rules },
      { auth: svc.app.auth, fingerprint: svc.app.fingerprint, selfMonitor: null },
    );
    app.get('/no-access', async () => ({ secret: 'should never be served' }));
    app.get('/boom', { config: { access: 'public' } }, async () => {
      throw new Error(`database exploded near ${fakeToken} at /var/lib/secret`);
    });
    app.get(
      '/typed',
      { config: { access: 'public' }, schema: { querystring: { type: 'object', properties: { limit: { type: 'integer', minimum: 1 } } } } },
      async () => ({ ok: true }),
    );
    await app.listen({ host: '127.0.0.1', port: 0 });
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const logsBefore = svc.logs.length;
    try {
      const denied = await getJson(base + '/no-access');
      expect(denied.status).toBe(403);
      expect(denied.body).toEqual({ code: 'FORBIDDEN', message: ERROR_CODES.FORBIDDEN.message });
      const boom = await getJson(base + '/boom');
      expect(boom.status).toBe(500);
      expect(boom.body).toEqual({ code: 'INTERNAL', message: ERROR_CODES.INTERNAL.message });
      const bad = await getJson(base + '/typed?limit=abc');
      expect(bad.status).toBe(400);
      expect(bad.body.code).toBe('VALIDATION_FAILED');
      expect(bad.body.message).toContain('limit');
      const inf = await getJson(base + '/typed?limit=1e309');
      expect(inf.status).toBe(400);
      expect(inf.body.code).toBe('VALIDATION_FAILED');
      const badJson = await getJson(base + '/typed', { method: 'POST', headers: { 'content-type': 'application/json' }, body: `{"x": "${fakeToken}` });
      expect([404, 400]).toContain(badJson.status);
      expect(badJson.text).not.toContain(fakeToken);
      const newLogs = svc.logs.slice(logsBefore).join('');
      expect(newLogs).toContain('request failed');
      expect(newLogs).not.toContain(fakeToken);
    } finally {
      await app.close();
    }
  });
});
