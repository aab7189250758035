// Token redaction at ingest (docs/redaction.md). Every string of an event is scanned once;
// secrets are replaced by `[REDACTED]` and tokens are fingerprinted, so the same token
// correlates across sources without ever being kept. Regexes are compiled once at load and
// a cheap pre-check skips clean strings, because this runs on every field of every event.
import { createHmac } from 'node:crypto';

export const REDACTED = '[REDACTED]';

/** Kinds of secret found, the `kind` label of authwatch_redactions_total. */
export const REDACTION_KINDS = ['jwt', 'auth_scheme', 'param', 'key', 'header_text'] as const;
export type RedactionKind = (typeof REDACTION_KINDS)[number];

/** `tfp_` + 22 base64url chars: what fingerprint() returns; never redacted again. */
export const FINGERPRINT_RE = /^tfp_[A-Za-z0-9_-]{22}$/;

/** The token fingerprint of the brief: tfp_ + first 22 chars of base64url(HMAC-SHA256(secret, token)). */
export function fingerprint(secret: Buffer, token: string): string {
  return 'tfp_' + createHmac('sha256', secret).update(token, 'utf8').digest('base64url').slice(0, 22);
}

export interface RedactionReport {
  /** secrets replaced */
  count: number;
  /** dotted paths of the fields that were changed (array items by index), capped */
  fields: string[];
  kinds: Partial<Record<RedactionKind, number>>;
  /** fingerprints of the tokens found, in the order found (unique) */
  fingerprints: string[];
}

export const MAX_REPORTED_FIELDS = 128;

// --- string patterns -------------------------------------------------------------------

// Parameter names whose values are secrets wherever they appear as `name=value`.
const SECRET_PARAMS =
  'access_token|refresh_token|id_token|id_token_hint|token|code|client_secret|client_assertion|assertion|password|passwd|' +
  'subject_token|actor_token|device_code|code_verifier|api_key|apikey';
// Of those, the ones whose value is a token worth fingerprinting.
const TOKEN_PARAMS = new Set(['access_token', 'refresh_token', 'id_token', 'token', 'subject_token', 'actor_token']);
// JSON-in-a-string keys (a response body in detail text, a raw rejected line).
const SECRET_JSON_KEYS =
  SECRET_PARAMS + '|authorization|proxy-authorization|http_authorization|cookie|set-cookie|x-api-key|secret|private_key';

const TOKEN_CHAR = '[A-Za-z0-9\\-._~+/\\\\]';

/**
 * One global regex, one pass. Alternatives, in priority order:
 *  1-2  `"secret_key": "value"` (JSON text inside a string; also cut off before its closing quote)
 *  3-4  `Authorization: value` header lines in free text
 *  5-6  `Bearer|DPoP|Basic <token>` scheme values
 *  7-8  JWT / JWE shaped values (eyJ… and one or more dots; a cut-off JWT counts too)
 *  9-12 `name=value` query/form parameters (also %3D-encoded inside another URL)
 */
const SECRET_RE = new RegExp(
  [
    `"(${SECRET_JSON_KEYS})"\\s*:\\s*"((?:[^"\\\\]|\\\\.)*)(?:"|$)`,
    `\\b(proxy-authorization|authorization|cookie|set-cookie|x-api-key)[ \\t]*:[ \\t]*([^\\r\\n"]+)`,
    // the lookaheads keep prose ("Bearer token expired") from matching, so a rejected match cannot hide text
    `(bearer|dpop|basic)[ \\t]+(?=${TOKEN_CHAR}{8})(?=${TOKEN_CHAR}{40}|${TOKEN_CHAR}+?[0-9A-Z]|eyJ)(${TOKEN_CHAR}+=*)`,
    // a whole dotted base64url run whose first segment holds `eyJ`: anchored at the run's
    // start and consumed atomically (lookahead + backreference), so runs like eyJaeyJa...
    // cost linear time instead of quadratic
    `(?<![A-Za-z0-9_-])(?=[A-Za-z0-9_-]*eyJ)((?=([A-Za-z0-9_-]+))\\8(?:\\.[A-Za-z0-9_-]*)+)`,
    `(^|[?&;\\s#"'(,]|%26|%3F)(${SECRET_PARAMS})(=|%3D)((?:(?!%26)[^&\\s#"',;<>])*)`,
  ].join('|'),
  'gi',
);

// Cheap pre-check: a string without any of these cannot hold a secret SECRET_RE finds.
const MAYBE_SECRET_RE = /eyJ|bearer|dpop|basic|[="]|%3d|authorization|cookie|x-api-key/i;

/**
 * The walk's own pre-check for a string under a key that is not a secret's: false means the
 * redactor leaves it as it is. A substring of a string that fails it fails it too (the
 * patterns are literals), which lets an adapter vouch for the fields it cuts from a line.
 */
export function mayHoldSecret(s: string): boolean {
  return s.length >= 8 && MAYBE_SECRET_RE.test(s);
}

/**
 * Where a JWT starts inside a dotted base64url run: the first `eyJ` followed by at least 6
 * more characters of its segment, in a segment that has a dot after it. -1 when none.
 * (indexOf per segment: linear, unlike a regex search here.)
 */
function jwtStart(run: string): number {
  let offset = 0;
  const segs = run.split('.');
  for (let j = 0; j < segs.length - 1; j++) {
    const idx = segs[j].indexOf('eyJ');
    if (idx >= 0 && segs[j].length - idx >= 9) return offset + idx;
    offset += segs[j].length + 1;
  }
  return -1;
}

/** `code=401` in prose is not an authorization code; real codes are long and not numeric. */
function isCodeLike(v: string): boolean {
  return v.length >= 6 && !/^\d+$/.test(v);
}

function isRedactedValue(v: string): boolean {
  return v === REDACTED || v === '%5BREDACTED%5D' || FINGERPRINT_RE.test(v);
}

interface StringFindings {
  count: number;
  kinds: Partial<Record<RedactionKind, number>>;
  tokens: string[];
}

function note(f: StringFindings, kind: RedactionKind, token?: string): void {
  f.count++;
  f.kinds[kind] = (f.kinds[kind] ?? 0) + 1;
  if (token) f.tokens.push(token);
}

function stripScheme(v: string): { scheme: string | undefined; rest: string } {
  const m = /^\s*(bearer|dpop|basic)\s+(.*)$/is.exec(v);
  return m ? { scheme: m[1].toLowerCase(), rest: m[2].trim() } : { scheme: undefined, rest: v.trim() };
}

/** Redact one string; `f` collects what was found. Returns the same string when clean. */
function redactString(s: string, f: StringFindings): string {
  if (s.length < 8 || !MAYBE_SECRET_RE.test(s)) return s;
  // (the object walk runs the same pre-check inline before calling)
  SECRET_RE.lastIndex = 0;
  return s.replace(SECRET_RE, (m: string, ...g: Array<string | undefined>) => {
    if (g[0] !== undefined) {
      // JSON key: value
      const v = g[1] ?? '';
      if (v === '' || isRedactedValue(v)) return m;
      const key = g[0].toLowerCase();
      if (key === 'code' && !isCodeLike(v)) return m;
      const { scheme, rest } = stripScheme(v);
      const isToken = TOKEN_PARAMS.has(key) || ((key.endsWith('authorization')) && scheme !== 'basic');
      note(f, 'key', isToken ? rest : undefined);
      return `"${g[0]}":"${REDACTED}"`;
    }
    if (g[2] !== undefined) {
      // header line in free text
      const v = (g[3] ?? '').trim();
      if (v === '' || isRedactedValue(v) || v.startsWith(REDACTED)) return m;
      const { scheme, rest } = stripScheme(v);
      const isToken = g[2].toLowerCase().endsWith('authorization') && scheme !== 'basic';
      note(f, 'header_text', isToken ? rest : undefined);
      return `${g[2]}: ${REDACTED}`;
    }
    if (g[4] !== undefined) {
      const v = g[5] ?? '';
      const basic = g[4].toLowerCase() === 'basic';
      note(f, 'auth_scheme', basic ? undefined : v);
      return `${g[4]} ${REDACTED}`;
    }
    if (g[6] !== undefined) {
      const at = jwtStart(m);
      if (at < 0) return m;
      note(f, 'jwt', m.slice(at));
      return m.slice(0, at) + REDACTED;
    }
    // name=value parameter
    const v = g[11] ?? '';
    if (v === '' || isRedactedValue(v)) return m;
    const name = (g[9] ?? '').toLowerCase();
    if (name === 'code' && !isCodeLike(v)) return m;
    note(f, 'param', TOKEN_PARAMS.has(name) ? v : undefined);
    return `${g[8]}${g[9]}${g[10]}${REDACTED}`;
  });
}

/** Redact secrets in free text (log lines, webhook payloads, dead-letter raw lines). */
export function redactText(s: string): string {
  return redactString(s, { count: 0, kinds: {}, tokens: [] });
}

// --- object walk -----------------------------------------------------------------------

// Keys whose whole value is a secret, whatever it looks like.
const SECRET_KEY_RE =
  /^(?:.*[-_])?(?:authorization|cookie|api[-_]?key)$|^(?:x-auth-token|x-access-token|client_secret|client-secret|password|passwd|access_token|refresh_token|id_token|assertion|client_assertion|subject_token|actor_token|device_code|code_verifier|private_key|secret)$/i;
// Keys that are secrets only as request parameters (`code` under query/form/body).
const PARAM_ONLY_KEYS = new Set(['code', 'token']);
const PARAM_CONTEXT_RE = /^(?:query|querystring|query_string|query_params|params|args|form|form_params|body|request_body|post_data|data)$/i;

const secretKeyCache = new Map<string, boolean>();
/** Is `key` (under `parentKey`) a key whose whole value is a secret? */
export function isSecretKey(key: string, parentKey: string | undefined): boolean {
  let plain = secretKeyCache.get(key);
  if (plain === undefined) {
    plain = SECRET_KEY_RE.test(key);
    if (secretKeyCache.size < 10_000) secretKeyCache.set(key, plain);
  }
  if (plain) return true;
  if (parentKey === undefined || (key.length !== 4 && key.length !== 5)) return false;
  return PARAM_ONLY_KEYS.has(key.toLowerCase()) && PARAM_CONTEXT_RE.test(parentKey);
}

// Key-based secrets whose value is a token (fingerprinted), as opposed to passwords, cookies, codes.
const TOKEN_KEY_RE = /authorization$|token$/;

/** Walks deeper than this are cut short; validation rejects such events as too_large anyway. */
const MAX_WALK_DEPTH = 64;

export class RedactionDepthError extends Error {
  readonly code = 'REDACTION_TOO_DEEP';
}

function setOwn(obj: Record<string, unknown> | unknown[], key: string | number, value: unknown): void {
  // `__proto__` from JSON.parse is an own property; plain assignment would change the prototype instead.
  if (key === '__proto__') Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
  else (obj as Record<string, unknown>)[key as string] = value;
}

/** Shape statistics gathered by the same walk, so size limits cost no second pass. */
export interface WalkStats {
  depth: number;
  keys: number;
  longestArray: number;
  longestString: number;
  longestKey: number;
}

export type Redactor = (obj: Record<string, unknown>, stats?: WalkStats) => RedactionReport;

/** State of one redaction walk (module-level functions instead of per-call closures: this is the hot path). */
interface Walk {
  report: RedactionReport;
  f: StringFindings;
  st: WalkStats;
  pathStack: Array<string | number>;
}

function changed(w: Walk, container: Record<string, unknown> | unknown[], key: string | number, value: string): void {
  setOwn(container, key, value);
  if (value.length > w.st.longestString) w.st.longestString = value.length;
  if (w.report.fields.length < MAX_REPORTED_FIELDS) {
    const path = w.pathStack.join('.');
    if (!w.report.fields.includes(path)) w.report.fields.push(path);
  }
}

function visitString(w: Walk, container: Record<string, unknown> | unknown[], key: string | number, value: string, parentKey: string | undefined, secretCtx: boolean): void {
  const st = w.st;
  if (value.length > st.longestString) st.longestString = value.length;
  if (value.length === 0) return;
  const keyStr = typeof key === 'string' ? key : undefined;
  if (secretCtx || (keyStr !== undefined && (isSecretKey(keyStr, parentKey) || keyStr === 'token' || keyStr === 'Token'))) {
    if (isRedactedValue(value)) return;
    const { scheme, rest } = stripScheme(value);
    const k = (keyStr ?? parentKey ?? '').toLowerCase();
    const isToken = scheme === 'bearer' || scheme === 'dpop' || (scheme === undefined && TOKEN_KEY_RE.test(k));
    note(w.f, 'key', isToken && rest ? rest : undefined);
    changed(w, container, key, REDACTED);
    return;
  }
  if (value.length < 8 || !MAYBE_SECRET_RE.test(value) || isRedactedValue(value)) return;
  const before = w.f.count;
  const out = redactString(value, w.f);
  if (w.f.count !== before) changed(w, container, key, out);
}

function visit(w: Walk, container: Record<string, unknown> | unknown[], key: string | number, value: unknown, parentKey: string | undefined, secretCtx: boolean, depth: number): void {
  if (typeof value === 'string') return visitString(w, container, key, value, parentKey, secretCtx);
  const keyStr = typeof key === 'string' ? key : undefined;
  if (value === null || typeof value !== 'object') {
    if ((typeof value === 'number' || typeof value === 'bigint') && (secretCtx || (keyStr !== undefined && isSecretKey(keyStr, parentKey)))) {
      note(w.f, 'key');
      changed(w, container, key, REDACTED);
    }
    return;
  }
  const st = w.st;
  if (depth > st.depth) st.depth = depth;
  if (depth >= MAX_WALK_DEPTH) throw new RedactionDepthError(`nested deeper than ${MAX_WALK_DEPTH} levels at ${w.pathStack.join('.')}`);
  const secretHere = secretCtx || (keyStr !== undefined && isSecretKey(keyStr, parentKey));
  const ctxKey = keyStr ?? parentKey;
  const stack = w.pathStack;
  if (Array.isArray(value)) {
    if (value.length > st.longestArray) st.longestArray = value.length;
    for (let i = 0; i < value.length; i++) {
      stack.push(i);
      visit(w, value, i, value[i], ctxKey, secretHere, depth + 1);
      stack.pop();
    }
  } else {
    visitObject(w, value as Record<string, unknown>, ctxKey, secretHere, depth + 1);
  }
}

function visitObject(w: Walk, o: Record<string, unknown>, parentKey: string | undefined, secretCtx: boolean, childDepth: number): void {
  const keys = Object.keys(o);
  const st = w.st;
  const stack = w.pathStack;
  st.keys += keys.length;
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    if (k.length > st.longestKey) st.longestKey = k.length;
    const v = o[k];
    if (typeof v === 'string') {
      // The common case inline (no calls, no path bookkeeping): a string that is not under
      // a secret key and that the pre-check finds clean; visitString decides the rest.
      if (v.length > st.longestString) st.longestString = v.length;
      if (v.length === 0) continue;
      if (!secretCtx && k !== 'token' && k !== 'Token' && !isSecretKey(k, parentKey) && (v.length < 8 || !MAYBE_SECRET_RE.test(v))) continue;
    }
    stack.push(k);
    visit(w, o, k, v, parentKey, secretCtx, childDepth);
    stack.pop();
  }
}

/**
 * A redactor bound to the fingerprint secret. It redacts `obj` deeply in place and sets
 * `token.fp` to the first token's fingerprint when the producer sent none. `stats`, when
 * given, receives the shape of the object (for size limits without a second walk). Throws
 * RedactionDepthError only when the object nests deeper than 64 levels (the ingestor
 * rejects those as too_large).
 */
export function createRedactor(secret: Buffer): Redactor {
  return function redact(obj: Record<string, unknown>, stats?: WalkStats): RedactionReport {
    const w: Walk = {
      report: { count: 0, fields: [], kinds: {}, fingerprints: [] },
      f: { count: 0, kinds: {}, tokens: [] },
      st: stats ?? { depth: 0, keys: 0, longestArray: 0, longestString: 0, longestKey: 0 },
      pathStack: [],
    };
    w.st.depth = 1;
    visitObject(w, obj, undefined, false, 2);

    const report = w.report;
    report.count = w.f.count;
    report.kinds = w.f.kinds;
    for (const t of w.f.tokens) {
      const fp = fingerprint(secret, t);
      if (!report.fingerprints.includes(fp)) report.fingerprints.push(fp);
    }
    if (report.fingerprints.length > 0) {
      const tok = obj.token;
      if (tok === undefined) setOwn(obj, 'token', { fp: report.fingerprints[0] });
      else if (tok !== null && typeof tok === 'object' && !Array.isArray(tok)) {
        const t = tok as Record<string, unknown>;
        if (t.fp === undefined || t.fp === REDACTED) t.fp = report.fingerprints[0];
      }
    }
    return report;
  };
}
