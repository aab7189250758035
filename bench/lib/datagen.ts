// Deterministic, seeded generators of realistic input for the benchmarks: authwatch NDJSON
// events (the whole contract: gateways, APIs, the IdP) and NGINX combined access-log lines.
// The same seed always gives the same lines, so figures from different runs and tools are
// measured on identical input. Pools (IPs, tokens, fingerprints) are built once per seed so
// generating is cheap next to what is measured.
import { createHash } from 'node:crypto';

/** mulberry32: tiny, fast, good enough for workload shapes (not for secrets). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const BASE_TIME_MS = Date.UTC(2026, 10, 26, 0, 0, 0);

interface RouteSpec {
  method: string;
  route: string;
  cls: 'public' | 'protected' | 'restricted';
  scope: string;
  path: (r: () => number) => string;
}

const ROUTES: RouteSpec[] = [
  { method: 'GET', route: '/api/v1/orders/{id}', cls: 'protected', scope: 'orders:read', path: (r) => `/api/v1/orders/${Math.floor(r() * 1e6)}` },
  { method: 'GET', route: '/api/v1/orders', cls: 'protected', scope: 'orders:read', path: () => '/api/v1/orders' },
  { method: 'POST', route: '/api/v1/orders', cls: 'protected', scope: 'orders:write', path: () => '/api/v1/orders' },
  { method: 'GET', route: '/api/v1/customers/{id}', cls: 'restricted', scope: 'customers:read', path: (r) => `/api/v1/customers/${Math.floor(r() * 1e5)}` },
  { method: 'PUT', route: '/api/v1/customers/{id}', cls: 'restricted', scope: 'customers:write', path: (r) => `/api/v1/customers/${Math.floor(r() * 1e5)}` },
  { method: 'GET', route: '/api/v1/catalog', cls: 'public', scope: '', path: () => '/api/v1/catalog' },
  { method: 'GET', route: '/api/v1/catalog/{sku}', cls: 'public', scope: '', path: (r) => `/api/v1/catalog/sku-${Math.floor(r() * 5e4)}` },
  { method: 'POST', route: '/api/v1/payments', cls: 'restricted', scope: 'payments:write', path: () => '/api/v1/payments' },
  { method: 'GET', route: '/api/v1/reports/{id}', cls: 'protected', scope: 'reports:read', path: (r) => `/api/v1/reports/${Math.floor(r() * 1e4)}` },
  { method: 'DELETE', route: '/api/v1/sessions/{id}', cls: 'protected', scope: 'sessions:write', path: (r) => `/api/v1/sessions/${Math.floor(r() * 1e6)}` },
];

const USER_AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148',
  'okhttp/4.12.0',
  'python-requests/2.32.3',
  'orders-service/3.4.1 (+https://example.com)',
  'curl/8.5.0',
];

const OBSERVERS = ['edge-eu-1', 'edge-eu-2', 'edge-us-1', 'edge-us-2'];
const ISSUERS = ['https://idp.example.com', 'https://login.partner.example'];
const FAILURES: Array<[result: string, status: number, weight: number]> = [
  ['missing_token', 401, 40],
  ['expired', 401, 25],
  ['bad_signature', 401, 6],
  ['malformed_token', 401, 5],
  ['unknown_kid', 401, 3],
  ['wrong_issuer', 401, 1],
  ['wrong_audience', 401, 2],
  ['insufficient_scope', 403, 15],
  ['revoked', 401, 0.5],
  ['alg_not_allowed', 401, 0.2],
  ['jwks_unavailable', 503, 0.3],
];

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)];
}

function weighted<T extends [string, number, number]>(r: () => number, xs: readonly T[]): T {
  const total = xs.reduce((s, x) => s + x[2], 0);
  let v = r() * total;
  for (const x of xs) {
    v -= x[2];
    if (v <= 0) return x;
  }
  return xs[xs.length - 1];
}

export function ipv4(n: number, prefix = 10): string {
  return `${prefix}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

function fingerprint(seed: number, i: number): string {
  return 'tfp_' + createHash('sha256').update(`bench-token-${seed}-${i}`).digest('base64url').slice(0, 22);
}

/** A JWT-shaped string (not a real token): exercises the redaction scanner like a leaked one. */
function fakeJwt(r: () => number): string {
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const sig = Buffer.from(Array.from({ length: 32 }, () => Math.floor(r() * 256))).toString('base64url');
  return `${b64({ alg: 'RS256', typ: 'JWT', kid: 'k1' })}.${b64({ sub: `u${Math.floor(r() * 1e6)}`, exp: 1900000000 })}.${sig}`;
}

export interface AuthwatchGenOptions {
  seed?: number;
  /** event-time rate: events per second of simulated traffic */
  eventsPerSecond?: number;
  clients?: number;
  tokens?: number;
  /** share of events carrying a raw bearer token in auth.detail (redaction path) */
  leakedTokenShare?: number;
  /** every `burstEvery` events, a burst of `burstSize` 401s from one attacker IP */
  burstEvery?: number;
  burstSize?: number;
  /** +/- jitter on event time, ms (out-of-order arrival within the engine's lateness) */
  jitterMs?: number;
}

/**
 * Realistic authwatch event lines: ~80% accepted tokens, 401/403 failures in realistic
 * proportions, IdP token-endpoint traffic, a few leaked raw tokens, and planted 401 bursts so
 * correlation windows fire. Yields `count` NDJSON lines (no trailing newline).
 */
export function* authwatchLines(count: number, opts: AuthwatchGenOptions = {}): Generator<string> {
  const seed = opts.seed ?? 42;
  const r = rng(seed);
  const eps = opts.eventsPerSecond ?? 2000;
  const nClients = opts.clients ?? 20_000;
  const nTokens = opts.tokens ?? 30_000;
  const leak = opts.leakedTokenShare ?? 0.001;
  const burstEvery = opts.burstEvery ?? 4000;
  const burstSize = opts.burstSize ?? 25;
  const jitter = opts.jitterMs ?? 200;
  const fps = Array.from({ length: nTokens }, (_, i) => fingerprint(seed, i));
  const apps = Array.from({ length: 200 }, (_, i) => `app-${i}`);
  const step = 1000 / eps;
  for (let i = 0; i < count; i++) {
    const t = BASE_TIME_MS + Math.floor(i * step + (r() * 2 - 1) * jitter);
    const time = new Date(t).toISOString();
    const id = `ev-${seed}-${i}`;
    const observer = pick(r, OBSERVERS);
    const k = i % burstEvery;
    if (k < burstSize) {
      // planted burst: one attacker IP (192.0.2.0/24 style range, unique per burst) hammering with bad tokens
      const burst = Math.floor(i / burstEvery);
      const ip = ipv4(burst, 172);
      const route = ROUTES[burst % ROUTES.length];
      yield JSON.stringify({
        id, time,
        observer: { type: 'gateway', name: observer, env: 'prod' },
        source: { ip, user_agent: 'python-requests/2.32.3' },
        http: { method: route.method, route: route.route, path: route.path(r), status: 401, route_class: route.cls },
        auth: { result: k % 2 ? 'bad_signature' : 'expired', scheme: 'bearer' },
        token: { fp: fps[(burst * 7919 + k) % nTokens], alg: 'RS256', iss: ISSUERS[0] },
      });
      continue;
    }
    const x = r();
    if (x < 0.05) {
      // IdP token endpoint
      const client = pick(r, apps);
      const bad = r() < 0.08;
      yield JSON.stringify({
        id, time,
        observer: { type: 'idp', name: 'idp-1', env: 'prod' },
        source: { ip: ipv4(Math.floor(r() * nClients)) },
        auth: { result: bad ? 'invalid_client' : 'ok', scheme: 'basic' },
        idp: { endpoint: 'token', grant_type: 'client_credentials', client_id: client, ...(bad ? { error: 'invalid_client' } : {}) },
      });
      continue;
    }
    const tok = Math.floor(r() * nTokens);
    // a token mostly comes from "its" client address; rarely from a random one (token-multi-ip)
    const ipN = r() < 0.0005 ? Math.floor(r() * nClients) : tok % nClients;
    const ip = ipN % 50 === 7 ? `2001:db8::${(ipN & 0xffff).toString(16)}` : ipv4(ipN);
    const route = pick(r, ROUTES);
    const ok = x < 0.85;
    const [result, status] = ok ? ['ok', route.method === 'POST' ? 201 : 200] : weighted(r, FAILURES);
    const hasToken = result !== 'missing_token';
    const ev: Record<string, unknown> = {
      id, time,
      observer: { type: r() < 0.9 ? 'gateway' : 'api', name: observer, env: 'prod' },
      source: { ip, user_agent: pick(r, USER_AGENTS) },
      http: { method: route.method, route: route.route, path: route.path(r), status, route_class: route.cls },
      auth: { result, scheme: hasToken ? 'bearer' : 'none', ...(route.scope ? { required_scopes: [route.scope] } : {}) },
    };
    if (hasToken) {
      const iat = Math.floor(t / 1000) - Math.floor(r() * 3000);
      ev.token = {
        fp: fps[tok], kid: result === 'unknown_kid' ? 'k-rotated-9' : 'k1', alg: result === 'alg_not_allowed' ? 'none' : 'RS256',
        iss: ISSUERS[tok % 2], sub: `user-${tok}`, client_id: apps[tok % apps.length], aud: 'orders-api',
        scopes: route.scope ? [route.scope] : ['openid'], iat, exp: iat + 3600,
      };
    }
    if (r() < leak) (ev.auth as Record<string, unknown>).detail = `upstream rejected Authorization: Bearer ${fakeJwt(r)}`;
    yield JSON.stringify(ev);
  }
}

// ---- NGINX combined access logs --------------------------------------------------------

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const p2 = (n: number) => (n < 10 ? '0' + n : String(n));

/** `26/Nov/2026:04:21:11 +0000` */
export function nginxTime(ms: number): string {
  const d = new Date(ms);
  return `${p2(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} +0000`;
}

export interface AccessRecord {
  ip: string;
  timeMs: number;
  method: string;
  path: string;
  route: string;
  routeClass: string;
  status: number;
  bytes: number;
  ua: string;
}

export function nginxCombined(a: AccessRecord): string {
  return `${a.ip} - - [${nginxTime(a.timeMs)}] "${a.method} ${a.path} HTTP/1.1" ${a.status} ${a.bytes} "-" "${a.ua}"`;
}

/** The same request as an authwatch event: what the NGINX adapter's output is compared with. */
export function accessAsAuthwatch(a: AccessRecord, i: number): string {
  return JSON.stringify({
    id: `ng-${i}`,
    time: new Date(a.timeMs).toISOString(),
    observer: { type: 'gateway', name: 'nginx' },
    source: { ip: a.ip, user_agent: a.ua },
    http: { method: a.method, route: a.route, path: a.path, status: a.status },
    auth: { result: a.status === 401 ? 'other' : 'ok' },
  });
}

export interface PlantedBurst {
  ip: string;
  kind: 'burst' | 'near-miss';
  count: number;
  firstMs: number;
  lastMs: number;
}

export interface AccessLogOptions {
  seed?: number;
  linesPerSecond?: number;
  clients?: number;
  /** planted bursts (≥ 20 401s within 60 s from one IP) and near misses (exactly 19) */
  bursts?: number;
  nearMisses?: number;
  /** background share of 401 responses from ordinary clients */
  background401?: number;
}

/**
 * A realistic NGINX access log with known 401 bursts. Burst and near-miss IPs come from
 * ranges no background client uses (198.18.0.0/15, benchmarking space), so the ground truth
 * is exact. Bursts vary in shape: most are compact (20-60 401s in 5-40 s), some are slow
 * (exactly 20 spread over ~55 s, the edge of the definition). Returns records in time order
 * plus the ground truth.
 */
export function accessLog(count: number, opts: AccessLogOptions = {}): { records: Generator<AccessRecord>; planted: PlantedBurst[] } {
  const seed = opts.seed ?? 7;
  const lps = opts.linesPerSecond ?? 1000;
  const nBursts = opts.bursts ?? 40;
  const nNear = opts.nearMisses ?? 20;
  const r = rng(seed);
  const durationMs = Math.floor((count / lps) * 1000);
  // Plan the planted traffic up front: each entry is a list of 401 timestamps for one IP.
  const planted: PlantedBurst[] = [];
  const events: Array<{ t: number; ip: string }> = [];
  const plan = (kind: PlantedBurst['kind'], idx: number) => {
    const ip = kind === 'burst' ? `198.18.${Math.floor(idx / 250)}.${(idx % 250) + 1}` : `198.19.${Math.floor(idx / 250)}.${(idx % 250) + 1}`;
    let n: number;
    let span: number;
    if (kind === 'near-miss') {
      n = 19;
      span = 20_000 + Math.floor(r() * 38_000);
    } else if (idx % 5 === 4) {
      n = 20;
      span = 55_000;
    } else {
      n = 20 + Math.floor(r() * 41);
      span = 5_000 + Math.floor(r() * 35_000);
    }
    const start = Math.floor((durationMs - 70_000) * ((idx + (kind === 'near-miss' ? 0.5 : 0)) / Math.max(1, kind === 'burst' ? nBursts : nNear))) + 5_000;
    const ts: number[] = [];
    for (let j = 0; j < n; j++) ts.push(start + Math.floor((span * j) / (n - 1)));
    for (const t of ts) events.push({ t, ip });
    planted.push({ ip, kind, count: n, firstMs: BASE_TIME_MS + ts[0], lastMs: BASE_TIME_MS + ts[n - 1] });
  };
  for (let b = 0; b < nBursts; b++) plan('burst', b);
  for (let b = 0; b < nNear; b++) plan('near-miss', b);
  events.sort((a, b) => a.t - b.t);
  const nClients = opts.clients ?? 100_000;
  const bg401 = opts.background401 ?? 0.04;
  const plantedCount = events.length;
  function* gen(): Generator<AccessRecord> {
    let p = 0;
    const bgCount = Math.max(0, count - plantedCount);
    const step = durationMs / Math.max(1, bgCount);
    for (let i = 0; i < bgCount; i++) {
      const t = Math.floor(i * step);
      while (p < events.length && events[p].t <= t) {
        const e = events[p++];
        const route = ROUTES[p % ROUTES.length];
        yield { ip: e.ip, timeMs: BASE_TIME_MS + e.t, method: route.method, path: route.path(r), route: route.route, routeClass: route.cls, status: 401, bytes: 0, ua: 'python-requests/2.32.3' };
      }
      const route = pick(r, ROUTES);
      const x = r();
      const status = x < bg401 ? 401 : x < bg401 + 0.02 ? 403 : x < bg401 + 0.03 ? 404 : route.method === 'POST' ? 201 : 200;
      yield {
        ip: ipv4(Math.floor(r() * nClients)), timeMs: BASE_TIME_MS + t, method: route.method, path: route.path(r), route: route.route,
        routeClass: route.cls, status, bytes: status >= 400 ? 0 : 200 + Math.floor(r() * 4000), ua: pick(r, USER_AGENTS),
      };
    }
    while (p < events.length) {
      const e = events[p++];
      const route = ROUTES[p % ROUTES.length];
      yield { ip: e.ip, timeMs: BASE_TIME_MS + e.t, method: route.method, path: route.path(r), route: route.route, routeClass: route.cls, status: 401, bytes: 0, ua: 'python-requests/2.32.3' };
    }
  }
  return { records: gen(), planted };
}
