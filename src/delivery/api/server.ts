// The HTTP service: one fastify instance carrying the auth hooks (every route protected by its
// declared access rule), the error mapping (clients get {code, message}, never internals),
// rate limits, request logs without secrets (debug; 5xx at warn), metrics by route template, the OpenAPI document,
// and the route plugins of each area under /v1.
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { AppError, ERROR_CODES, type ErrorCode } from '../../errors.js';
import { redactText } from '../../events/redaction.js';
import { parseDuration } from '../../util/duration.js';
import { createApiAuth, type ApiAuth } from '../auth/api-auth.js';
import { installAuth } from '../auth/auth-hooks.js';
import { devIssuerRoutes } from '../auth/dev-issuer-routes.js';
import type { SelfMonitor } from '../auth/self-monitor.js';
import type { ApiDeps, RouteAccess } from './deps.js';
import { healthRoutes } from './health-routes.js';
import { ingestRoutes } from './ingest-routes.js';
import { rulesRoutes } from './rules-routes.js';
import { alertsRoutes } from './alerts-routes.js';
import { actionsRoutes } from './actions-routes.js';
import { decisionsRoutes } from './decisions-routes.js';
import { crowdsecRoutes } from './crowdsec-routes.js';
import { webhooksRoutes } from './webhooks-routes.js';
import { pageRoutes } from './page-routes.js';

export interface ServerOptions {
  /** verifier and key source; built from deps.config when absent */
  auth?: ApiAuth;
  /** token fingerprint function (HMAC with the fingerprint secret) */
  fingerprint: (token: string) => string;
  /** the API's own auth outcomes go here (self-monitoring); off when null */
  selfMonitor?: SelfMonitor | null;
}

export interface ApiServer {
  app: FastifyInstance;
  auth: ApiAuth;
}

type RoutePlugin = (app: FastifyInstance, opts: { deps: ApiDeps }) => Promise<void>;

/** Area route plugins mounted under /v1 (each route declares `config.access`). */
const V1_PLUGINS: RoutePlugin[] = [rulesRoutes, webhooksRoutes, alertsRoutes, actionsRoutes, decisionsRoutes, crowdsecRoutes];

export async function buildServer(deps: ApiDeps, opts: ServerOptions): Promise<ApiServer> {
  const { config, logger, metrics } = deps;
  const auth = opts.auth ?? (await createApiAuth(config));
  const httpLog = logger.child({ component: 'http' });

  const app = Fastify({
    logger: false, // requests are logged below, with secrets stripped from the URL
    bodyLimit: config.http.body_limit_bytes,
    trustProxy: false,
    return503OnClosing: true,
    forceCloseConnections: true,
    ajv: { customOptions: { coerceTypes: 'array', removeAdditional: true, allErrors: false } },
    // Router-level refusals (bad URL encoding, an over-long path parameter) would otherwise be
    // answered by fastify with the path echoed back, token and all.
    frameworkErrors: (err, _request, reply) => {
      const code: ErrorCode = err.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'NOT_FOUND' : err.code === 'FST_ERR_BAD_URL' ? 'BAD_REQUEST' : 'INTERNAL';
      (reply as FastifyReply).code(ERROR_CODES[code].status).type('application/json; charset=utf-8').send({ code, message: ERROR_CODES[code].message });
    },
  });

  app.setErrorHandler((err: FastifyError | AppError, request, reply) => {
    const { code, status, message, headers } = toClientError(err);
    if (code === 'INTERNAL') {
      httpLog.error({ reqId: request.id, route: request.routeOptions.url, err: { message: redactText(String(err.message ?? '')), code: (err as FastifyError).code } }, 'request failed');
    }
    if (headers) reply.headers(headers);
    reply.code(status).type('application/json; charset=utf-8').send({ code, message: redactText(message) });
  });
  app.setNotFoundHandler({}, (_request, reply) => {
    reply.code(404).send({ code: 'NOT_FOUND', message: ERROR_CODES.NOT_FOUND.message });
  });

  // Routes that come from libraries (the docs UI) are public; everything else must declare access.
  app.addHook('onRoute', (route) => {
    if (route.url === '/docs' || route.url.startsWith('/docs/')) route.config = { ...(route.config ?? {}), access: 'public' };
  });

  // Form bodies are parsed only so that a token in one can be refused (two credentials).
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  installAuth(app, { auth, config, logger: httpLog, metrics, fingerprint: opts.fingerprint, selfMonitor: opts.selfMonitor });

  await app.register(rateLimit, {
    global: true,
    max: config.http.rate_limit.max,
    timeWindow: parseDuration(config.http.rate_limit.window),
    // Runs after the auth hook: a caller is counted by its client id once authenticated, else by address.
    keyGenerator: (req) => (req.principal && req.principal.kind !== 'anonymous' ? `client:${req.principal.clientId}` : `ip:${req.ip}`),
    errorResponseBuilder: () => new AppError('RATE_LIMITED'),
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'authwatch API', version: 'v1', description: 'Alerts, revocation actions and ingest for authwatch. Bearer JWT access tokens (RFC 9068) with per-route scopes.' },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
          bouncerKey: { type: 'apiKey', in: 'header', name: 'X-Api-Key' },
        },
      },
    },
    transform: ({ schema, url, route }) => {
      const access = (route.config as { access?: RouteAccess } | undefined)?.access;
      const s = { ...(schema ?? {}) } as Record<string, unknown>;
      if (access && typeof access === 'object') s.security = [{ bearer: [access.scope] }];
      else if (access === 'bouncer') s.security = [{ bouncerKey: [] }];
      return { schema: s, url };
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { config: { access: 'public' }, schema: { hide: true } }, async () => app.swagger());

  // Ajv coerces "1e309" to Infinity and lets it through `integer` + `maximum` (found by the fuzz
  // test: it reached SQLite as a LIMIT). Non-finite numbers are refused for every route here.
  app.addHook('preHandler', async (request) => {
    for (const part of [request.query, request.params]) {
      if (!part || typeof part !== 'object') continue;
      for (const v of Object.values(part as Record<string, unknown>)) {
        const vs = Array.isArray(v) ? v : [v];
        if (vs.some((x) => typeof x === 'number' && !Number.isFinite(x))) throw new AppError('VALIDATION_FAILED', 'Numbers in the query string and path must be finite.');
      }
    }
  });

  // Group commit (store synchronous 'GROUP', docs/api.md "Durability"): a write is acknowledged
  // only once it is on disk. Reads never wait for it.
  app.addHook('onSend', async (request) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') await deps.store.durable();
  });

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const status = String(reply.statusCode);
    metrics.httpRequests.inc({ route, method: request.method, status });
    metrics.httpSeconds.observe({ route, method: request.method }, reply.elapsedTime / 1000);
    // Per-request lines are debug: at 1,000 req/s an info line per request costs more than the
    // request itself. Server errors stay visible at warn (their cause is logged at error above).
    const level = reply.statusCode >= 500 ? 'warn' : 'debug';
    if (!httpLog.isLevelEnabled(level)) return;
    httpLog[level](
      {
        reqId: request.id,
        method: request.method,
        route,
        path: redactText(request.url.split('?', 1)[0]).slice(0, 512),
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
        client: request.principal?.clientId,
        ip: request.ip,
      },
      'request',
    );
  });

  await app.register(healthRoutes, { deps });
  await app.register(pageRoutes, { deps }); // GET / and /page/*: the built-in page (public shell)
  await app.register(devIssuerRoutes, { auth });
  await app.register(
    async (v1) => {
      if (config.http.ingest) await v1.register(ingestRoutes, { deps });
      for (const plugin of V1_PLUGINS) await v1.register(plugin, { deps });
    },
    { prefix: '/v1' },
  );
  return { app, auth };
}

/** Map any error to what a client may see. Unknown errors become INTERNAL with the fixed message. */
export function toClientError(err: unknown): { code: ErrorCode; status: number; message: string; headers?: Record<string, string> } {
  if (err instanceof AppError) return { code: err.code, status: err.status, message: err.message, headers: err.headers };
  const e = err as Partial<FastifyError> & { validation?: Array<{ instancePath?: string; message?: string }>; validationContext?: string };
  if (e.validation) {
    const first = e.validation[0];
    const where = `${e.validationContext ?? 'request'}${first?.instancePath ?? ''}`;
    return { code: 'VALIDATION_FAILED', status: 400, message: `${where} ${first?.message ?? 'is invalid'}`.slice(0, 300) };
  }
  const status = typeof e.statusCode === 'number' ? e.statusCode : 500;
  const byStatus: Record<number, ErrorCode> = { 404: 'NOT_FOUND', 413: 'PAYLOAD_TOO_LARGE', 415: 'UNSUPPORTED_MEDIA_TYPE', 429: 'RATE_LIMITED', 503: 'NOT_READY' };
  const code: ErrorCode = byStatus[status] ?? (status >= 400 && status < 500 ? 'BAD_REQUEST' : 'INTERNAL');
  // Library messages can echo input (a JSON parse error quotes the body): clients get the fixed text.
  return { code, status: ERROR_CODES[code].status, message: ERROR_CODES[code].message };
}
