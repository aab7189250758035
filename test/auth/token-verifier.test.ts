// The token verifier on its own, with an injected clock: exact skew boundaries, algorithm
// pinning at configuration time, key sources (file, remote with bounded stale-if-error), and
// robustness of the unverified decoding used for self-monitoring.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JSONWebKeySet } from 'jose';
import { loadConfig } from '../../src/config/config.js';
import { createApiAuth } from '../../src/delivery/auth/api-auth.js';
import {
  AuthConfigError,
  assertSafeAlgorithms,
  createTokenVerifier,
  jwksFileKeySource,
  localKeySource,
  type KeySource,
  remoteKeySource,
  TokenRejected,
  tokenFacts,
} from '../../src/delivery/auth/token-verifier.js';

const ISS = 'https://issuer.test/';
const NOW = new Date('2026-06-01T12:00:00Z');
const T = Math.floor(NOW.getTime() / 1000);
const tmp = mkdtempSync(join(tmpdir(), 'aw-verifier-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function keyPair(kid: string): Promise<{ privateKey: CryptoKey; jwk: JWK }> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  return { privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256' } };
}

function sign(key: CryptoKey, kid: string, over: Record<string, unknown> = {}): Promise<string> {
  const c: Record<string, unknown> = { iss: ISS, sub: 's', aud: 'authwatch', exp: T + 300, iat: T, jti: randomUUID(), client_id: 'c', scope: 'a:b c:d', ...over };
  for (const k of Object.keys(c)) if (c[k] === undefined) delete c[k];
  return new SignJWT(c).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid }).sign(key);
}

async function rejection(p: Promise<unknown>): Promise<TokenRejected> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(TokenRejected);
    return err as TokenRejected;
  }
  throw new Error('expected a rejection');
}

describe('createTokenVerifier', () => {
  it('accepts exactly within the clock skew and refuses just beyond it', async () => {
    const { privateKey, jwk } = await keyPair('k1');
    const v = createTokenVerifier({ issuer: () => ISS, audience: 'authwatch', algorithms: ['ES256'], clockSkewSec: 60, maxTokenBytes: 8192, getKey: localKeySource({ keys: [jwk] }), now: () => NOW });
    const ok = await v.verify(await sign(privateKey, 'k1'));
    expect(ok).toMatchObject({ clientId: 'c', sub: 's', scopes: ['a:b', 'c:d'] });
    await expect(v.verify(await sign(privateKey, 'k1', { exp: T - 59 }))).resolves.toBeDefined();
    expect((await rejection(v.verify(await sign(privateKey, 'k1', { exp: T - 61 })))).result).toBe('expired');
    await expect(v.verify(await sign(privateKey, 'k1', { nbf: T + 60 }))).resolves.toBeDefined();
    expect((await rejection(v.verify(await sign(privateKey, 'k1', { nbf: T + 61 })))).result).toBe('not_yet_valid');
  });

  it('accepts an audience array containing ours; refuses a non-string scope claim', async () => {
    const { privateKey, jwk } = await keyPair('k1');
    const v = createTokenVerifier({ issuer: () => ISS, audience: 'authwatch', algorithms: ['ES256'], clockSkewSec: 0, maxTokenBytes: 8192, getKey: localKeySource({ keys: [jwk] }), now: () => NOW });
    await expect(v.verify(await sign(privateKey, 'k1', { aud: ['other', 'authwatch'] }))).resolves.toBeDefined();
    expect((await rejection(v.verify(await sign(privateKey, 'k1', { scope: ['a:b'] })))).result).toBe('malformed_token');
    expect((await rejection(v.verify(await sign(privateKey, 'k1', { client_id: 42 })))).result).toBe('malformed_token');
  });

  it('only asymmetric algorithms can be configured', async () => {
    for (const bad of [['none'], ['HS256'], ['ES256', 'HS512'], []]) expect(() => assertSafeAlgorithms(bad)).toThrow(AuthConfigError);
    expect(() => assertSafeAlgorithms(['ES256', 'RS256', 'EdDSA', 'PS256'])).not.toThrow();
    const cfg = loadConfig({ env: {}, overrides: { data_dir: tmp, 'auth.algorithms': ['ES256', 'HS256'] } });
    await expect(createApiAuth(cfg)).rejects.toThrow(/HS256/);
  });

  it('oidc mode needs an issuer and a key source', async () => {
    await expect(createApiAuth(loadConfig({ env: {}, overrides: { data_dir: tmp, 'auth.mode': 'oidc', 'auth.jwks_uri': 'http://127.0.0.1:1/jwks' } }))).rejects.toThrow(/auth.issuer/);
    await expect(createApiAuth(loadConfig({ env: {}, overrides: { data_dir: tmp, 'auth.mode': 'oidc', 'auth.issuer': ISS } }))).rejects.toThrow(/jwks_uri or auth.jwks_file/);
  });

  it('verifies against a local JWKS file; a missing file is a config error', async () => {
    const { privateKey, jwk } = await keyPair('file-key');
    const file = join(tmp, 'jwks.json');
    writeFileSync(file, JSON.stringify({ keys: [jwk] }));
    const v = createTokenVerifier({ issuer: () => ISS, audience: 'authwatch', algorithms: ['ES256'], clockSkewSec: 0, maxTokenBytes: 8192, getKey: jwksFileKeySource(file), now: () => NOW });
    await expect(v.verify(await sign(privateKey, 'file-key'))).resolves.toBeDefined();
    expect(() => jwksFileKeySource(join(tmp, 'missing.json'))).toThrow(AuthConfigError);
  });
});

describe('verified-token cache', () => {
  /** A key source over a replaceable JWKS that counts the key lookups (one per full verification). */
  function countingSource(initial: JSONWebKeySet) {
    const state = { jwks: initial, lookups: 0 };
    const getKey = ((header, token) => {
      state.lookups++;
      return createLocalJWKSet(state.jwks)(header, token);
    }) as KeySource;
    getKey.kids = () => new Set(state.jwks.keys.map((k) => k.kid as string));
    return { state, getKey };
  }

  async function setup(skew = 60, cache?: { max?: number; ttlMs?: number }) {
    const { privateKey, jwk } = await keyPair('k1');
    const { state, getKey } = countingSource({ keys: [jwk] });
    const clock = { t: NOW.getTime() };
    let issuer = ISS;
    const v = createTokenVerifier({ issuer: () => issuer, audience: 'authwatch', algorithms: ['ES256'], clockSkewSec: skew, maxTokenBytes: 8192, getKey, now: () => new Date(clock.t), cache });
    return { v, state, clock, privateKey, jwk, setIssuer: (i: string) => (issuer = i) };
  }

  it('a token verified once is served from the cache; another token is verified in full', async () => {
    const { v, state, privateKey } = await setup();
    const a = await sign(privateKey, 'k1');
    const first = await v.verify(a);
    expect(await v.verify(a)).toBe(first);
    expect(state.lookups).toBe(1);
    await v.verify(await sign(privateKey, 'k1'));
    expect(state.lookups).toBe(2);
    expect(v.cachedCount()).toBe(2);
  });

  it('an entry never outlives exp: past exp it is verified in full (accepted within skew), beyond skew refused', async () => {
    const { v, state, clock, privateKey } = await setup(60);
    const token = await sign(privateKey, 'k1', { exp: T + 30 });
    await v.verify(token);
    clock.t = (T + 29) * 1000;
    await v.verify(token);
    expect(state.lookups).toBe(1);
    clock.t = (T + 40) * 1000; // past exp, within the 60 s skew
    await expect(v.verify(token)).resolves.toBeDefined();
    expect(state.lookups).toBe(2);
    clock.t = (T + 30 + 61) * 1000; // beyond the skew: refused although it was cached before
    expect((await rejection(v.verify(token))).result).toBe('expired');
  });

  it('an entry is reused for at most the ttl', async () => {
    const { v, state, clock, privateKey } = await setup(0, { ttlMs: 60_000 });
    const token = await sign(privateKey, 'k1', { exp: T + 3600 });
    await v.verify(token);
    clock.t = NOW.getTime() + 59_999;
    await v.verify(token);
    expect(state.lookups).toBe(1);
    clock.t = NOW.getTime() + 60_000;
    await v.verify(token);
    expect(state.lookups).toBe(2);
  });

  it('a signing key removed from the key set stops its cached tokens at once', async () => {
    const { v, state, privateKey } = await setup();
    const token = await sign(privateKey, 'k1');
    await v.verify(token);
    state.jwks = { keys: [] };
    expect((await rejection(v.verify(token))).result).toBe('unknown_kid');
    expect(v.cachedCount()).toBe(0);
  });

  it('a changed issuer is a miss, checked in full', async () => {
    const { v, privateKey, setIssuer } = await setup();
    const token = await sign(privateKey, 'k1');
    await v.verify(token);
    setIssuer('https://other-issuer.test/');
    expect((await rejection(v.verify(token))).result).toBe('wrong_issuer');
  });

  it('is bounded: the least recently used entry goes first; refusals are never cached', async () => {
    const { v, state, privateKey } = await setup(60, { max: 2 });
    const [a, b, c] = await Promise.all([sign(privateKey, 'k1'), sign(privateKey, 'k1'), sign(privateKey, 'k1')]);
    await v.verify(a);
    await v.verify(b);
    await v.verify(a); // a is now the most recent
    await v.verify(c); // evicts b
    expect(v.cachedCount()).toBe(2);
    const before = state.lookups;
    await v.verify(a);
    expect(state.lookups).toBe(before);
    await v.verify(b);
    expect(state.lookups).toBe(before + 1);
    const bad = await sign(privateKey, 'k1', { aud: 'other' });
    await rejection(v.verify(bad));
    await rejection(v.verify(bad));
    expect(state.lookups).toBe(before + 3);
  });

  it('cache: false verifies every time', async () => {
    const { privateKey, jwk } = await keyPair('k1');
    const { state, getKey } = countingSource({ keys: [jwk] });
    const v = createTokenVerifier({ issuer: () => ISS, audience: 'authwatch', algorithms: ['ES256'], clockSkewSec: 0, maxTokenBytes: 8192, getKey, now: () => NOW, cache: false });
    const token = await sign(privateKey, 'k1');
    await v.verify(token);
    await v.verify(token);
    expect(state.lookups).toBe(2);
  });
});

describe('remote key source', () => {
  it('stale keys verify for a bounded time while the JWKS endpoint is down, then fail closed', async () => {
    const { privateKey, jwk } = await keyPair('r1');
    let up = true;
    const srv: Server = createServer((_req, res) => {
      if (!up) {
        res.statusCode = 500;
        return res.end();
      }
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    try {
      const uri = `http://127.0.0.1:${(srv.address() as AddressInfo).port}/jwks`;
      // cacheMaxAge 0: every verification refetches, so the stale path is exercised at once
      const getKey = remoteKeySource(uri, { cacheMaxAgeMs: 0, staleIfErrorMs: 300 });
      const v = createTokenVerifier({ issuer: () => ISS, audience: 'authwatch', algorithms: ['ES256'], clockSkewSec: 0, maxTokenBytes: 8192, getKey });
      const t = Math.floor(Date.now() / 1000);
      const token = await sign(privateKey, 'r1', { iat: t, exp: t + 300 });
      await expect(v.verify(token)).resolves.toBeDefined();
      up = false;
      await expect(v.verify(token)).resolves.toBeDefined();
      await new Promise((r) => setTimeout(r, 400));
      const rej = await rejection(v.verify(token));
      expect(rej.result).toBe('jwks_unavailable');
      expect(rej.status).toBe(503);
    } finally {
      await new Promise((r) => srv.close(r));
    }
  });
});

describe('tokenFacts (unverified, for self-monitoring)', () => {
  it('never throws, and truncates what it keeps to the event contract limits', () => {
    fc.assert(
      fc.property(fc.string(), fc.jsonValue(), fc.jsonValue(), (s, h, p) => {
        const enc = (v: unknown) => Buffer.from(JSON.stringify(v) ?? 'null').toString('base64url');
        for (const t of [s, `${enc(h)}.${enc(p)}.sig`, `${s}.${s}.${s}`]) {
          const f = tokenFacts(t);
          for (const v of Object.values(f)) if (typeof v === 'string') expect(v.length).toBeLessThanOrEqual(1024);
        }
      }),
      { numRuns: 300 },
    );
    const long = 'k'.repeat(5000);
    const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const f = tokenFacts(`${enc({ alg: 'ES256', kid: long })}.${enc({ iss: long, client_id: long, scope: 'a b', exp: 1.5 })}.x`);
    expect(f.kid).toHaveLength(256);
    expect(f.iss).toHaveLength(1024);
    expect(f.client_id).toHaveLength(512);
    expect(f.scopes).toEqual(['a', 'b']);
    expect(f.exp).toBeUndefined();
  });
});
