// Facts shared by the gateway adapters: templated routes, the token behind an Authorization
// header (decoded without verification: its claims are facts, the token itself is the secret),
// and the auth result a status code allows us to infer.
import type { AuthResult } from '../event.js';
import { isObj, type AdapterContext, type Obj } from './adapter-types.js';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const HEX_ID_RE = /^(?=.*\d)[0-9a-f]{16,}$/i;
const OPAQUE_ID_RE = /^(?=.*\d)(?=.*[A-Za-z])[A-Za-z0-9_-]{20,}$/;

/** Path without query or fragment, with id-like segments (numbers, UUIDs, long hex/opaque ids) as `{id}`. */
export function templateRoute(pathWithQuery: string): string {
  let p = pathWithQuery;
  const q = QUERY_OR_FRAGMENT_RE.exec(p);
  if (q !== null) p = p.slice(0, q.index);
  if (p === '') return '/';
  // One pass over the segments; the result is built only from the first id-like segment on,
  // so a path without ids is returned as it is.
  let out: string | undefined;
  let start = 0;
  for (;;) {
    const slash = p.indexOf('/', start);
    const end = slash < 0 ? p.length : slash;
    if (isIdSegment(p, start, end)) {
      out = (out ?? p.slice(0, start)) + '{id}';
    } else if (out !== undefined) out += p.slice(start, end);
    if (slash < 0) break;
    if (out !== undefined) out += '/';
    start = slash + 1;
  }
  return out ?? p;
}

const QUERY_OR_FRAGMENT_RE = /[?#]/;

/** p[start, end) is all digits, a UUID, or a long hex/opaque id (the regexes only for segments long enough to match them). */
function isIdSegment(p: string, start: number, end: number): boolean {
  if (end === start) return false;
  let digits = true;
  for (let i = start; i < end; i++) {
    const c = p.charCodeAt(i);
    if (c < 48 || c > 57) {
      digits = false;
      break;
    }
  }
  if (digits) return true;
  if (end - start < 16) return false; // HEX_ID_RE needs 16+, OPAQUE_ID_RE 20+, UUID_RE 36
  const seg = p.slice(start, end);
  return UUID_RE.test(seg) || HEX_ID_RE.test(seg) || OPAQUE_ID_RE.test(seg);
}

/** `a.b.c` from the request line `GET /a?b HTTP/1.1`, or undefined. */
export function parseRequestLine(request: string): { method: string; path: string; protocol?: string } | undefined {
  const m = /^([A-Z][A-Z0-9_-]{0,15}) (\S+)(?: (HTTP\/[0-9.]+))?$/.exec(request);
  if (!m || !(m[2].startsWith('/') || m[2] === '*' || /^https?:\/\//.test(m[2]))) return undefined;
  let path = m[2];
  if (path.charCodeAt(0) !== 47 /* / */) {
    const abs = /^https?:\/\/[^/?#]*(.*)$/.exec(path);
    if (abs) path = abs[1] || '/';
  }
  return { method: m[1], path, protocol: m[3] };
}

function b64urlJson(seg: string): Obj | undefined {
  if (seg.length > 8192) return undefined;
  try {
    const v: unknown = JSON.parse(Buffer.from(seg, 'base64url').toString('utf8'));
    return isObj(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

const claimStr = (v: unknown, max: number) => (typeof v === 'string' && v.length > 0 && v.length <= max ? v : undefined);
const claimNum = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && Math.abs(v) < 1e12 ? Math.floor(v) : undefined);
function claimStrList(v: unknown, itemMax: number): string[] | undefined {
  const arr = typeof v === 'string' ? v.split(/\s+/).filter(Boolean) : Array.isArray(v) ? v : undefined;
  if (!arr) return undefined;
  const out = arr.filter((s): s is string => typeof s === 'string' && s.length > 0 && s.length <= itemMax).slice(0, 128);
  return out.length ? out : undefined;
}

export interface TokenFacts {
  scheme: 'bearer' | 'dpop' | 'basic' | 'other';
  /** `token.*` fields: fp always, header/claims when the token is a JWT */
  token?: Obj;
}

/** What an Authorization header value tells: scheme, fingerprint and (for JWTs) header and claims. */
export function authorizationFacts(value: string, ctx: AdapterContext): TokenFacts {
  const m = /^\s*(\S+)\s+(\S+)\s*$/.exec(value);
  const schemeWord = m ? m[1].toLowerCase() : '';
  const credential = m ? m[2] : value.trim();
  const scheme = schemeWord === 'bearer' ? 'bearer' : schemeWord === 'dpop' ? 'dpop' : schemeWord === 'basic' ? 'basic' : 'other';
  if (scheme === 'basic' || credential === '') return { scheme };
  return { scheme, token: jwtFacts(credential, ctx) };
}

/** `token.*` for a raw token: its fingerprint, plus header and claims when it decodes as a JWS. */
export function jwtFacts(raw: string, ctx: AdapterContext): Obj {
  const token: Obj = { fp: ctx.fingerprint(raw) };
  const parts = raw.split('.');
  if ((parts.length !== 3 && parts.length !== 5) || !parts[0].startsWith('eyJ')) return token;
  const header = b64urlJson(parts[0]);
  if (!header) return token;
  token.kid = claimStr(header.kid, 256);
  token.alg = claimStr(header.alg, 32);
  token.typ = claimStr(header.typ, 64);
  const claims = parts.length === 3 ? b64urlJson(parts[1]) : undefined; // JWE claims are encrypted
  if (claims) {
    token.iss = claimStr(claims.iss, 1024);
    token.sub = claimStr(claims.sub, 512);
    token.client_id = claimStr(claims.client_id, 512) ?? claimStr(claims.azp, 512) ?? claimStr(claims.cid, 512);
    token.tenant = claimStr(claims.tid, 256) ?? claimStr(claims.tenant, 256);
    token.jti = claimStr(claims.jti, 512);
    const aud = typeof claims.aud === 'string' ? claimStr(claims.aud, 1024) : claimStrList(claims.aud, 1024);
    token.aud = aud;
    token.scopes = claimStrList(claims.scope, 256) ?? claimStrList(claims.scp, 256);
    token.exp = claimNum(claims.exp);
    token.iat = claimNum(claims.iat);
    token.nbf = claimNum(claims.nbf);
  }
  for (const k of Object.keys(token)) if (token[k] === undefined) delete token[k];
  return token;
}

/**
 * The auth result a gateway status implies. Without a presented credential (when the log
 * says so) it is missing_token whatever the status; a 401 whose token was already expired (or not yet valid) at request time is
 * that; other 401s are a token failure of unknown kind (`other`); 403 is insufficient_scope.
 * Anything else means the gateway let the request through: `ok`.
 */
export function resultFromStatus(status: number, f: { credentialKnown: boolean; hasCredential: boolean; token?: Obj; timeMs?: number }): { result: AuthResult; detail?: string } {
  if (f.credentialKnown && !f.hasCredential) return { result: 'missing_token' };
  if (status === 401) {
    const nowS = f.timeMs !== undefined ? f.timeMs / 1000 : undefined;
    const exp = f.token?.exp, nbf = f.token?.nbf;
    if (nowS !== undefined && typeof exp === 'number' && exp < nowS) return { result: 'expired', detail: 'HTTP 401; token exp is before the request time' };
    if (nowS !== undefined && typeof nbf === 'number' && nbf > nowS) return { result: 'not_yet_valid', detail: 'HTTP 401; token nbf is after the request time' };
    return { result: 'other', detail: 'HTTP 401: token rejected, reason not logged by the gateway' };
  }
  if (status === 403) return { result: 'insufficient_scope', detail: 'HTTP 403' };
  return { result: 'ok' };
}
