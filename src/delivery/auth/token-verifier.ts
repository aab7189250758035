// Bearer access-token validation for the API (RFC 9068 JWT profile) with jose. Every failure
// ends as a TokenRejected carrying an authwatch `auth.result` code: the client only ever
// learns "invalid token", the self-monitoring event learns which check failed.
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  errors as joseErrors,
  jwksCache,
  jwtVerify,
  type ExportedJWKSCache,
  type JSONWebKeySet,
  type JWTPayload,
  type JWTVerifyGetKey,
  type ProtectedHeaderParameters,
} from 'jose';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AuthResult } from '../../events/event.js';

/** Claims RFC 9068 section 2.2 requires in a JWT access token. */
export const REQUIRED_CLAIMS = ['iss', 'sub', 'aud', 'exp', 'iat', 'jti', 'client_id'] as const;
/** Headers that name a key somewhere else: an attacker controls them, so a token carrying one is refused outright. */
const UNTRUSTED_KEY_HEADERS = ['jku', 'x5u', 'jwk', 'x5c'] as const;
const ASYMMETRIC_ALGS = new Set(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519']);
/** How long keys from the last good JWKS fetch keep verifying while the endpoint is down. */
export const JWKS_STALE_IF_ERROR_MS = 6 * 3_600_000;

export class AuthConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
}

/** A refused token. `status` is 401 (invalid) or 503 (keys unavailable: fail closed). */
export class TokenRejected extends Error {
  readonly status: 401 | 503;
  constructor(
    readonly result: AuthResult,
    readonly detail: string,
  ) {
    super(`token rejected: ${result}`);
    this.status = result === 'jwks_unavailable' ? 503 : 401;
  }
}

/** The key source could not be reached and has no usable cached keys. */
export class KeySourceUnavailable extends Error {
  readonly code = 'ERR_AUTHWATCH_JWKS_UNAVAILABLE';
}

export interface VerifiedToken {
  header: ProtectedHeaderParameters;
  claims: JWTPayload;
  clientId: string;
  sub: string | null;
  scopes: string[];
}

/** Unverified header/claim facts for the self-monitoring event; never trusted for access. */
export interface TokenFacts {
  kid?: string;
  alg?: string;
  typ?: string;
  iss?: string;
  sub?: string;
  client_id?: string;
  jti?: string;
  aud?: string | string[];
  exp?: number;
  iat?: number;
  nbf?: number;
  scopes?: string[];
}

export interface TokenVerifierOptions {
  /** the exact `iss` expected; a function because the dev issuer learns its port only after listen */
  issuer: () => string;
  audience: string;
  algorithms: string[];
  clockSkewSec: number;
  maxTokenBytes: number;
  getKey: KeySource;
  now?: () => Date;
  /** verified-token cache; `false` turns it off (every request pays the signature check) */
  cache?: VerifiedTokenCacheOptions | false;
}

/**
 * A key source, optionally able to say which key ids it currently holds. The verified-token
 * cache drops an entry whose kid is no longer present (a key removed from the JWKS); a source
 * that answers `null` (keys unknown or too stale to use) makes every lookup a miss.
 */
export type KeySource = JWTVerifyGetKey & { kids?: () => ReadonlySet<string> | null };

export interface VerifiedTokenCacheOptions {
  /** entries kept (least recently used dropped first) */
  max?: number;
  /** how long a verification is reused at most; never beyond the token's own `exp` */
  ttlMs?: number;
}

export const TOKEN_CACHE_MAX = 10_000;

/** The key of per-token caches: SHA-256 of the token string, so no cache ever holds a token. */
export function tokenCacheKey(token: string): string {
  return createHash('sha256').update(token).digest('base64');
}
export const TOKEN_CACHE_TTL_MS = 60_000;

interface CachedVerification {
  token: VerifiedToken;
  /** ms epoch: min(exp, verified + ttl) */
  untilMs: number;
  /** the issuer the token was checked against (the dev issuer's can change once, at listen) */
  issuer: string;
  kid: string | undefined;
}

/**
 * Verified tokens by SHA-256 of the token string (never the token itself), bounded LRU. Every
 * check that a cache hit skips depends only on the token's bytes (signature, header, claims),
 * except time, issuer and the key set, which are re-checked on each hit.
 */
class VerifiedTokenCache {
  private readonly map = new Map<string, CachedVerification>();
  constructor(
    private readonly max: number,
    readonly ttlMs: number,
  ) {}

  get(key: string, nowMs: number, issuer: string, kids: ReadonlySet<string> | null | undefined): VerifiedToken | null {
    const e = this.map.get(key);
    if (!e) return null;
    const keyGone = kids !== undefined && (kids === null || e.kid === undefined || !kids.has(e.kid));
    if (nowMs >= e.untilMs || e.issuer !== issuer || keyGone) {
      this.map.delete(key);
      return null;
    }
    // refresh recency: Map iteration order is insertion order
    this.map.delete(key);
    this.map.set(key, e);
    return e.token;
  }

  set(key: string, token: VerifiedToken, nowMs: number, issuer: string): void {
    const exp = typeof token.claims.exp === 'number' ? token.claims.exp * 1000 : nowMs;
    const untilMs = Math.min(exp, nowMs + this.ttlMs);
    if (untilMs <= nowMs) return; // expired but within the skew: verify it fully every time
    if (this.map.size >= this.max) this.map.delete(this.map.keys().next().value as string);
    this.map.set(key, { token, untilMs, issuer, kid: typeof token.header.kid === 'string' ? token.header.kid : undefined });
  }

  get size(): number {
    return this.map.size;
  }
}

export function assertSafeAlgorithms(algs: readonly string[]): void {
  if (algs.length === 0) throw new AuthConfigError('auth.algorithms: at least one algorithm is required');
  for (const a of algs) {
    if (!ASYMMETRIC_ALGS.has(a)) {
      throw new AuthConfigError(`auth.algorithms: "${a}" is not allowed (only asymmetric signature algorithms; never "none" or HS*)`);
    }
  }
}

export function createTokenVerifier(o: TokenVerifierOptions) {
  assertSafeAlgorithms(o.algorithms);
  const now = o.now ?? (() => new Date());
  const cache = o.cache === false ? null : new VerifiedTokenCache(o.cache?.max ?? TOKEN_CACHE_MAX, o.cache?.ttlMs ?? TOKEN_CACHE_TTL_MS);

  /** `key`: tokenCacheKey(token), when the caller has it already. */
  async function verify(token: string, key?: string): Promise<VerifiedToken> {
    if (Buffer.byteLength(token) > o.maxTokenBytes) throw new TokenRejected('malformed_token', 'token too large');
    if (!cache) return verifyFully(token);
    key ??= tokenCacheKey(token);
    const hit = cache.get(key, now().getTime(), o.issuer(), o.getKey.kids?.());
    if (hit) return hit;
    const verified = await verifyFully(token);
    // Times are taken after the (possibly slow, remote) verification: the entry cannot outlive exp.
    cache.set(key, verified, now().getTime(), o.issuer());
    return verified;
  }

  async function verifyFully(token: string): Promise<VerifiedToken> {
    let header: ProtectedHeaderParameters;
    try {
      header = decodeProtectedHeader(token);
    } catch {
      throw new TokenRejected('malformed_token', 'not a JWS compact serialization');
    }
    if (token.split('.').length !== 3) throw new TokenRejected('malformed_token', 'not a JWS compact serialization');
    for (const h of UNTRUSTED_KEY_HEADERS) {
      if (h in header) throw new TokenRejected('malformed_token', `untrusted key reference header "${h}"`);
    }
    if (typeof header.alg !== 'string' || !o.algorithms.includes(header.alg)) {
      throw new TokenRejected('alg_not_allowed', 'algorithm not allowed');
    }
    let claims: JWTPayload;
    try {
      ({ payload: claims } = await jwtVerify(token, o.getKey, {
        algorithms: o.algorithms,
        issuer: o.issuer(),
        audience: o.audience,
        typ: 'at+jwt',
        clockTolerance: o.clockSkewSec,
        requiredClaims: [...REQUIRED_CLAIMS],
        currentDate: now(),
      }));
    } catch (err) {
      throw toRejection(err);
    }
    if (claims.scope !== undefined && typeof claims.scope !== 'string') throw new TokenRejected('malformed_token', 'scope claim is not a string');
    if (typeof claims.client_id !== 'string' || claims.client_id === '') throw new TokenRejected('malformed_token', 'client_id claim is not a string');
    const scopes = typeof claims.scope === 'string' ? claims.scope.split(' ').filter(Boolean) : [];
    // Frozen: a cached result is shared by every request that presents the same token.
    return Object.freeze({ header, claims, clientId: claims.client_id, sub: typeof claims.sub === 'string' ? claims.sub : null, scopes: Object.freeze(scopes) as string[] });
  }

  return { verify, cachedCount: () => cache?.size ?? 0 };
}

export type TokenVerifier = ReturnType<typeof createTokenVerifier>;

function toRejection(err: unknown): TokenRejected {
  if (err instanceof TokenRejected) return err;
  if (err instanceof KeySourceUnavailable) return new TokenRejected('jwks_unavailable', 'key set unavailable');
  const code = (err as { code?: string }).code;
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      return new TokenRejected('expired', 'expired');
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return new TokenRejected('bad_signature', 'signature verification failed');
    case 'ERR_JWKS_NO_MATCHING_KEY':
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
      return new TokenRejected('unknown_kid', 'no matching key');
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return new TokenRejected('alg_not_allowed', 'algorithm not allowed');
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED': {
      const e = err as InstanceType<typeof joseErrors.JWTClaimValidationFailed>;
      if (e.reason === 'missing') return new TokenRejected('malformed_token', `missing claim ${e.claim}`);
      if (e.claim === 'aud') return new TokenRejected('wrong_audience', 'audience mismatch');
      if (e.claim === 'iss') return new TokenRejected('wrong_issuer', 'issuer mismatch');
      if (e.claim === 'nbf') return new TokenRejected('not_yet_valid', 'not yet valid');
      if (e.claim === 'typ') return new TokenRejected('wrong_type', 'typ is not at+jwt');
      return new TokenRejected('malformed_token', `invalid claim ${e.claim}`);
    }
    case 'ERR_JWS_INVALID':
    case 'ERR_JWT_INVALID':
    case 'ERR_JOSE_NOT_SUPPORTED':
    case 'ERR_JWK_INVALID':
      return new TokenRejected('malformed_token', 'malformed token');
    default:
      // Anything else from the key source (fetch failure, timeout, bad JWKS JSON) means we
      // cannot verify: fail closed with 503, never accept.
      return new TokenRejected('jwks_unavailable', 'key set unavailable');
  }
}

/** Header and claim values of a presented token, decoded without verification, truncated to the event contract's limits. */
export function tokenFacts(token: string): TokenFacts {
  const out: TokenFacts = {};
  const s = (v: unknown, max: number) => (typeof v === 'string' && v.length > 0 ? v.slice(0, max) : undefined);
  const n = (v: unknown) => (typeof v === 'number' && Number.isSafeInteger(v) ? v : undefined);
  try {
    const h = decodeProtectedHeader(token);
    out.kid = s(h.kid, 256);
    out.alg = s(h.alg, 32);
    out.typ = s(h.typ, 64);
  } catch {
    return out;
  }
  try {
    const c = decodeJwt(token);
    out.iss = s(c.iss, 1024);
    out.sub = s(c.sub, 512);
    out.client_id = s(c.client_id, 512) ?? s(c.azp, 512);
    out.jti = s(c.jti, 512);
    if (typeof c.aud === 'string') out.aud = c.aud.slice(0, 1024);
    else if (Array.isArray(c.aud)) out.aud = c.aud.filter((a): a is string => typeof a === 'string').slice(0, 16).map((a) => a.slice(0, 1024));
    out.exp = n(c.exp);
    out.iat = n(c.iat);
    out.nbf = n(c.nbf);
    if (typeof c.scope === 'string') out.scopes = c.scope.split(' ').filter(Boolean).slice(0, 64).map((x) => x.slice(0, 256));
  } catch {
    // header decodable, payload not: keep what we have
  }
  for (const k of Object.keys(out) as (keyof TokenFacts)[]) if (out[k] === undefined) delete out[k];
  return out;
}

// ---- key sources ----

/** Keys from a local JWKS (a file, or the dev issuer's own public keys). */
export function localKeySource(jwks: JSONWebKeySet): KeySource {
  const kids = kidSet(jwks);
  return Object.assign(createLocalJWKSet(jwks), { kids: () => kids });
}

function kidSet(jwks: JSONWebKeySet | undefined): Set<string> {
  return new Set((jwks?.keys ?? []).map((k) => k.kid).filter((k): k is string => typeof k === 'string'));
}

export function jwksFileKeySource(path: string): KeySource {
  let jwks: JSONWebKeySet;
  try {
    jwks = JSON.parse(readFileSync(path, 'utf8')) as JSONWebKeySet;
  } catch (err) {
    throw new AuthConfigError(`auth.jwks_file ${path}: ${(err as Error).message}`);
  }
  if (!jwks || !Array.isArray(jwks.keys)) throw new AuthConfigError(`auth.jwks_file ${path}: not a JWK Set (no "keys" array)`);
  return localKeySource(jwks);
}

export interface RemoteKeySourceOptions {
  timeoutMs?: number;
  cooldownMs?: number;
  cacheMaxAgeMs?: number;
  staleIfErrorMs?: number;
}

/**
 * A remote JWKS (jose caches it, reloads on an unknown kid after a cooldown). When the endpoint
 * is down, the last good key set keeps verifying for a bounded time (warm cache); with no key set
 * ever fetched, verification fails closed with KeySourceUnavailable (→ 503).
 */
export function remoteKeySource(uri: string, o: RemoteKeySourceOptions = {}): KeySource {
  // jose writes every successful fetch here (keys + time), which is what stale-if-error needs.
  const cache = {} as ExportedJWKSCache;
  const remote = createRemoteJWKSet(new URL(uri), {
    timeoutDuration: o.timeoutMs ?? 3000,
    cooldownDuration: o.cooldownMs ?? 30_000,
    cacheMaxAge: o.cacheMaxAgeMs ?? 600_000,
    [jwksCache]: cache,
  });
  const staleIfErrorMs = o.staleIfErrorMs ?? JWKS_STALE_IF_ERROR_MS;
  const getKey: JWTVerifyGetKey = async (header, token) => {
    try {
      return await remote(header, token);
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'ERR_JWKS_NO_MATCHING_KEY' || code === 'ERR_JWKS_MULTIPLE_MATCHING_KEYS' || code === 'ERR_JOSE_NOT_SUPPORTED' || code === 'ERR_JOSE_ALG_NOT_ALLOWED') throw err;
      if (cache.jwks && typeof cache.uat === 'number' && Date.now() - cache.uat < staleIfErrorMs) return createLocalJWKSet(cache.jwks)(header, token);
      throw new KeySourceUnavailable('JWKS endpoint unavailable and no cached keys', { cause: err });
    }
  };
  // The kids of the last good fetch, while they may still be used (the same stale-if-error bound
  // as above); jose replaces cache.jwks on every refetch, so a removed key drops out here.
  let seen: JSONWebKeySet | undefined;
  let kids: Set<string> = new Set();
  const currentKids = (): ReadonlySet<string> | null => {
    if (!cache.jwks || typeof cache.uat !== 'number' || Date.now() - cache.uat >= staleIfErrorMs) return null;
    if (cache.jwks !== seen) {
      seen = cache.jwks;
      kids = kidSet(seen);
    }
    return kids;
  };
  return Object.assign(getKey, { kids: currentKids });
}
