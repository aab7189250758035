// The embedded development issuer (auth.mode: dev): one ES256 signing key kept in
// <data_dir>/dev-issuer/, its public JWKS served by the service, and RFC 9068 access tokens
// minted by `authwatch token`. Production points auth at a real identity provider instead.
import { randomUUID } from 'node:crypto';
import { chmodSync, existsSync, linkSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, SignJWT, type CryptoKey, type JSONWebKeySet, type JWK } from 'jose';
import type { Config } from '../../config/config.js';

export const DEV_ISSUER_PATH = '/dev-issuer';
const KEY_FILE = 'signing-key.jwk.json';
const JWKS_FILE = 'jwks.json';
const ISSUER_FILE = 'issuer.json';
const ALG = 'ES256';
/** Longest lifetime `authwatch token` will mint: dev tokens should not outlive a working week. */
export const MAX_DEV_TOKEN_TTL_MS = 7 * 24 * 3_600_000;

export class DevIssuerError extends Error {
  readonly code = 'DEV_ISSUER';
}

export interface DevIssuerKeys {
  kid: string;
  privateKey: CryptoKey;
  jwks: JSONWebKeySet;
}

export function devIssuerDir(dataDir: string): string {
  return join(dataDir, 'dev-issuer');
}

/** The issuer the service announces when none is configured: http://<host>:<port>/dev-issuer. */
export function defaultDevIssuer(host: string, port: number): string {
  const h = host.includes(':') ? `[${host}]` : host;
  return `http://${h}:${port}${DEV_ISSUER_PATH}`;
}

/**
 * Load the dev signing key, generating it on first use. Creation is atomic (write a temp file,
 * hard-link it into place), so `serve` and `token` started together agree on one key.
 */
export async function loadDevIssuerKeys(dataDir: string): Promise<DevIssuerKeys> {
  const dir = devIssuerDir(dataDir);
  const keyPath = join(dir, KEY_FILE);
  if (!existsSync(keyPath)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const { privateKey } = await generateKeyPair(ALG, { extractable: true });
    const jwk = await exportJWK(privateKey);
    jwk.kid = await calculateJwkThumbprint(jwk);
    jwk.alg = ALG;
    jwk.use = 'sig';
    const tmp = `${keyPath}.${process.pid}.${randomUUID()}.tmp`;
    writeFileSync(tmp, JSON.stringify(jwk) + '\n', { mode: 0o600 });
    try {
      linkSync(tmp, keyPath);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err; // another process won the race: use its key
    } finally {
      unlinkSync(tmp);
    }
  }
  chmodSync(keyPath, 0o600);
  let jwk: JWK;
  try {
    jwk = JSON.parse(readFileSync(keyPath, 'utf8')) as JWK;
  } catch {
    throw new DevIssuerError(`dev issuer key ${keyPath} is unreadable; delete it to generate a new one`);
  }
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || !jwk.d || !jwk.kid) {
    throw new DevIssuerError(`dev issuer key ${keyPath} is not an ES256 private key; delete it to generate a new one`);
  }
  const privateKey = (await importJWK(jwk, ALG)) as CryptoKey;
  const { d: _d, ...pub } = jwk;
  const jwks: JSONWebKeySet = { keys: [{ ...pub, alg: ALG, use: 'sig' }] };
  writeAtomically(join(dir, JWKS_FILE), JSON.stringify(jwks, null, 2) + '\n', 0o644);
  return { kid: jwk.kid, privateKey, jwks };
}

/** The running service records the issuer it verifies against, so `authwatch token` matches it even on an ephemeral port. */
export function recordDevIssuer(dataDir: string, issuer: string): void {
  mkdirSync(devIssuerDir(dataDir), { recursive: true, mode: 0o700 });
  writeAtomically(join(devIssuerDir(dataDir), ISSUER_FILE), JSON.stringify({ issuer }) + '\n', 0o644);
}

/** Issuer for minting: configured, else the one the last service start recorded, else the default for the configured address. */
export function resolveDevIssuer(config: Config): string {
  if (config.auth.issuer) return config.auth.issuer;
  const file = join(devIssuerDir(config.data_dir), ISSUER_FILE);
  if (existsSync(file)) {
    try {
      const rec = JSON.parse(readFileSync(file, 'utf8')) as { issuer?: unknown };
      if (typeof rec.issuer === 'string' && rec.issuer) return rec.issuer;
    } catch {
      // fall through to the default
    }
  }
  return defaultDevIssuer(config.http.host, config.http.port);
}

export interface MintOptions {
  issuer: string;
  audience: string;
  scopes: string[];
  ttlMs: number;
  clientId: string;
  sub?: string;
  now?: Date;
}

/** An RFC 9068 JWT access token: typ at+jwt, iss, sub, aud, exp, iat, jti, client_id, scope. */
export async function mintAccessToken(keys: DevIssuerKeys, o: MintOptions): Promise<string> {
  if (!(o.ttlMs > 0) || o.ttlMs > MAX_DEV_TOKEN_TTL_MS) throw new DevIssuerError('ttl must be between 1s and 7d');
  const iat = Math.floor((o.now ?? new Date()).getTime() / 1000);
  return new SignJWT({ client_id: o.clientId, scope: o.scopes.join(' ') })
    .setProtectedHeader({ alg: ALG, typ: 'at+jwt', kid: keys.kid })
    .setIssuer(o.issuer)
    .setSubject(o.sub ?? o.clientId)
    .setAudience(o.audience)
    .setIssuedAt(iat)
    .setExpirationTime(iat + Math.ceil(o.ttlMs / 1000))
    .setJti(randomUUID())
    .sign(keys.privateKey);
}

/** Minimal OpenID discovery document for the dev issuer (no authorization or token endpoint: tokens come from the CLI). */
export function discoveryDocument(issuer: string): Record<string, unknown> {
  return {
    issuer,
    jwks_uri: `${issuer}/jwks.json`,
    response_types_supported: [],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: [ALG],
    token_endpoint_auth_methods_supported: ['none'],
    scopes_supported: ['events:write', 'alerts:read', 'alerts:write', 'actions:read', 'actions:write', 'rules:admin'],
  };
}

function writeAtomically(path: string, text: string, mode: number): void {
  const tmp = `${path}.${process.pid}.${randomUUID()}.tmp`;
  writeFileSync(tmp, text, { mode });
  renameSync(tmp, path);
}
