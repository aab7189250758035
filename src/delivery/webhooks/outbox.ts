// The durable webhook outbox (tables in migrations/200-webhook-outbox.sql). Enqueueing runs
// on the store's connection inside the alert/action transaction, so an alert is committed
// together with its deliveries or not at all. Claiming marks an attempt and leases the row
// (next_attempt_at moves past the attempt's timeout), so a crash mid-delivery leaves the row
// pending and it is delivered again after the lease: at least once, same webhook-id.
import type Database from 'better-sqlite3';
import type { WebhookEventType, WebhookPayload } from './payload.js';

export const DELIVERY_STATES = ['pending', 'delivered', 'dead'] as const;
export type DeliveryState = (typeof DELIVERY_STATES)[number];

export interface DeliveryRow {
  pk: number;
  id: string;
  endpoint: string;
  event_type: WebhookEventType;
  payload: string;
  state: DeliveryState;
  attempts: number;
  next_attempt_at: number;
  last_status: number | null;
  last_error: string | null;
  created_at: string;
  updated_at: string;
  delivered_at: string | null;
}

/** A delivery as the API shows it: the payload is parsed, never re-signed or altered. */
export interface DeliveryView extends Omit<DeliveryRow, 'payload' | 'pk' | 'next_attempt_at'> {
  next_attempt_at: string | null;
  payload: WebhookPayload;
}

export class DeliveryNotFoundError extends Error {
  readonly code = 'NOT_FOUND';
}
export class DeliveryStateError extends Error {
  readonly code = 'CONFLICT';
}

export class WebhookOutbox {
  private readonly insert: Database.Statement;
  private readonly coalesce: Database.Statement;
  private readonly due: Database.Statement;
  private readonly lease: Database.Statement;
  private readonly markDelivered: Database.Statement;
  private readonly markRetry: Database.Statement;
  private readonly markDead: Database.Statement;
  private readonly disabledGet: Database.Statement;

  constructor(private readonly db: Database.Database) {
    this.insert = db.prepare(
      `INSERT OR IGNORE INTO webhook_deliveries (id, endpoint, event_type, coalesce_key, payload, state, attempts, next_attempt_at, created_at, updated_at)
       VALUES (@id, @endpoint, @event_type, @coalesce_key, @payload, 'pending', 0, @now_ms, @now, @now)`,
    );
    // An alert updated many times before its first attempt is sent once, with the latest data.
    this.coalesce = db.prepare(
      `UPDATE webhook_deliveries SET payload = @payload, updated_at = @now
       WHERE coalesce_key = @coalesce_key AND state = 'pending' AND attempts = 0`,
    );
    this.due = db.prepare(`SELECT * FROM webhook_deliveries WHERE state = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, pk LIMIT ?`);
    this.lease = db.prepare(
      `UPDATE webhook_deliveries SET attempts = attempts + 1, next_attempt_at = @lease_until, updated_at = @now
       WHERE pk = @pk AND state = 'pending' AND next_attempt_at <= @now_ms`,
    );
    this.markDelivered = db.prepare(
      `UPDATE webhook_deliveries SET state = 'delivered', last_status = @status, last_error = NULL, delivered_at = @now, updated_at = @now WHERE pk = @pk`,
    );
    this.markRetry = db.prepare(
      `UPDATE webhook_deliveries SET next_attempt_at = @next_ms, last_status = @status, last_error = @error, updated_at = @now WHERE pk = @pk AND state = 'pending'`,
    );
    this.markDead = db.prepare(
      `UPDATE webhook_deliveries SET state = 'dead', last_status = @status, last_error = @error, updated_at = @now WHERE pk = @pk AND state = 'pending'`,
    );
    this.disabledGet = db.prepare(`SELECT endpoint, disabled_at, reason FROM webhook_endpoint_state WHERE disabled_at IS NOT NULL`);
  }

  /**
   * Queue one delivery. Call inside the caller's transaction (same connection). `coalesceKey`
   * merges with a not-yet-attempted delivery of the same thing (alert updates).
   */
  enqueue(d: { id: string; endpoint: string; payload: WebhookPayload; coalesceKey?: string | null; nowMs: number }): void {
    const now = new Date(d.nowMs).toISOString();
    const payload = JSON.stringify(d.payload);
    if (d.coalesceKey) {
      const merged = this.coalesce.run({ payload, now, coalesce_key: d.coalesceKey });
      if (merged.changes > 0) return;
    }
    this.insert.run({ id: d.id, endpoint: d.endpoint, event_type: d.payload.type, coalesce_key: d.coalesceKey ?? null, payload, now_ms: d.nowMs, now });
  }

  /** Claim up to `limit` due deliveries: each claim counts one attempt and leases the row until `leaseUntil(row)`. */
  claimDue(nowMs: number, limit: number, leaseMs: (row: DeliveryRow) => number): DeliveryRow[] {
    if (limit <= 0) return [];
    const now = new Date(nowMs).toISOString();
    return this.db.transaction(() => {
      const rows = this.due.all(nowMs, limit) as DeliveryRow[];
      const claimed: DeliveryRow[] = [];
      for (const row of rows) {
        const r = this.lease.run({ pk: row.pk, lease_until: nowMs + leaseMs(row), now, now_ms: nowMs });
        if (r.changes === 1) claimed.push({ ...row, attempts: row.attempts + 1 });
      }
      return claimed;
    }).immediate();
  }

  delivered(pk: number, status: number, nowMs: number): void {
    this.markDelivered.run({ pk, status, now: new Date(nowMs).toISOString() });
  }

  retryAt(pk: number, nextMs: number, status: number | null, error: string | null, nowMs: number): void {
    this.markRetry.run({ pk, next_ms: nextMs, status, error, now: new Date(nowMs).toISOString() });
  }

  dead(pk: number, status: number | null, error: string, nowMs: number): void {
    this.markDead.run({ pk, status, error, now: new Date(nowMs).toISOString() });
  }

  /** 410 Gone: the endpoint is disabled and its pending deliveries go to the dead letters. */
  disableEndpoint(endpoint: string, reason: string, nowMs: number): number {
    const now = new Date(nowMs).toISOString();
    return this.db.transaction(() => {
      this.db
        .prepare(`INSERT INTO webhook_endpoint_state (endpoint, disabled_at, reason) VALUES (?, ?, ?) ON CONFLICT(endpoint) DO UPDATE SET disabled_at = excluded.disabled_at, reason = excluded.reason`)
        .run(endpoint, now, reason);
      return this.db
        .prepare(`UPDATE webhook_deliveries SET state = 'dead', last_error = ?, updated_at = ? WHERE endpoint = ? AND state = 'pending'`)
        .run(`endpoint disabled: ${reason}`, now, endpoint).changes;
    })();
  }

  disabledEndpoints(): Map<string, { disabled_at: string; reason: string }> {
    const out = new Map<string, { disabled_at: string; reason: string }>();
    for (const r of this.disabledGet.all() as Array<{ endpoint: string; disabled_at: string; reason: string }>) out.set(r.endpoint, r);
    return out;
  }

  /** Manual replay of a dead delivery: pending again with a fresh attempt budget; re-enables its endpoint. */
  replay(id: string, nowMs: number): DeliveryView {
    const now = new Date(nowMs).toISOString();
    return this.db.transaction(() => {
      const row = this.db.prepare('SELECT * FROM webhook_deliveries WHERE id = ?').get(id) as DeliveryRow | undefined;
      if (!row) throw new DeliveryNotFoundError(`no webhook delivery ${id}`);
      if (row.state !== 'dead') throw new DeliveryStateError(`delivery ${id} is ${row.state}; only dead deliveries can be replayed`);
      this.db
        .prepare(`UPDATE webhook_deliveries SET state = 'pending', attempts = 0, next_attempt_at = ?, updated_at = ? WHERE pk = ?`)
        .run(nowMs, now, row.pk);
      this.db.prepare('DELETE FROM webhook_endpoint_state WHERE endpoint = ?').run(row.endpoint);
      return toView(this.db.prepare('SELECT * FROM webhook_deliveries WHERE pk = ?').get(row.pk) as DeliveryRow);
    })();
  }

  get(id: string): DeliveryView | null {
    const row = this.db.prepare('SELECT * FROM webhook_deliveries WHERE id = ?').get(id) as DeliveryRow | undefined;
    return row ? toView(row) : null;
  }

  /** Deliveries in one state, newest first, paged by pk (`before` = the last pk of the previous page). */
  list(opts: { state?: DeliveryState; endpoint?: string; limit: number; before?: number }): { items: DeliveryView[]; next: number | null } {
    const where: string[] = [];
    const args: unknown[] = [];
    if (opts.state) (where.push('state = ?'), args.push(opts.state));
    if (opts.endpoint) (where.push('endpoint = ?'), args.push(opts.endpoint));
    if (opts.before !== undefined) (where.push('pk < ?'), args.push(opts.before));
    const rows = this.db
      .prepare(`SELECT * FROM webhook_deliveries ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY pk DESC LIMIT ?`)
      .all(...args, opts.limit + 1) as DeliveryRow[];
    const page = rows.slice(0, opts.limit);
    return { items: page.map(toView), next: rows.length > opts.limit ? page[page.length - 1].pk : null };
  }

  counts(): Record<DeliveryState, number> {
    const out: Record<DeliveryState, number> = { pending: 0, delivered: 0, dead: 0 };
    for (const r of this.db.prepare('SELECT state, COUNT(*) AS n FROM webhook_deliveries GROUP BY state').all() as Array<{ state: DeliveryState; n: number }>) out[r.state] = r.n;
    return out;
  }

  /** Retention: delivered rows older than `beforeIso` go; dead ones stay until replayed or purged with the alerts' horizon. */
  purge(beforeIso: string): number {
    return this.db.prepare(`DELETE FROM webhook_deliveries WHERE state != 'pending' AND updated_at < ?`).run(beforeIso).changes;
  }
}

function toView(row: DeliveryRow): DeliveryView {
  const { pk: _pk, payload, next_attempt_at, ...rest } = row;
  return { ...rest, next_attempt_at: row.state === 'pending' ? new Date(next_attempt_at).toISOString() : null, payload: JSON.parse(payload) as WebhookPayload };
}
