// /v1/actions: revocation actions (block an IP/CIDR, revoke a token fingerprint, disable a
// client, require re-authentication): list, get, create manually, approve, reject, lift.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ACTION_STATUSES, ACTION_TYPES, type ActionStatus, type ActionType } from '../../alerts/alert.js';
import { AppError } from '../../errors.js';
import type { ManualActionInput } from '../../store/store.js';
import type { ApiDeps } from './deps.js';

export const actionSchema = {
  type: 'object',
  required: ['id', 'type', 'target', 'status'],
  properties: {
    id: { type: 'string' },
    type: { type: 'string', enum: [...ACTION_TYPES] },
    target: { type: 'string' },
    ttl: { type: 'string' },
    status: { type: 'string', enum: [...ACTION_STATUSES] },
    approval: { type: 'string', enum: ['required', 'auto'] },
    reason: { type: 'string' },
    alert: { type: ['string', 'null'] },
    scenario: { type: 'string' },
    created_at: { type: 'string', format: 'date-time' },
    updated_at: { type: 'string', format: 'date-time' },
    expires_at: { type: ['string', 'null'], format: 'date-time' },
  },
} as const;

const errorSchema = { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } } } as const;
const errors = { 400: errorSchema, 404: errorSchema, 409: errorSchema } as const;
const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9_-]+$' } },
} as const;
const commentBody = {
  anyOf: [{ type: 'object', properties: { comment: { type: 'string', maxLength: 2000 } }, additionalProperties: false }, { type: 'null' }],
} as const;

const listOf = (values: readonly string[]) => ({ type: 'string', maxLength: 200, pattern: `^(${values.join('|')})(,(${values.join('|')}))*$` });

export async function actionsRoutes(app: FastifyInstance, opts: { deps: ApiDeps }): Promise<void> {
  const { store } = opts.deps;

  app.get(
    '/actions',
    {
      config: { access: { scope: 'actions:read' } },
      schema: {
        tags: ['actions'],
        summary: 'List actions, newest first',
        querystring: {
          type: 'object',
          properties: {
            type: listOf(ACTION_TYPES),
            status: listOf(ACTION_STATUSES),
            alert: { type: 'string', maxLength: 100 },
            limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
            cursor: { type: 'string', minLength: 1, maxLength: 200 },
          },
          additionalProperties: false,
        },
        response: { 200: { type: 'object', properties: { items: { type: 'array', items: actionSchema }, next_cursor: { type: ['string', 'null'] } } }, ...errors },
      },
    },
    async (req: FastifyRequest<{ Querystring: { type?: string; status?: string; alert?: string; limit: number; cursor?: string } }>) => {
      const q = req.query;
      return store.listActions(
        { type: q.type?.split(',') as ActionType[] | undefined, status: q.status?.split(',') as ActionStatus[] | undefined, alert: q.alert },
        q.limit,
        q.cursor,
      );
    },
  );

  app.get(
    '/actions/:id',
    { config: { access: { scope: 'actions:read' } }, schema: { tags: ['actions'], summary: 'One action', params: idParams, response: { 200: actionSchema, ...errors } } },
    async (req: FastifyRequest<{ Params: { id: string } }>) => {
      const a = store.getAction(req.params.id);
      if (!a) throw new AppError('NOT_FOUND', 'No action with this id.');
      return a;
    },
  );

  app.post(
    '/actions',
    {
      config: { access: { scope: 'actions:write' } },
      schema: {
        tags: ['actions'],
        summary: 'Create an action manually (active at once unless approval is "required")',
        body: {
          type: 'object',
          required: ['type', 'target', 'ttl', 'reason'],
          properties: {
            type: { type: 'string', enum: [...ACTION_TYPES] },
            // validated by type in the store: IP/CIDR, tfp_ fingerprint (raw tokens refused), client id
            target: { type: 'string', minLength: 1, maxLength: 8192 },
            ttl: { type: 'string', minLength: 2, maxLength: 20 },
            reason: { type: 'string', minLength: 1, maxLength: 500 },
            approval: { type: 'string', enum: ['auto', 'required'] },
            comment: { type: 'string', maxLength: 2000 },
          },
          additionalProperties: false,
        },
        response: { 201: actionSchema, ...errors },
      },
    },
    async (req: FastifyRequest<{ Body: ManualActionInput & { comment?: string } }>, reply) => {
      const { comment, ...input } = req.body;
      const action = store.createAction(input, req.principal.clientId, comment);
      return reply.code(201).send(action);
    },
  );

  for (const op of ['approve', 'reject', 'lift'] as const) {
    app.post(
      `/actions/:id/${op}`,
      {
        config: { access: { scope: 'actions:write' } },
        schema: { tags: ['actions'], summary: `Action lifecycle: ${op}`, params: idParams, body: commentBody, response: { 200: actionSchema, ...errors } },
      },
      async (req: FastifyRequest<{ Params: { id: string }; Body: { comment?: string } | null }>) =>
        store.transitionAction(req.params.id, op, req.principal.clientId, req.body?.comment),
    );
  }
}
