// NGINX access logs: the default `combined` format and JSON log formats (log_format ...
// escape=json). They carry status codes, not token facts: see resultFromStatus and
// docs/adapters.md for what is inferred.
import { epochMs, normaliseTime } from '../event-time.js';
import { EVENT_LIMITS } from '../event.js';
import { mayHoldSecret } from '../redaction.js';
import { compact, statusField, strField, type AdapterContext, type AdapterResult, type Obj } from './adapter-types.js';
import { authorizationFacts, parseRequestLine, resultFromStatus, templateRoute } from './http-facts.js';

// $remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" [extra...]
const COMBINED_RE = /^(\S+) \S+ (\S+) \[([^\]]+)\] "((?:[^"\\]|\\.)*)" (\d{3}) (\d+|-)(?: "((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)")?(.*)$/;
const MONTHS: Record<string, string> = { Jan: '01', Feb: '02', Mar: '03', Apr: '04', May: '05', Jun: '06', Jul: '07', Aug: '08', Sep: '09', Oct: '10', Nov: '11', Dec: '12' };
const TIME_LOCAL_RE = /^(\d{2})\/([A-Z][a-z]{2})\/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$/;

export const DEFAULT_NGINX_OBSERVER = 'nginx';

export function looksLikeNginxCombined(line: string): boolean {
  return COMBINED_RE.test(line);
}

export function looksLikeNginxJson(o: Obj): boolean {
  return ('remote_addr' in o || 'request_uri' in o) && 'status' in o;
}

/** `10/Oct/2000:13:55:36 -0700` as RFC 3339, or undefined. */
export function timeLocalToRfc3339(s: string): string | undefined {
  // consecutive lines mostly share their second: the last conversion is remembered
  if (s === lastTimeLocal) return lastRfc3339;
  const m = TIME_LOCAL_RE.exec(s);
  const out = !m || !MONTHS[m[2]] ? undefined : `${m[3]}-${MONTHS[m[2]]}-${m[1]}T${m[4]}:${m[5]}:${m[6]}${m[7]}${m[8]}:${m[9]}`;
  lastTimeLocal = s;
  lastRfc3339 = out;
  return out;
}
let lastTimeLocal = '';
let lastRfc3339: string | undefined;

/** Epoch ms of an adapter's RFC 3339 time (NaN when invalid); both steps remember their last answer. */
function timeMsOf(time: string): number {
  return epochMs(normaliseTime(time) ?? '');
}

// nginx escapes `"` and control bytes as \xHH in access logs (most fields hold none: no regex pass then)
const unescapeNginx = (s: string) => (s.indexOf('\\x') < 0 ? s : s.replace(/\\x([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))));

interface NginxFacts {
  time: string;
  ip: string | undefined;
  method: string;
  path: string;
  protocol?: string;
  status: number;
  userAgent?: string;
  referer?: string;
  host?: string;
  requestId?: string;
  authorization?: string | null; // null: the log has the field and it was empty
}

function buildEvent(f: NginxFacts, ctx: AdapterContext): AdapterResult {
  const auth = f.authorization ? authorizationFacts(f.authorization, ctx) : undefined;
  const credentialKnown = f.authorization !== undefined;
  const { result, detail } = resultFromStatus(f.status, {
    credentialKnown,
    hasCredential: !!f.authorization,
    token: auth?.token,
    timeMs: timeMsOf(f.time),
  });
  // Built member by member, only with the fields present (what compact() would leave, in the
  // same order), so no object is built twice or left in slow dictionary mode by deletes.
  const event: Obj = { time: f.time, observer: { type: 'gateway', name: ctx.observerName ?? DEFAULT_NGINX_OBSERVER } };
  if (f.ip !== undefined || f.userAgent !== undefined) {
    const source: Obj = {};
    if (f.ip !== undefined) source.ip = f.ip;
    if (f.userAgent !== undefined) source.user_agent = f.userAgent;
    event.source = source;
  }
  const http: Obj = { method: f.method, route: templateRoute(f.path), path: f.path, status: f.status };
  if (f.protocol !== undefined) http.protocol = f.protocol;
  if (f.host !== undefined) http.host = f.host;
  if (f.referer !== undefined) http.referer = f.referer;
  if (f.requestId !== undefined) http.request_id = f.requestId;
  event.http = http;
  const authOut: Obj = { result };
  const scheme = auth ? auth.scheme : credentialKnown ? 'none' : undefined;
  if (scheme !== undefined) authOut.scheme = scheme;
  if (detail !== undefined) authOut.detail = detail;
  event.auth = authOut;
  if (auth?.token !== undefined) event.token = compact(auth.token);
  return { ok: true, event };
}

/** The combined-format match of a line, or null (for callers that detect and adapt with one exec). */
export function matchNginxCombined(line: string): RegExpExecArray | null {
  return COMBINED_RE.exec(line);
}

/** `match`: the line's matchNginxCombined result when the caller already has it. */
export function adaptNginxLine(line: string, ctx: AdapterContext, match?: RegExpExecArray | null): AdapterResult {
  const m = match === undefined ? COMBINED_RE.exec(line) : match;
  if (!m) return { ok: false, message: 'not an NGINX combined log line ($remote_addr - $remote_user [$time_local] "$request" $status ...)' };
  const time = timeLocalToRfc3339(m[3]);
  if (!time) return { ok: false, message: 'time_local: not dd/Mon/yyyy:HH:mm:ss +zzzz' };
  const req = parseRequestLine(unescapeNginx(m[4]));
  if (!req) return { ok: false, message: 'request: not "METHOD /path PROTOCOL" (NGINX logs malformed requests this way)' };
  const r = buildEvent(
    {
      time,
      ip: m[1],
      method: req.method,
      path: req.path,
      protocol: req.protocol,
      status: Number(m[5]),
      referer: strField(m[7] !== undefined ? unescapeNginx(m[7]) : undefined),
      userAgent: strField(m[8] !== undefined ? unescapeNginx(m[8]) : undefined),
    },
    ctx,
  );
  if (r.ok && combinedLineIsRedactionFree(line, m, ctx)) r.redactionFree = true;
  return r;
}

/**
 * Whether the event of a combined line needs no redaction walk (most lines: the walk cost about
 * as much as the adapter). Its strings are the address, pieces of the request line (method,
 * path, protocol, and the route made of the path's pieces and `{id}`), the referer, the user
 * agent, the observer name, an RFC 3339 time and constants; its keys are fixed and none is a
 * secret's. With no backslash in the line no \xHH or \" escape turns into other characters, so
 * each string is a piece of a field that fails the pre-check, and fails it too. A line no longer
 * than the longest allowed string keeps every string within the size limits (the shape is fixed
 * and small). Anything else takes the walk. (test/events/nginx-redaction-free.test.ts compares
 * both paths on generated lines.)
 */
function combinedLineIsRedactionFree(line: string, m: RegExpExecArray, ctx: AdapterContext): boolean {
  if (line.length > EVENT_LIMITS.maxStringLength || line.indexOf('\\') >= 0) return false;
  if (mayHoldSecret(m[1]) || mayHoldSecret(m[4]) || (m[7] !== undefined && mayHoldSecret(m[7])) || (m[8] !== undefined && mayHoldSecret(m[8]))) return false;
  return observerNameIsClean(ctx.observerName ?? DEFAULT_NGINX_OBSERVER);
}

function observerNameIsClean(name: string): boolean {
  if (name !== lastObserverName) {
    lastObserverName = name;
    lastObserverNameClean = name.length <= EVENT_LIMITS.maxStringLength && !mayHoldSecret(name);
  }
  return lastObserverNameClean;
}
let lastObserverName = DEFAULT_NGINX_OBSERVER;
let lastObserverNameClean = !mayHoldSecret(DEFAULT_NGINX_OBSERVER);

export function adaptNginxJson(o: Obj, ctx: AdapterContext): AdapterResult {
  let time = strField(o.time_iso8601) ?? strField(o['@timestamp']) ?? strField(o.timestamp);
  if (!time && typeof o.time_local === 'string') time = timeLocalToRfc3339(o.time_local);
  if (!time && (typeof o.msec === 'string' || typeof o.msec === 'number') && Number.isFinite(Number(o.msec))) {
    time = new Date(Math.round(Number(o.msec) * 1000)).toISOString();
  }
  if (!time) return { ok: false, message: 'time: none of time_iso8601, @timestamp, time_local, msec is present' };
  const status = statusField(o.status);
  if (status === undefined) return { ok: false, message: 'status: missing or not an HTTP status code' };
  const req = typeof o.request === 'string' ? parseRequestLine(o.request) : undefined;
  const method = strField(o.request_method) ?? req?.method;
  let path = strField(o.request_uri) ?? req?.path;
  if (!path && typeof o.uri === 'string') path = o.uri + (strField(o.args) ? `?${o.args as string}` : '');
  if (!method || !path) return { ok: false, message: 'request: need request_method + request_uri (or uri), or request' };
  let authorization: string | null | undefined;
  if ('http_authorization' in o) authorization = strField(o.http_authorization) ?? null;
  return buildEvent(
    {
      time,
      ip: strField(o.remote_addr) ?? strField(o.client_ip),
      method,
      path,
      protocol: strField(o.server_protocol) ?? req?.protocol,
      status,
      userAgent: strField(o.http_user_agent),
      referer: strField(o.http_referer),
      host: strField(o.host) ?? strField(o.http_host),
      requestId: strField(o.request_id),
      authorization,
    },
    ctx,
  );
}

