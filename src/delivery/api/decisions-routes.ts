// /v1/decisions: the enforcement feed. Without a cursor: every active decision (full state)
// and a cursor; with it: decisions that appeared (`new`) or went away (`deleted`) since.
// A decision is an active action of any type; gateways apply what they understand.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ACTION_TYPES, type ActionType } from '../../alerts/alert.js';
import { AppError } from '../../errors.js';
import { decodeSeqCursor, type StoredAction } from '../../store/store.js';
import type { ApiDeps } from './deps.js';

const decisionSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    type: { type: 'string', enum: [...ACTION_TYPES] },
    target: { type: 'string' },
    status: { type: 'string' },
    reason: { type: 'string' },
    alert: { type: ['string', 'null'] },
    scenario: { type: 'string' },
    expires_at: { type: ['string', 'null'], format: 'date-time' },
  },
} as const;

const errorSchema = { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } } } as const;

export async function decisionsRoutes(app: FastifyInstance, opts: { deps: ApiDeps }): Promise<void> {
  const { store } = opts.deps;
  app.get(
    '/decisions',
    {
      config: { access: { scope: 'actions:read' } },
      schema: {
        tags: ['decisions'],
        summary: 'Decision feed for enforcement points: full state without a cursor, new/deleted with one',
        querystring: {
          type: 'object',
          properties: {
            cursor: { type: 'string', maxLength: 20 },
            type: { type: 'string', maxLength: 200, pattern: `^(${ACTION_TYPES.join('|')})(,(${ACTION_TYPES.join('|')}))*$` },
          },
          additionalProperties: false,
        },
        response: {
          200: {
            type: 'object',
            properties: {
              full: { type: 'boolean' },
              new: { type: 'array', items: decisionSchema },
              deleted: { type: 'array', items: decisionSchema },
              next_cursor: { type: 'string' },
              more: { type: 'boolean' },
            },
          },
          400: errorSchema,
        },
      },
    },
    async (req: FastifyRequest<{ Querystring: { cursor?: string; type?: string } }>) => {
      const types = req.query.type?.split(',') as ActionType[] | undefined;
      if (req.query.cursor === undefined || req.query.cursor === '') {
        const full = store.activeDecisions(types);
        return { full: true, new: full.items.map(view), deleted: [], next_cursor: String(full.cursor), more: false };
      }
      const after = decodeSeqCursor(req.query.cursor);
      // A cursor from the future (another database, a restored backup) cannot be resumed safely.
      if (after > store.decisionHead()) throw new AppError('INVALID_CURSOR', 'The cursor is ahead of this feed; start again without a cursor.');
      const d = store.decisionChanges(after, types);
      return { full: false, new: d.new.map(view), deleted: d.deleted.map(view), next_cursor: String(d.cursor), more: d.more };
    },
  );
}

function view(a: StoredAction) {
  return { id: a.id, type: a.type, target: a.target, status: a.status, reason: a.reason, alert: a.alert, scenario: a.scenario, expires_at: a.expires_at };
}
