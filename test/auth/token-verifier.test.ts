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
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { loadConfig } from '../../src/config/config.js';
import { createApiAuth } from '../../src/delivery/auth/api-auth.js';
import {
  AuthConfigError,
  assertSafeAlgorithms,
  createTokenVerifier,
  jwksFileKeySource,
  localKeySource,
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
