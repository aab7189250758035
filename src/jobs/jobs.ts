// The scheduled jobs themselves: retention purge, action expiry, the daily digest and the
// JWKS monitor round. Each is a plain function over the store (and outbox/monitor), so the
// scheduler only decides when, and tests call them directly.
import type { Config } from '../config/config.js';
import type { Store } from '../store/store.js';
import type { JwksMonitor } from '../monitors/jwks-monitor.js';
import type { WebhookEnqueuer } from '../delivery/webhooks/dispatcher.js';
import type { WebhookOutbox } from '../delivery/webhooks/outbox.js';
import type { DigestCounts } from '../delivery/webhooks/payload.js';
import { parseDuration } from '../util/duration.js';
import type { JobDefinition } from './scheduler.js';

export const JOB_NAMES = ['retention', 'action-expiry', 'digest', 'jwks-monitor'] as const;
export type JobName = (typeof JOB_NAMES)[number];

const DAY_MS = 86_400_000;

export interface JobDeps {
  config: Config;
  store: Store;
  outbox?: WebhookOutbox;
  enqueuer?: WebhookEnqueuer;
  jwksMonitor?: JwksMonitor;
  now?: () => number;
}

/** Counts of alerts created in (since, until], by rule and level. */
export function digestCounts(store: Store, since: string, until: string): DigestCounts {
  const rows = store.db
    .prepare<[string, string], { rule: string; level: string; count: number }>(
      'SELECT rule_name AS rule, level, COUNT(*) AS count FROM alerts WHERE created_at > ? AND created_at <= ? GROUP BY rule_name, level ORDER BY count DESC, rule_name',
    )
    .all(since, until);
  const by_level: Record<string, number> = {};
  let total = 0;
  for (const r of rows) {
    by_level[r.level] = (by_level[r.level] ?? 0) + r.count;
    total += r.count;
  }
  return { since, until, total, by_rule: rows, by_level };
}

/**
 * The digest: counts since the previous digest (or the last 24 h on the first run), queued
 * to every endpoint subscribed to 'digest' in the same transaction that moves the digest
 * position forward, so a crash neither skips nor repeats a period.
 */
export function runDigest(deps: JobDeps): { since: string; until: string; total: number; deliveries: number } {
  const nowMs = (deps.now ?? Date.now)();
  const db = deps.store.db;
  return db.transaction(() => {
    const until = new Date(nowMs).toISOString();
    const row = db.prepare<[], { value: string | null }>("SELECT value FROM job_state WHERE job = 'digest'").get();
    const since = row?.value ?? new Date(nowMs - DAY_MS).toISOString();
    const counts = digestCounts(deps.store, since, until);
    const deliveries = deps.enqueuer ? deps.enqueuer.digest(counts) : 0;
    db.prepare(
      "INSERT INTO job_state (job, last_run_at, value) VALUES ('digest', ?, ?) ON CONFLICT (job) DO UPDATE SET last_run_at = excluded.last_run_at, value = excluded.value",
    ).run(until, until);
    return { since, until, total: counts.total, deliveries };
  }).immediate();
}

export function createJobs(deps: JobDeps): JobDefinition[] {
  const now = deps.now ?? Date.now;
  const { config, store } = deps;
  const r = config.store.retention;
  const jobs: JobDefinition[] = [
    {
      name: 'retention',
      cron: config.jobs.retention_cron,
      run: () => {
        const res = store.purge(
          { alertsOlderThan: parseDuration(r.alerts), auditOlderThan: parseDuration(r.audit), rejectedOlderThan: parseDuration(r.rejected) },
          new Date(now()),
        );
        // finished webhook deliveries follow the alerts' horizon
        const webhooks = deps.outbox?.purge(new Date(now() - parseDuration(r.alerts)).toISOString()) ?? 0;
        return { ...res, webhook_deliveries: webhooks };
      },
    },
    {
      name: 'action-expiry',
      cron: config.jobs.expiry_cron,
      // the store records expired + a decision-feed deletion; its listeners queue action.changed
      run: () => ({ expired: store.expireActions(new Date(now())).length }),
    },
    { name: 'digest', cron: config.jobs.digest_cron, run: () => runDigest(deps) },
  ];
  if (deps.jwksMonitor && config.idps.length) {
    const monitor = deps.jwksMonitor;
    jobs.push({
      name: 'jwks-monitor',
      cron: config.jobs.jwks_cron,
      run: async () => {
        const results = await monitor.checkAll();
        return { idps: results.length, failed: results.filter((x) => !x.ok).length, alerts: results.reduce((n, x) => n + x.alerts.length, 0) };
      },
    });
  }
  return jobs;
}
