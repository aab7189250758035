// Validation of a redacted event: size limits for everything (unknown fields included), then
// the contract. zod's eventSchema is the source of truth; a hand-written check of the same
// rules runs first because it is several times cheaper on the hot path, and zod runs only
// when that check fails (for its error message, and as the final word: if zod accepts, the
// event is accepted). test/events/event-validate.test.ts checks both agree on generated input.
import { z } from 'zod';
import { eventSchema, EVENT_LIMITS, AUTH_RESULTS, OBSERVER_TYPES, ROUTE_CLASSES, AUTH_SCHEMES, IDP_ENDPOINTS } from './event.js';

export type Limits = { maxStringLength: number; maxDepth: number; maxKeys: number; maxArrayLength: number };

/** A problem with the event's size: names the place and the limit. */
export function checkLimits(obj: unknown, limits: Limits = EVENT_LIMITS): string | undefined {
  let keys = 0;
  const walk = (v: unknown, path: string, depth: number): string | undefined => {
    if (typeof v === 'string') {
      return v.length > limits.maxStringLength ? `${path || '(root)'}: string longer than ${limits.maxStringLength} characters` : undefined;
    }
    if (v === null || typeof v !== 'object') return undefined;
    if (depth > limits.maxDepth) return `${path}: nested deeper than ${limits.maxDepth} levels`;
    if (Array.isArray(v)) {
      if (v.length > limits.maxArrayLength) return `${path}: array longer than ${limits.maxArrayLength} items`;
      for (let i = 0; i < v.length; i++) {
        const p = walk(v[i], `${path}.${i}`, depth + 1);
        if (p) return p;
      }
      return undefined;
    }
    const o = v as Record<string, unknown>;
    for (const k in o) {
      if (!Object.prototype.hasOwnProperty.call(o, k)) continue;
      if (++keys > limits.maxKeys) return `event has more than ${limits.maxKeys} fields`;
      if (k.length > 256) return `${path ? path + '.' : ''}${k.slice(0, 32)}…: field name longer than 256 characters`;
      const p = walk(o[k], path ? `${path}.${k}` : k, depth + 1);
      if (p) return p;
    }
    return undefined;
  };
  return walk(obj, '', 1);
}

// --- the fast check: mirrors eventSchema in event.ts; keep the two in step ---------------

const IPV4 = z.regexes.ipv4;
const IPV6 = z.regexes.ipv6;
const AUTH_RESULT_SET = new Set<unknown>(AUTH_RESULTS);
const OBSERVER_TYPE_SET = new Set<unknown>(OBSERVER_TYPES);
const ROUTE_CLASS_SET = new Set<unknown>(ROUTE_CLASSES);
const AUTH_SCHEME_SET = new Set<unknown>(AUTH_SCHEMES);
const IDP_ENDPOINT_SET = new Set<unknown>(IDP_ENDPOINTS);
const MAX_STR = EVENT_LIMITS.maxStringLength;
const MAX_ARR = EVENT_LIMITS.maxArrayLength;

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const optStr = (v: unknown, max: number, min = 0) => v === undefined || (typeof v === 'string' && v.length <= max && v.length >= min);
const optInt = (v: unknown) => v === undefined || (typeof v === 'number' && Number.isSafeInteger(v));
const optEnum = (v: unknown, set: Set<unknown>) => v === undefined || set.has(v);
const optStrArray = (v: unknown, itemMax: number) => {
  if (v === undefined) return true;
  if (!Array.isArray(v) || v.length > MAX_ARR) return false;
  for (const s of v) if (typeof s !== 'string' || s.length > itemMax) return false;
  return true;
};

/**
 * A plain dotted quad as IPV4 accepts it (four octets 0-255, no leading zeros), checked
 * without a regex because nearly every event carries one; anything else takes the regexes.
 */
export function isDottedQuad(s: string): boolean {
  const n = s.length;
  if (n < 7 || n > 15) return false;
  let dots = 0;
  let digits = 0;
  let value = 0;
  let leadingZero = false;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === 46 /* . */) {
      if (digits === 0 || dots === 3) return false;
      dots++;
      digits = 0;
      value = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits === 0) leadingZero = c === 48;
      else if (leadingZero) return false;
      if (++digits > 3) return false;
      value = value * 10 + (c - 48);
      if (value > 255) return false;
    } else return false;
  }
  return dots === 3 && digits > 0;
}

/** True only when eventSchema would accept `e` too. */
export function fastAccepts(e: unknown): boolean {
  if (!isObj(e)) return false;
  if (!optStr(e.id, 128, 1) || typeof e.time !== 'string') return false;
  const o = e.observer;
  if (!isObj(o) || !OBSERVER_TYPE_SET.has(o.type) || !optStr(o.name, 256, 1) || o.name === undefined || !optStr(o.env, 64)) return false;
  const src = e.source;
  if (src !== undefined) {
    if (!isObj(src)) return false;
    if (src.ip !== undefined && !(typeof src.ip === 'string' && (isDottedQuad(src.ip) || IPV4.test(src.ip) || IPV6.test(src.ip)))) return false;
    if (!optStr(src.user_agent, MAX_STR)) return false;
  }
  const h = e.http;
  if (h !== undefined) {
    if (!isObj(h)) return false;
    if (!optStr(h.method, 16) || !optStr(h.route, 1024) || !optStr(h.path, MAX_STR) || !optEnum(h.route_class, ROUTE_CLASS_SET)) return false;
    if (h.status !== undefined && !(typeof h.status === 'number' && Number.isSafeInteger(h.status) && h.status >= 100 && h.status <= 599)) return false;
  }
  const a = e.auth;
  if (!isObj(a) || !AUTH_RESULT_SET.has(a.result) || !optEnum(a.scheme, AUTH_SCHEME_SET) || !optStr(a.detail, 512) || !optStrArray(a.required_scopes, 256)) return false;
  const t = e.token;
  if (t !== undefined) {
    if (!isObj(t)) return false;
    if (!optStr(t.fp, 64) || !optStr(t.kid, 256) || !optStr(t.alg, 32) || !optStr(t.typ, 64) || !optStr(t.iss, 1024) || !optStr(t.sub, 512)) return false;
    if (!optStr(t.client_id, 512) || !optStr(t.tenant, 256) || !optStr(t.jti, 512) || !optStrArray(t.scopes, 256)) return false;
    if (!optInt(t.exp) || !optInt(t.iat) || !optInt(t.nbf)) return false;
    if (t.aud !== undefined && !(typeof t.aud === 'string' ? t.aud.length <= 1024 : optStrArray(t.aud, 1024))) return false;
  }
  const i = e.idp;
  if (i !== undefined) {
    if (!isObj(i)) return false;
    if (!optEnum(i.endpoint, IDP_ENDPOINT_SET) || !optStr(i.grant_type, 256) || !optStr(i.client_id, 512) || !optStr(i.redirect_uri, 2048) || !optStr(i.error, 128)) return false;
  }
  // the superRefine rules
  if (o.type === 'gateway' || o.type === 'api') {
    if (!src || !src.ip || !h || !h.method || !h.route || h.status === undefined) return false;
  } else if (o.type === 'idp' && !(i && i.endpoint)) return false;
  return true;
}

/** undefined when valid, else a message naming the field(s) and the problem. */
export function contractViolation(e: unknown): string | undefined {
  if (fastAccepts(e)) return undefined;
  const r = eventSchema.safeParse(e);
  if (r.success) return undefined;
  return r.error.issues
    .slice(0, 3)
    .map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`)
    .join('; ');
}
