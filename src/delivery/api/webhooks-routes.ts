// /v1/webhooks/deliveries: the outbox seen by operators (scope webhooks:admin): list by state
// (the dead letters are ?state=dead), one delivery, and manual replay of a dead delivery
// (pending again with a fresh attempt budget, same webhook-id; re-enables an endpoint that
// had answered 410). Payloads are the thin, redacted bodies that were (or will be) sent.
import type { FastifyInstance } from 'fastify';
import { AppError } from '../../errors.js';
import { encodeCursor, decodePkCursor } from '../../store/store.js';
import { DELIVERY_STATES, DeliveryNotFoundError, DeliveryStateError, WebhookOutbox, type DeliveryState } from '../webhooks/outbox.js';
import { errorBodySchema } from './error-schema.js';
import type { ApiDeps } from './deps.js';

export const WEBHOOKS_ADMIN_SCOPE = 'webhooks:admin';

const deliverySchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    endpoint: { type: 'string' },
    event_type: { type: 'string' },
    state: { type: 'string', enum: [...DELIVERY_STATES] },
    attempts: { type: 'integer' },
    next_attempt_at: { type: ['string', 'null'] },
    last_status: { type: ['integer', 'null'] },
    last_error: { type: ['string', 'null'] },
    created_at: { type: 'string' },
    updated_at: { type: 'string' },
    delivered_at: { type: ['string', 'null'] },
    payload: { type: 'object', additionalProperties: true },
  },
} as const;

const errors = { 400: errorBodySchema, 401: errorBodySchema, 403: errorBodySchema, 404: errorBodySchema, 409: errorBodySchema };

export async function webhooksRoutes(app: FastifyInstance, opts: { deps: ApiDeps }): Promise<void> {
  const outbox = new WebhookOutbox(opts.deps.store.db);
  const access = { scope: WEBHOOKS_ADMIN_SCOPE };

  app.get<{ Querystring: { state?: DeliveryState; endpoint?: string; limit: number; cursor?: string } }>(
    '/webhooks/deliveries',
    {
      config: { access },
      schema: {
        tags: ['webhooks'],
        summary: 'Webhook deliveries, newest first (?state=dead lists the dead letters)',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            state: { type: 'string', enum: [...DELIVERY_STATES] },
            endpoint: { type: 'string', maxLength: 200 },
            limit: { type: 'integer', minimum: 1, maximum: 500, default: 100 },
            cursor: { type: 'string', minLength: 1, maxLength: 200 },
          },
        },
        response: { 200: { type: 'object', properties: { items: { type: 'array', items: deliverySchema }, next_cursor: { type: ['string', 'null'] } } }, ...errors },
      },
    },
    async (req) => {
      const q = req.query;
      const page = outbox.list({ state: q.state, endpoint: q.endpoint, limit: q.limit, before: q.cursor ? decodePkCursor(q.cursor) : undefined });
      return { items: page.items, next_cursor: page.next === null ? null : encodeCursor({ pk: page.next }) };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/webhooks/deliveries/:id',
    {
      config: { access },
      schema: {
        tags: ['webhooks'],
        summary: 'One webhook delivery',
        params: { type: 'object', properties: { id: { type: 'string', maxLength: 100 } }, required: ['id'] },
        response: { 200: deliverySchema, ...errors },
      },
    },
    async (req) => {
      const d = outbox.get(req.params.id);
      if (!d) throw new AppError('NOT_FOUND', 'No webhook delivery with this id.');
      return d;
    },
  );

  app.post<{ Params: { id: string } }>(
    '/webhooks/deliveries/:id/replay',
    {
      config: { access },
      schema: {
        tags: ['webhooks'],
        summary: 'Replay a dead delivery (same webhook-id, fresh attempts; re-enables its endpoint)',
        params: { type: 'object', properties: { id: { type: 'string', maxLength: 100 } }, required: ['id'] },
        response: { 200: deliverySchema, ...errors },
      },
    },
    async (req) => {
      try {
        const d = outbox.replay(req.params.id, Date.now());
        opts.deps.logger.info({ delivery: d.id, endpoint: d.endpoint, actor: req.principal?.clientId }, 'webhook delivery replayed');
        return d;
      } catch (err) {
        if (err instanceof DeliveryNotFoundError) throw new AppError('NOT_FOUND', 'No webhook delivery with this id.');
        if (err instanceof DeliveryStateError) throw new AppError('CONFLICT', 'Only dead deliveries can be replayed.');
        throw err;
      }
    },
  );
}
