// Operations endpoints, public by design: liveness, readiness (store open, rules loaded) and
// Prometheus metrics. They reveal no alert data.
import type { FastifyInstance } from 'fastify';
import { AppError } from '../../errors.js';
import { errorBodySchema } from './error-schema.js';
import type { ApiDeps } from './deps.js';

const statusSchema = {
  type: 'object',
  required: ['status'],
  properties: {
    status: { type: 'string' },
    checks: { type: 'object', properties: { store: { type: 'boolean' }, rules: { type: 'boolean' } } },
  },
} as const;

export async function healthRoutes(app: FastifyInstance, opts: { deps: ApiDeps }): Promise<void> {
  const { store, rules, metrics } = opts.deps;

  app.get('/healthz', { config: { access: 'public' }, schema: { tags: ['operations'], summary: 'Process is up', response: { 200: statusSchema } } }, async () => ({
    status: 'ok',
  }));

  app.get(
    '/readyz',
    {
      config: { access: 'public' },
      schema: { tags: ['operations'], summary: 'Store open and rules loaded', response: { 200: statusSchema, 503: errorBodySchema } },
    },
    async () => {
      const storeOk = store.db.open;
      const rulesOk = rules.list().length > 0;
      if (!storeOk || !rulesOk) throw new AppError('NOT_READY', `The service is not ready (store: ${storeOk ? 'open' : 'closed'}, rules: ${rulesOk ? 'loaded' : 'none loaded'}).`);
      return { status: 'ready', checks: { store: storeOk, rules: rulesOk } };
    },
  );

  app.get('/metrics', { config: { access: 'public' }, schema: { tags: ['operations'], summary: 'Prometheus metrics' } }, async (_req, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });
}
