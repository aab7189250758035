// One onRequest hook enforces every route's `config.access` (see api/deps.ts), so no route
// can forget protection: a route without an access rule is refused (fail closed). Errors
// follow RFC 6750; bodies say only "missing", "invalid" or "insufficient scope", never which
// check failed. The outcome of every check on a protected route is recorded for self-monitoring.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../../config/config.js';
import { AppError } from '../../errors.js';
import { parseDuration } from '../../util/duration.js';
import type { AuthResult } from '../../events/event.js';
import type { Logger } from '../../observability/logger.js';
import type { Metrics } from '../../observability/metrics.js';
import type { Principal } from '../api/deps.js';
import type { ApiAuth } from './api-auth.js';
import { SELF_OBSERVER, type SelfMonitor } from './self-monitor.js';
import { TOKEN_CACHE_MAX, TokenRejected, tokenCacheKey, tokenFacts, type TokenFacts } from './token-verifier.js';

export const REALM = 'authwatch';
const ANONYMOUS: Principal = Object.freeze({ clientId: 'anonymous', sub: null, scopes: [], kind: 'anonymous' }) as Principal;
// RFC 6750 b64token after "Bearer" and one or more spaces.
const BEARER_RE = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/** What the auth check concluded, kept on the request until the response status is known. */
export interface AuthOutcome {
  result: AuthResult;
  scheme: 'bearer' | 'none' | 'other' | 'basic';
  detail?: string;
  fp?: string;
  facts?: TokenFacts;
  requiredScope?: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    authOutcome?: AuthOutcome;
  }
}

export interface AuthHookOptions {
  auth: ApiAuth;
  config: Config;
  logger: Logger;
  metrics: Metrics;
  /** token fingerprint (HMAC with the fingerprint secret), so the raw token never leaves this module */
  fingerprint: (token: string) => string;
  selfMonitor?: SelfMonitor | null;
}

function challenge(extra?: string): string {
  return `Bearer realm="${REALM}"${extra ? ', ' + extra : ''}`;
}

const missing = () => new AppError('UNAUTHORIZED', undefined, { 'www-authenticate': challenge() });
const invalid = () => new AppError('INVALID_TOKEN', undefined, { 'www-authenticate': challenge('error="invalid_token"') });
const invalidRequest = (message: string) => new AppError('BAD_REQUEST', message, { 'www-authenticate': challenge('error="invalid_request"') });

/**
 * Failed credential checks per client address. The request rate limiter counts only requests
 * that passed authentication (it keys by client id); this bounds guessing: past the same budget
 * of failures in the window, an address gets 429 before any signature is checked.
 */
class FailureLimiter {
  private readonly hits = new Map<string, { count: number; resetAt: number }>();
  constructor(
    private readonly max: number,
    private readonly windowMs: number,
    private readonly maxAddresses = 50_000,
  ) {}

  /** seconds until the address may try again, or 0 when it is under the budget */
  retryAfter(ip: string, now = Date.now()): number {
    const e = this.hits.get(ip);
    if (!e || e.resetAt <= now || e.count < this.max) return 0;
    return Math.max(1, Math.ceil((e.resetAt - now) / 1000));
  }

  fail(ip: string, now = Date.now()): void {
    let e = this.hits.get(ip);
    if (!e || e.resetAt <= now) {
      if (this.hits.size >= this.maxAddresses) {
        for (const [k, v] of this.hits) if (v.resetAt <= now) this.hits.delete(k);
        // still full of live entries: drop the oldest (Map keeps insertion order)
        if (this.hits.size >= this.maxAddresses) this.hits.delete(this.hits.keys().next().value as string);
      }
      e = { count: 0, resetAt: now + this.windowMs };
      this.hits.delete(ip);
      this.hits.set(ip, e);
    }
    e.count++;
  }
}

/**
 * Fingerprint and decoded facts of recently presented tokens, by tokenCacheKey (never the token):
 * both are pure functions of the token bytes, and the HMAC plus two base64/JSON decodes were a
 * visible share of a cached-page request. Bounded; oldest inserted dropped first.
 */
class TokenDerivedCache {
  private readonly map = new Map<string, { fp: string; facts: TokenFacts | undefined }>();
  constructor(private readonly max: number) {}
  get(key: string, derive: () => { fp: string; facts: TokenFacts | undefined }): { fp: string; facts: TokenFacts | undefined } {
    let e = this.map.get(key);
    if (!e) {
      e = derive();
      if (this.map.size >= this.max) this.map.delete(this.map.keys().next().value as string);
      this.map.set(key, e);
    }
    return e;
  }
}

export function installAuth(app: FastifyInstance, o: AuthHookOptions): void {
  const derived = new TokenDerivedCache(TOKEN_CACHE_MAX);
  const bouncerKeyHashes = o.config.bouncers.api_keys.map((k) => createHash('sha256').update(k).digest());
  const failures = new FailureLimiter(o.config.http.rate_limit.max, parseDuration(o.config.http.rate_limit.window));

  app.decorateRequest('principal', null as unknown as Principal);
  app.decorateRequest('authOutcome', undefined);

  app.addHook('onRequest', async (request) => {
    request.principal = ANONYMOUS;
    const access = request.routeOptions.config?.access;
    const qs = request.url.indexOf('?');
    if (qs >= 0 && new URLSearchParams(request.url.slice(qs + 1)).has('access_token')) {
      if (access && typeof access === 'object') {
        const token = new URLSearchParams(request.url.slice(qs + 1)).get('access_token') ?? '';
        request.authOutcome = { result: 'other', scheme: 'bearer', detail: 'token in query string', fp: token ? o.fingerprint(token) : undefined, requiredScope: access.scope };
      }
      throw new AppError('TOKEN_IN_QUERY', undefined, { 'www-authenticate': challenge('error="invalid_request"') });
    }
    if (request.is404) return; // the not-found handler answers 404; nothing to protect
    if (access === 'public') return;
    const wait = failures.retryAfter(request.ip);
    if (wait > 0) throw new AppError('RATE_LIMITED', undefined, { 'retry-after': String(wait) });
    if (access === 'bouncer') return checkBouncer(request);
    if (!access || typeof access !== 'object' || typeof access.scope !== 'string') {
      o.logger.error({ route: request.routeOptions.url }, 'route has no access rule; refusing (fail closed)');
      throw new AppError('FORBIDDEN');
    }
    await checkBearer(request, access.scope);
  });

  // RFC 6750 form-body tokens are not supported; a form body carrying one next to the header is two credentials.
  app.addHook('preValidation', async (request) => {
    const ct = request.headers['content-type'] ?? '';
    if (!ct.toLowerCase().startsWith('application/x-www-form-urlencoded')) return;
    const body = request.body as Record<string, unknown> | null;
    if (body && typeof body === 'object' && 'access_token' in body) {
      if (request.authOutcome) Object.assign(request.authOutcome, { result: 'other', detail: 'token in a form body as well' });
      throw invalidRequest('More than one credential was presented.');
    }
  });

  app.addHook('onResponse', async (request, reply) => {
    const out = request.authOutcome;
    if (!out) return;
    if (out.result !== 'ok' && out.result !== 'insufficient_scope' && out.result !== 'jwks_unavailable') failures.fail(request.ip);
    o.metrics.apiAuth.inc({ result: out.result });
    o.selfMonitor?.record(selfEvent(request, reply, out));
  });

  async function checkBearer(request: FastifyRequest, scope: string): Promise<void> {
    const raw = request.raw.rawHeaders;
    let authHeaders = 0;
    for (let i = 0; i < raw.length; i += 2) if (raw[i].toLowerCase() === 'authorization') authHeaders++;
    const header = request.headers.authorization;
    if (authHeaders > 1) {
      request.authOutcome = { result: 'malformed_token', scheme: 'bearer', detail: 'more than one Authorization header', requiredScope: scope };
      throw invalidRequest('More than one credential was presented.');
    }
    if (!header) {
      request.authOutcome = { result: 'missing_token', scheme: 'none', requiredScope: scope };
      throw missing();
    }
    const scheme = header.split(' ', 1)[0].toLowerCase();
    if (scheme !== 'bearer') {
      // Another scheme is not a bearer credential at all: a plain challenge, as for no header.
      request.authOutcome = { result: 'missing_token', scheme: scheme === 'basic' ? 'basic' : 'other', detail: 'not a bearer credential', requiredScope: scope };
      throw missing();
    }
    const m = BEARER_RE.exec(header);
    if (!m) {
      request.authOutcome = { result: 'malformed_token', scheme: 'bearer', detail: 'malformed Authorization header', requiredScope: scope };
      throw invalidRequest('The Authorization header is malformed.');
    }
    const token = m[1];
    const key = tokenCacheKey(token);
    const d = derived.get(key, () => ({ fp: o.fingerprint(token), facts: Buffer.byteLength(token) <= o.config.auth.max_token_bytes ? tokenFacts(token) : undefined }));
    const outcome: AuthOutcome = { result: 'ok', scheme: 'bearer', fp: d.fp, requiredScope: scope };
    request.authOutcome = outcome;
    if (d.facts) outcome.facts = d.facts;
    let verified;
    try {
      verified = await o.auth.verifier.verify(token, key);
    } catch (err) {
      const rej = err instanceof TokenRejected ? err : new TokenRejected('other', 'verification error');
      outcome.result = rej.result;
      outcome.detail = rej.detail;
      if (rej.status === 503) throw new AppError('AUTH_UNAVAILABLE', undefined, { 'retry-after': '5' });
      throw invalid();
    }
    request.principal = { clientId: verified.clientId, sub: verified.sub, scopes: verified.scopes, kind: 'token' };
    if (!verified.scopes.includes(scope)) {
      outcome.result = 'insufficient_scope';
      throw new AppError('INSUFFICIENT_SCOPE', undefined, { 'www-authenticate': challenge(`error="insufficient_scope", scope="${scope}"`) });
    }
  }

  function checkBouncer(request: FastifyRequest): void {
    const key = request.headers['x-api-key'];
    if (typeof key !== 'string' || key === '') {
      request.authOutcome = { result: 'missing_token', scheme: 'none', detail: 'no bouncer api key' };
      throw new AppError('FORBIDDEN');
    }
    const fp = o.fingerprint(key);
    const h = createHash('sha256').update(key).digest();
    let match = -1;
    // Compare against every key (no early exit) in constant time per key.
    bouncerKeyHashes.forEach((k, i) => {
      if (timingSafeEqual(k, h) && match < 0) match = i;
    });
    if (match < 0) {
      request.authOutcome = { result: 'other', scheme: 'other', detail: 'unknown bouncer api key', fp };
      throw new AppError('FORBIDDEN');
    }
    request.authOutcome = { result: 'ok', scheme: 'other', fp };
    request.principal = { clientId: `bouncer-${match + 1}`, sub: null, scopes: [], kind: 'bouncer' };
  }
}

function selfEvent(request: FastifyRequest, reply: FastifyReply, out: AuthOutcome): Record<string, unknown> {
  const token: Record<string, unknown> = { ...(out.facts ?? {}) };
  // facts are shared by every request with the same token (cache): the event gets its own arrays
  for (const [k, v] of Object.entries(token)) if (Array.isArray(v)) token[k] = [...v];
  if (out.fp) token.fp = out.fp;
  if (request.principal.kind === 'token') token.client_id = request.principal.clientId;
  const ev: Record<string, unknown> = {
    time: new Date().toISOString(),
    observer: { ...SELF_OBSERVER },
    source: { ip: request.ip, ...(typeof request.headers['user-agent'] === 'string' ? { user_agent: request.headers['user-agent'].slice(0, 512) } : {}) },
    http: {
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched',
      status: reply.statusCode,
      route_class: out.requiredScope === 'rules:admin' ? 'restricted' : 'protected',
    },
    auth: {
      result: out.result,
      scheme: out.scheme,
      ...(out.detail ? { detail: out.detail } : {}),
      ...(out.requiredScope ? { required_scopes: [out.requiredScope] } : {}),
    },
  };
  if (Object.keys(token).length) ev.token = token;
  return ev;
}
