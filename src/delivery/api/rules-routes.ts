// GET /v1/rules and POST /v1/rules/reload (scope rules:admin): what is loaded, and hot reload.
// A reload that finds errors keeps the running rules and answers 422 with every error.
import type { FastifyInstance } from 'fastify';
import { ERROR_CODES } from '../../errors.js';
import { errorBodySchema } from './error-schema.js';
import type { ApiDeps } from './deps.js';

const loadErrorSchema = {
  type: 'object',
  required: ['file', 'line', 'code', 'message'],
  properties: {
    file: { type: 'string' },
    line: { type: 'integer' },
    rule: { type: ['string', 'null'] },
    code: { type: 'string' },
    message: { type: 'string' },
  },
} as const;

const ruleSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    title: { type: 'string' },
    level: { type: 'string' },
    kind: { type: 'string' },
    file: { type: 'string' },
    line: { type: 'integer' },
    maturity: { type: 'string' },
    group_by: { type: 'array', items: { type: 'string' } },
    timespan_ms: { type: ['integer', 'null'] },
    suppress_ms: { type: ['integer', 'null'] },
    response: {
      type: 'array',
      items: { type: 'object', properties: { action: { type: 'string' }, ttl: { type: 'string' }, approval: { type: 'string' } } },
    },
    generate: { type: 'boolean' },
    tags: { type: 'array', items: { type: 'string' } },
  },
} as const;

const lastReloadSchema = {
  type: 'object',
  properties: { at: { type: ['string', 'null'] }, ok: { type: 'boolean' }, errors: { type: 'array', items: loadErrorSchema } },
} as const;

export async function rulesRoutes(app: FastifyInstance, opts: { deps: ApiDeps }): Promise<void> {
  const { rules } = opts.deps;

  app.get(
    '/rules',
    {
      config: { access: { scope: 'rules:admin' } },
      schema: {
        tags: ['rules'],
        summary: 'Loaded rules and the outcome of the last reload',
        response: { 200: { type: 'object', properties: { rules: { type: 'array', items: ruleSchema }, last_reload: lastReloadSchema } }, 401: errorBodySchema, 403: errorBodySchema },
      },
    },
    async () => ({ rules: rules.list(), last_reload: rules.lastReload() }),
  );

  app.post(
    '/rules/reload',
    {
      config: { access: { scope: 'rules:admin' } },
      schema: {
        tags: ['rules'],
        summary: 'Reload the rules dir; on errors the running rules stay',
        response: {
          200: { type: 'object', properties: { ok: { type: 'boolean' }, rules: { type: 'integer' }, errors: { type: 'array', items: loadErrorSchema } } },
          422: { type: 'object', properties: { ...errorBodySchema.properties, errors: { type: 'array', items: loadErrorSchema } } },
          401: errorBodySchema,
          403: errorBodySchema,
        },
      },
    },
    async (_req, reply) => {
      const r = await rules.reload();
      if (!r.ok) return reply.code(422).send({ code: 'RULES_INVALID', message: ERROR_CODES.RULES_INVALID.message, errors: r.errors });
      return { ok: true, rules: r.rules, errors: [] };
    },
  );
}
