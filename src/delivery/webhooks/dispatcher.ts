// Webhook fan-out and delivery. The enqueue side turns alert/action changes into outbox rows
// (called from the store's transaction listeners); the dispatcher loop claims due rows and
// delivers them with bounded concurrency, a timeout per endpoint, exponential backoff with
// full jitter, 429 Retry-After, 410 = endpoint disabled, and a dead-letter state after
// max_attempts. Clock, sleep-free scheduling and randomness are injectable for tests.
import type { Action, Alert } from '../../alerts/alert.js';
import type { Config } from '../../config/config.js';
import type { Logger } from '../../observability/logger.js';
import type { Metrics } from '../../observability/metrics.js';
import type { Store } from '../../store/store.js';
import { parseDuration } from '../../util/duration.js';
import { backoffDelay, parseRetryAfter, DEFAULT_BACKOFF, type BackoffPolicy } from './backoff.js';
import type { WebhookOutbox, DeliveryRow } from './outbox.js';
import {
  actionPayload,
  alertPayload,
  deliveryId,
  digestPayload,
  endpointWantsAction,
  endpointWantsAlert,
  type DigestCounts,
} from './payload.js';
import { sendWebhook, type SendResult } from './sender.js';
import { checkWebhookUrl, type Resolver } from './ssrf-guard.js';

type EndpointConfig = Config['webhooks']['endpoints'][number];

/** Validates every endpoint URL against the SSRF policy; called when config is loaded. */
export function validateWebhookConfig(webhooks: Config['webhooks']): void {
  const names = new Set<string>();
  for (const ep of webhooks.endpoints) {
    if (names.has(ep.name)) throw new Error(`webhook endpoint name ${ep.name} is used twice`);
    names.add(ep.name);
    checkWebhookUrl(ep.url, webhooks.allow_private_targets);
  }
}

export function defaultPublicUrl(config: Config): string {
  return config.http.public_url ?? `http://${config.http.host.includes(':') ? `[${config.http.host}]` : config.http.host}:${config.http.port}`;
}

/** Turns changes into outbox rows for the endpoints whose filters match. */
export class WebhookEnqueuer {
  constructor(
    private readonly outbox: WebhookOutbox,
    private readonly endpoints: readonly EndpointConfig[],
    publicUrl: string | (() => string),
    private readonly now: () => number = Date.now,
  ) {
    this.publicUrlOf = typeof publicUrl === 'string' ? () => publicUrl : publicUrl;
  }

  /** resolved per change: the listen address is known only after start-up */
  private readonly publicUrlOf: () => string;

  alertsChanged(changes: ReadonlyArray<{ alert: Alert; isNew: boolean }>): number {
    let n = 0;
    const nowMs = this.now();
    const ts = new Date(nowMs).toISOString();
    for (const { alert, isNew } of changes) {
      // an alert born suppressed (a rule filter matched) is recorded, not pushed to playbooks
      if (isNew && alert.status === 'suppressed') continue;
      for (const ep of this.endpoints) {
        if (!endpointWantsAlert(ep, alert)) continue;
        const payload = alertPayload(alert, isNew, ts, this.publicUrlOf());
        const id = deliveryId(ep.name, [payload.type, alert.id, alert.count, alert.last_seen, alert.status]);
        // creations are never merged away; later updates merge into a not-yet-sent update
        this.outbox.enqueue({ id, endpoint: ep.name, payload, coalesceKey: isNew ? null : `${ep.name}|alert|${alert.id}`, nowMs });
        n++;
      }
    }
    return n;
  }

  actionsChanged(
    changes: ReadonlyArray<{ action: Action; previous: Action['status'] | null }>,
    ruleOf: (alertId: string) => { id: string; name: string; level: string } | null = () => null,
  ): number {
    let n = 0;
    const nowMs = this.now();
    const ts = new Date(nowMs).toISOString();
    for (const { action, previous } of changes) {
      if (previous === action.status) continue; // only state changes go out
      const rule = action.alert ? ruleOf(action.alert) : null;
      for (const ep of this.endpoints) {
        if (!endpointWantsAction(ep, action, rule)) continue;
        const payload = actionPayload(action, previous, ts, this.publicUrlOf());
        this.outbox.enqueue({ id: deliveryId(ep.name, ['action.changed', action.id, action.status, action.updated_at]), endpoint: ep.name, payload, nowMs });
        n++;
      }
    }
    return n;
  }

  digest(counts: DigestCounts): number {
    let n = 0;
    const nowMs = this.now();
    for (const ep of this.endpoints) {
      if (!ep.events.includes('digest')) continue;
      const payload = digestPayload(counts, new Date(nowMs).toISOString(), this.publicUrlOf());
      this.outbox.enqueue({ id: deliveryId(ep.name, ['digest', counts.since, counts.until]), endpoint: ep.name, payload, nowMs });
      n++;
    }
    return n;
  }
}

/**
 * Wires the enqueuer into the store: outbox rows are written by the store's transaction
 * listeners (same connection, same transaction), and the dispatcher is woken after commit.
 */
export function attachWebhooksToStore(
  store: Pick<Store, 'onAlertsChanged' | 'onActionsChanged' | 'onCommit'>,
  enqueuer: WebhookEnqueuer,
  dispatcher?: WebhookDispatcher,
): () => void {
  const offs = [
    store.onAlertsChanged((_tx, changes) => {
      enqueuer.alertsChanged(changes);
    }),
    store.onActionsChanged((tx, changes) => {
      const ruleStmt = tx.prepare<[string], { id: string; name: string; level: string }>('SELECT rule_id AS id, rule_name AS name, level FROM alerts WHERE id = ?');
      enqueuer.actionsChanged(changes, (alertIdValue) => ruleStmt.get(alertIdValue) ?? null);
    }),
  ];
  if (dispatcher) offs.push(store.onCommit(() => dispatcher.nudge()));
  return () => offs.forEach((off) => off());
}

export interface DispatcherOptions {
  outbox: WebhookOutbox;
  endpoints: readonly EndpointConfig[];
  allowPrivate: boolean;
  logger: Logger;
  metrics?: Metrics;
  concurrency?: number;
  /** how often the loop looks for due deliveries */
  pollMs?: number;
  backoff?: BackoffPolicy;
  /** lease beyond the endpoint timeout before a claimed row may be claimed again (crash recovery) */
  leaseMarginMs?: number;
  now?: () => number;
  random?: () => number;
  resolver?: Resolver;
  send?: typeof sendWebhook;
}

export class WebhookDispatcher {
  private readonly endpoints: Map<string, EndpointConfig & { timeoutMs: number }>;
  private readonly concurrency: number;
  private readonly pollMs: number;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly send: typeof sendWebhook;
  private readonly inFlight = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private stopping = false;

  constructor(private readonly o: DispatcherOptions) {
    this.endpoints = new Map(o.endpoints.map((e) => [e.name, { ...e, timeoutMs: parseDuration(e.timeout) }]));
    this.concurrency = o.concurrency ?? 4;
    this.pollMs = o.pollMs ?? 1000;
    this.now = o.now ?? Date.now;
    this.random = o.random ?? Math.random;
    this.send = o.send ?? sendWebhook;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.stopping = false;
    this.schedule(0);
  }

  /** Stops claiming new work and waits for attempts in flight (each bounded by its timeout). */
  async stop(): Promise<void> {
    this.stopping = true;
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await Promise.allSettled([...this.inFlight]);
  }

  /** Wake the loop now (e.g. right after an alert transaction committed). */
  nudge(): void {
    if (this.running && !this.stopping) this.schedule(0);
  }

  private schedule(ms: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.tick()
        .catch((err: unknown) => this.o.logger.error({ err }, 'webhook dispatcher tick failed'))
        .finally(() => {
          if (this.running && !this.stopping && !this.timer) this.schedule(this.pollMs);
        });
    }, ms);
    this.timer.unref(); // the dispatcher never keeps the process alive by itself
  }

  private async tick(): Promise<void> {
    const started = this.claimAndStart();
    if (started.length) await Promise.race(started);
  }

  private claimAndStart(): Promise<void>[] {
    const free = this.concurrency - this.inFlight.size;
    const nowMs = this.now();
    // lease = the endpoint's timeout plus margin: a crashed attempt is retried after that
    const rows = this.o.outbox.claimDue(nowMs, free, (row) => (this.endpoints.get(row.endpoint)?.timeoutMs ?? 5000) + (this.o.leaseMarginMs ?? 30_000));
    const started: Promise<void>[] = [];
    for (const row of rows) {
      const p = this.deliver(row).finally(() => {
        this.inFlight.delete(p);
        this.nudge();
      });
      this.inFlight.add(p);
      started.push(p);
    }
    this.updateGauge();
    return started;
  }

  /**
   * Deliver everything currently due, and keep going while deliveries become due within
   * the injected clock's present (tests advance the clock between calls). Bounded by `maxRounds`.
   */
  async runOnce(maxRounds = 100): Promise<number> {
    let total = 0;
    for (let round = 0; round < maxRounds; round++) {
      const started = this.claimAndStart();
      if (started.length === 0 && this.inFlight.size === 0) break;
      total += started.length;
      await Promise.race([...this.inFlight]);
    }
    await Promise.allSettled([...this.inFlight]);
    return total;
  }

  private updateGauge(): void {
    if (!this.o.metrics) return;
    const c = this.o.outbox.counts();
    this.o.metrics.webhookOutbox.set({ state: 'pending' }, c.pending);
    this.o.metrics.webhookOutbox.set({ state: 'dead' }, c.dead);
  }

  private async deliver(row: DeliveryRow): Promise<void> {
    const ep = this.endpoints.get(row.endpoint);
    const log = this.o.logger;
    const count = (outcome: string) => this.o.metrics?.webhookDeliveries.inc({ endpoint: row.endpoint, outcome });
    if (!ep) {
      this.o.outbox.dead(row.pk, null, 'endpoint no longer configured', this.now());
      count('dead');
      return;
    }
    if (this.o.outbox.disabledEndpoints().has(ep.name)) {
      this.o.outbox.dead(row.pk, null, 'endpoint disabled (410 Gone)', this.now());
      count('dead');
      return;
    }
    let res: SendResult;
    try {
      res = await this.send({
        url: ep.url,
        secret: ep.secret,
        msgId: row.id,
        body: row.payload,
        // real wall-clock time: receivers check webhook-timestamp against their own clock
        timestampMs: Date.now(),
        timeoutMs: ep.timeoutMs,
        allowPrivate: this.o.allowPrivate,
        resolver: this.o.resolver,
      });
    } catch (err) {
      res = { status: null, retryAfter: null, error: `send failed: ${(err as Error).message}`, refused: false };
    }
    const nowMs = this.now();
    const ctx = { endpoint: ep.name, delivery: row.id, type: row.event_type, attempt: row.attempts, status: res.status };
    if (res.status !== null && res.status >= 200 && res.status < 300) {
      this.o.outbox.delivered(row.pk, res.status, nowMs);
      count('delivered');
      log.debug(ctx, 'webhook delivered');
      return;
    }
    if (res.refused) {
      this.o.outbox.dead(row.pk, null, res.error ?? 'target refused', nowMs);
      count('refused');
      log.warn({ ...ctx, error: res.error }, 'webhook target refused by SSRF policy; delivery dead-lettered');
      return;
    }
    if (res.status === 410) {
      this.o.outbox.dead(row.pk, 410, 'endpoint answered 410 Gone', nowMs);
      const more = this.o.outbox.disableEndpoint(ep.name, 'answered 410 Gone', nowMs);
      count('gone');
      log.warn({ ...ctx, dead_lettered: more + 1 }, 'webhook endpoint answered 410 Gone; endpoint disabled');
      return;
    }
    const error = res.error ?? `HTTP ${res.status}`;
    if (row.attempts >= ep.max_attempts) {
      this.o.outbox.dead(row.pk, res.status, `${error} (gave up after ${row.attempts} attempts)`, nowMs);
      count('dead');
      log.warn({ ...ctx, error }, 'webhook delivery dead-lettered after max attempts');
      return;
    }
    let delay = backoffDelay(row.attempts, this.o.backoff ?? DEFAULT_BACKOFF, this.random);
    if (res.status === 429 || res.status === 503) {
      const ra = parseRetryAfter(res.retryAfter, nowMs);
      if (ra !== null) delay = ra;
    }
    this.o.outbox.retryAt(row.pk, nowMs + delay, res.status, error, nowMs);
    count(res.status === null ? (res.error?.startsWith('timeout') ? 'timeout' : 'error') : res.status === 429 ? 'throttled' : 'failed');
    log.info({ ...ctx, error, retry_in_ms: delay }, 'webhook delivery failed; will retry');
  }
}
