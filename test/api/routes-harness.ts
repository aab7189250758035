// A minimal real HTTP server (127.0.0.1, ephemeral port) around D1's route plugins, with the
// production error mapping (toClientError) and ajv options, and a stand-in for the auth layer:
// the caller's client id and scopes come from test headers, bouncer keys from the config.
// The full stack (real tokens through buildServer) is covered where D2's server mounts these.
import Fastify, { type FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';
import { loadConfig, type Config } from '../../src/config/config.js';
import { AppError } from '../../src/errors.js';
import { actionsRoutes } from '../../src/delivery/api/actions-routes.js';
import { alertsRoutes } from '../../src/delivery/api/alerts-routes.js';
import { crowdsecRoutes } from '../../src/delivery/api/crowdsec-routes.js';
import { decisionsRoutes } from '../../src/delivery/api/decisions-routes.js';
import type { ApiDeps, RouteAccess } from '../../src/delivery/api/deps.js';
import { toClientError } from '../../src/delivery/api/server.js';
import { createLogger } from '../../src/observability/logger.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { openStore, type Store, type StoreOptions } from '../../src/store/store.js';
import { tempDbFile } from '../store/helpers.js';

export interface RoutesHarness {
  app: FastifyInstance;
  url: string;
  store: Store;
  config: Config;
  /** headers for a caller with these scopes */
  as(clientId: string, scopes: string[]): Record<string, string>;
  close(): Promise<void>;
}

export async function startRoutes(o: { bouncerKeys?: string[]; store?: StoreOptions; file?: string } = {}): Promise<RoutesHarness> {
  const config = loadConfig({ env: {}, overrides: { 'bouncers.api_keys': o.bouncerKeys ?? [] } });
  const metrics = createMetrics();
  const logger = createLogger({ level: 'silent' });
  const store = openStore(o.file ?? tempDbFile('aw-routes-'), { metrics, ...o.store });
  const deps = { config, logger, metrics, store } as unknown as ApiDeps;
  const app = Fastify({ logger: false, forceCloseConnections: true, ajv: { customOptions: { coerceTypes: 'array', removeAdditional: true, allErrors: false } } });
  app.decorateRequest('principal', null as never);
  app.addHook('onRequest', async (req) => {
    const access = req.routeOptions.config?.access as RouteAccess | undefined;
    if (!access) throw new AppError('FORBIDDEN');
    if (access === 'bouncer') {
      const key = req.headers['x-api-key'];
      if (typeof key !== 'string' || !config.bouncers.api_keys.includes(key)) throw new AppError('FORBIDDEN');
      req.principal = { clientId: 'bouncer', sub: null, scopes: [], kind: 'bouncer' };
      return;
    }
    if (access === 'public') return;
    const clientId = req.headers['x-test-client'];
    if (typeof clientId !== 'string') throw new AppError('UNAUTHORIZED');
    const scopes = String(req.headers['x-test-scopes'] ?? '').split(' ').filter(Boolean);
    if (!scopes.includes(access.scope)) throw new AppError('INSUFFICIENT_SCOPE');
    req.principal = { clientId, sub: null, scopes, kind: 'token' };
  });
  app.setErrorHandler((err, _req, reply) => {
    const e = toClientError(err);
    if (e.headers) reply.headers(e.headers);
    reply.code(e.status).send({ code: e.code, message: e.message });
  });
  await app.register(
    async (v1) => {
      await v1.register(alertsRoutes, { deps });
      await v1.register(actionsRoutes, { deps });
      await v1.register(decisionsRoutes, { deps });
      await v1.register(crowdsecRoutes, { deps });
    },
    { prefix: '/v1' },
  );
  await app.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  return {
    app,
    url,
    store,
    config,
    as: (clientId, scopes) => ({ 'x-test-client': clientId, 'x-test-scopes': scopes.join(' ') }),
    async close() {
      await app.close();
      store.close();
    },
  };
}

export async function call(url: string, init: RequestInit & { json?: unknown } = {}): Promise<{ status: number; headers: Headers; body: any; text: string }> {
  const { json, ...rest } = init;
  const res = await fetch(url, json === undefined ? rest : { ...rest, method: rest.method ?? 'POST', body: JSON.stringify(json), headers: { 'content-type': 'application/json', ...(rest.headers as Record<string, string>) } });
  const text = await res.text();
  let body: unknown = null;
  try {
    body = JSON.parse(text);
  } catch {
    body = null;
  }
  return { status: res.status, headers: res.headers, body, text };
}
