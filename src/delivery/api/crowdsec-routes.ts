// CrowdSec LAPI-compatible decision stream, so existing CrowdSec bouncers enforce block_ip:
//   GET /v1/decisions/stream?startup=true|false   (X-Api-Key: a key from bouncers.api_keys)
// Response as LAPI sends it: {"new": [...] | null, "deleted": [...] | null}; each decision
// {duration, id, origin, scenario, scope: "Ip" | "Range", type: "ban", value}. Each bouncer's
// position is kept per key (hashed) in the store, so a restart of either side resumes.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../../errors.js';
import type { StoredAction } from '../../store/store.js';
import type { ApiDeps } from './deps.js';

const decisionSchema = {
  type: 'object',
  properties: {
    duration: { type: 'string' },
    id: { type: 'integer' },
    origin: { type: 'string' },
    scenario: { type: 'string' },
    scope: { type: 'string' },
    type: { type: 'string' },
    value: { type: 'string' },
    until: { type: 'string' },
    uuid: { type: 'string' },
  },
} as const;

/** Go time.Duration text ("3h59m58.5s", "-1m0s"), which bouncers parse with time.ParseDuration. */
export function goDuration(ms: number): string {
  const sign = ms < 0 ? '-' : '';
  let rest = Math.abs(Math.round(ms));
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const m = Math.floor(rest / 60_000);
  rest -= m * 60_000;
  const s = (rest / 1000).toFixed(3).replace(/\.?0+$/, '');
  if (h) return `${sign}${h}h${m}m${s}s`;
  if (m) return `${sign}${m}m${s}s`;
  return `${sign}${s}s`;
}

export async function crowdsecRoutes(app: FastifyInstance, opts: { deps: ApiDeps }): Promise<void> {
  const { store } = opts.deps;
  const now = () => Date.now();

  const toLapi = (a: StoredAction) => ({
    duration: goDuration(a.expires_at ? Date.parse(a.expires_at) - now() : 0),
    id: a.pk,
    origin: 'authwatch',
    scenario: a.scenario,
    scope: a.target.includes('/') ? 'Range' : 'Ip',
    type: 'ban',
    value: a.target,
    ...(a.expires_at ? { until: a.expires_at } : {}),
    uuid: a.id,
  });
  const orNull = <T>(xs: T[]) => (xs.length ? xs : null);

  app.get(
    '/decisions/stream',
    {
      config: { access: 'bouncer' },
      schema: {
        tags: ['decisions'],
        summary: 'CrowdSec LAPI-compatible decision stream (block_ip only)',
        // Bouncers also send scopes/origins/scenario filters; unknown parameters are ignored.
        querystring: { type: 'object', properties: { startup: { type: 'boolean', default: false } } },
        response: {
          200: {
            type: 'object',
            properties: {
              new: { type: ['array', 'null'], items: decisionSchema },
              deleted: { type: ['array', 'null'], items: decisionSchema },
            },
          },
        },
      },
    },
    async (req: FastifyRequest<{ Querystring: { startup: boolean } }>) => {
      const key = req.headers['x-api-key'];
      if (typeof key !== 'string' || key === '') throw new AppError('FORBIDDEN');
      const position = store.bouncerCursor(key);
      if (req.query.startup || position === null) {
        const full = store.activeDecisions(['block_ip']);
        store.setBouncerCursor(key, full.cursor);
        return { new: orNull(full.items.map(toLapi)), deleted: null };
      }
      const d = store.decisionChanges(position, ['block_ip']);
      if (d.cursor !== position) store.setBouncerCursor(key, d.cursor);
      return { new: orNull(d.new.map(toLapi)), deleted: orNull(d.deleted.map(toLapi)) };
    },
  );
}
