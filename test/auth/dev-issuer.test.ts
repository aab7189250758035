// The embedded dev issuer: one key per data dir even when several processes start at once,
// private key file 0600, public-only JWKS, RFC 9068 tokens, and the issuer the service recorded.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { loadConfig } from '../../src/config/config.js';
import {
  DevIssuerError,
  devIssuerDir,
  loadDevIssuerKeys,
  mintAccessToken,
  recordDevIssuer,
  resolveDevIssuer,
} from '../../src/delivery/auth/dev-issuer.js';

const dirs: string[] = [];
const fresh = () => {
  const d = mkdtempSync(join(tmpdir(), 'aw-devissuer-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('dev issuer keys', () => {
  it('concurrent first use agrees on one key; the private key file is 0600 and the JWKS public', async () => {
    const dir = fresh();
    const all = await Promise.all(Array.from({ length: 6 }, () => loadDevIssuerKeys(dir)));
    expect(new Set(all.map((k) => k.kid)).size).toBe(1);
    expect(statSync(join(devIssuerDir(dir), 'signing-key.jwk.json')).mode & 0o777).toBe(0o600);
    const jwks = JSON.parse(readFileSync(join(devIssuerDir(dir), 'jwks.json'), 'utf8'));
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).not.toHaveProperty('d');
    expect(jwks.keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', kid: all[0].kid });
    // a later load (a restart) keeps the key
    expect((await loadDevIssuerKeys(dir)).kid).toBe(all[0].kid);
  });

  it('a corrupt or foreign key file is refused with a clear message', async () => {
    const dir = fresh();
    await loadDevIssuerKeys(dir);
    const keyFile = join(devIssuerDir(dir), 'signing-key.jwk.json');
    writeFileSync(keyFile, '{not json');
    await expect(loadDevIssuerKeys(dir)).rejects.toThrow(DevIssuerError);
    writeFileSync(keyFile, JSON.stringify({ kty: 'oct', k: 'c2VjcmV0' }));
    await expect(loadDevIssuerKeys(dir)).rejects.toThrow(/not an ES256 private key/);
  });

  it('mints RFC 9068 tokens that verify against its JWKS, within the ttl bounds', async () => {
    const dir = fresh();
    const keys = await loadDevIssuerKeys(dir);
    const now = new Date('2026-06-01T00:00:00Z');
    const token = await mintAccessToken(keys, { issuer: 'http://127.0.0.1:9/dev-issuer', audience: 'authwatch', scopes: ['alerts:read', 'rules:admin'], ttlMs: 600_000, clientId: 'cli', now });
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'ES256', typ: 'at+jwt', kid: keys.kid });
    const { payload } = await jwtVerify(token, createLocalJWKSet(keys.jwks), { issuer: 'http://127.0.0.1:9/dev-issuer', audience: 'authwatch', typ: 'at+jwt', currentDate: now });
    expect(payload).toMatchObject({ sub: 'cli', client_id: 'cli', scope: 'alerts:read rules:admin', iat: now.getTime() / 1000, exp: now.getTime() / 1000 + 600 });
    expect(typeof payload.jti).toBe('string');
    await expect(mintAccessToken(keys, { issuer: 'i', audience: 'a', scopes: ['x'], ttlMs: 8 * 24 * 3_600_000, clientId: 'c' })).rejects.toThrow(DevIssuerError);
    await expect(mintAccessToken(keys, { issuer: 'i', audience: 'a', scopes: ['x'], ttlMs: 0, clientId: 'c' })).rejects.toThrow(DevIssuerError);
  });

  it('token minting uses the configured issuer, else the one the service recorded, else the configured address', () => {
    const dir = fresh();
    const cfg = (o: Record<string, unknown> = {}) => loadConfig({ env: {}, overrides: { data_dir: dir, ...o } });
    expect(resolveDevIssuer(cfg({ 'http.port': 9999 }))).toBe('http://127.0.0.1:9999/dev-issuer');
    recordDevIssuer(dir, 'http://127.0.0.1:41234/dev-issuer');
    expect(resolveDevIssuer(cfg())).toBe('http://127.0.0.1:41234/dev-issuer');
    expect(resolveDevIssuer(cfg({ 'auth.issuer': 'https://fixed.example/' }))).toBe('https://fixed.example/');
  });
});
