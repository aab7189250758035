// The durable record: alerts (idempotent by deterministic id), their lifecycle, the actions
// they propose, decision and alert change feeds, the append-only audit log and rejected input.
// One SQLite file (better-sqlite3, WAL). Every write is one IMMEDIATE transaction; with
// synchronous=FULL a write that returned is on disk, so it survives kill -9 and power loss.
// With 'GROUP' (the server's default) a write that returned survives kill -9, and is on disk
// once `durable()` resolves: acknowledgements await it (see wal-sync.ts, docs/api.md "Durability").
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import {
  EVIDENCE_MAX_IDS,
  EVIDENCE_MAX_SAMPLES,
  type Action,
  type ActionStatus,
  type ActionType,
  type Alert,
  type AlertStatus,
  type Evidence,
  type Level,
} from '../alerts/alert.js';
import { alertTransition, type AlertOp } from '../alerts/alert-lifecycle.js';
import { actionTransition, alertActionId, normaliseTarget, targetFromGroup, type ActionOp } from '../actions/action-lifecycle.js';
import { AppError } from '../errors.js';
import type { Rejection } from '../events/ingest-types.js';
import { redactText } from '../events/redaction.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { AlertSink, RejectSink } from '../pipeline.js';
import { parseDuration } from '../util/duration.js';
import { migrate, MIGRATIONS_DIR } from './migrate.js';
import { WalCheckpointer } from './wal-checkpointer.js';
import { WalSync, type FsyncFn } from './wal-sync.js';

/** The open database handle, passed to transaction listeners: write with it, inside the transaction. */
export type StoreTx = Database.Database;

/** An alert as stored: the engine's alert plus when the store first/last wrote it. */
export interface StoredAlert extends Alert {
  created_at: string;
  updated_at: string;
}

export const ALERT_CHANGE_KINDS = ['created', 'updated', 'acknowledged', 'resolved', 'reopened', 'suppressed'] as const;
export type AlertChangeKind = (typeof ALERT_CHANGE_KINDS)[number];

export interface AlertChange {
  alert: StoredAlert;
  isNew: boolean;
  change: AlertChangeKind;
}

export interface ActionChange {
  action: Action;
  /** status before this change; null when the action was just created */
  previous: ActionStatus | null;
}

export type AlertsChangedListener = (tx: StoreTx, changes: AlertChange[]) => void;
export type ActionsChangedListener = (tx: StoreTx, changes: ActionChange[]) => void;

export interface StoreOptions {
  now?: () => Date;
  metrics?: Metrics;
  logger?: Logger;
  /**
   * FULL (default): a write that returned is on disk (fsync inside each commit, on the caller's
   * thread). GROUP: synchronous=NORMAL plus `durable()`, an fsync of the WAL on the thread pool
   * shared by the commits before it, and checkpoints on a worker thread; a write is on disk
   * once `durable()` resolves. NORMAL: survives a process crash only.
   */
  synchronous?: 'FULL' | 'NORMAL' | 'GROUP';
  /** GROUP: the fsync used by durable() (tests observe it); default fs.fsync */
  fsync?: FsyncFn;
  /** GROUP: how often a PASSIVE checkpoint is run after writes (default 1000 ms) */
  checkpointIntervalMs?: number;
  busyTimeoutMs?: number;
  migrationsDir?: string;
  /** alert changes held in memory for feed pages near the head (default 10,000; tests use fewer) */
  feedTailMax?: number;
}

export interface AlertFilter {
  rule?: string; // rule id or name
  level?: Level[];
  status?: AlertStatus[];
  since?: string; // alerts seen at or after (last_seen >= since)
  until?: string; // alerts seen at or before (first_seen <= until)
  group?: Array<[string, string]>;
}

export interface ActionFilter {
  type?: ActionType[];
  status?: ActionStatus[];
  alert?: string;
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export interface FeedItem {
  seq: number;
  change: AlertChangeKind;
  alert: StoredAlert;
}

/** An alert's columns as stored (group, evidence and proposed as their JSON text), unparsed. */
export type StoredAlertText = Omit<AlertRow, 'pk'>;

export interface FeedTextItem {
  seq: number;
  change: AlertChangeKind;
  alert: StoredAlertText;
}

export interface ManualActionInput {
  type: ActionType;
  target: string;
  ttl: string;
  reason: string;
  /** 'auto' (default for manual actions): active at once; 'required': proposed, needs approve */
  approval?: 'auto' | 'required';
}

export interface AuditEntry {
  seq: number;
  at: string;
  actor: string;
  entity: 'alert' | 'action';
  entity_id: string;
  op: string;
  before_status: string | null;
  after_status: string | null;
  comment: string | null;
}

export interface DecisionDelta {
  new: StoredAction[];
  deleted: StoredAction[];
  /** position after these changes; pass it back as the next cursor */
  cursor: number;
  /** more changes are waiting beyond `cursor` */
  more: boolean;
}

export interface PurgeOptions {
  alertsOlderThan?: number; // ms; also terminal actions (expired/lifted/rejected) and their feed rows
  auditOlderThan?: number;
  rejectedOlderThan?: number;
}

const REJECTED_RAW_MAX = 4096;
/** changes held by the feed tail, and read into it when it is (re)built */
const TAIL_MAX = 10_000;
const TAIL_BUILD = 2000;
const COMMENT_MAX = 2000;

interface AlertRow {
  pk: number;
  id: string;
  rule_id: string;
  rule_name: string;
  rule_title: string;
  level: string;
  group_json: string;
  count: number;
  first_seen: string;
  last_seen: string;
  evidence_json: string;
  proposed_json: string;
  status: string;
  created_at: string;
  updated_at: string;
}

interface ActionRow {
  pk: number;
  id: string;
  type: string;
  target: string;
  ttl: string;
  status: string;
  approval: string;
  reason: string;
  alert_id: string | null;
  scenario: string;
  created_at: string;
  updated_at: string;
  expires_at: string | null;
}

/** An action plus the fields only enforcement feeds need (numeric id, rule name). */
export interface StoredAction extends Action {
  pk: number;
  scenario: string;
}

function rowToAlert(r: AlertRow): StoredAlert {
  return {
    id: r.id,
    rule: { id: r.rule_id, name: r.rule_name, title: r.rule_title, level: r.level as Level },
    group: JSON.parse(r.group_json),
    count: r.count,
    first_seen: r.first_seen,
    last_seen: r.last_seen,
    evidence: JSON.parse(r.evidence_json),
    status: r.status as AlertStatus,
    proposed: JSON.parse(r.proposed_json),
    created_at: r.created_at,
    updated_at: r.updated_at,
  };
}

/**
 * Parsed alerts for the read paths (list, feed), by alert id: the newest alerts are read over
 * and over by SIEM pollers, and reading their rows (17 columns, JSON text) and parsing them
 * dominated a list or feed request. With this cache a page reads only (pk, id) or (seq, id)
 * and fetches full rows just for the alerts it does not hold.
 *
 * An entry is valid until the row may have changed, and the Store knows when (see
 * `syncReadCache`): its own writes drop the ids they wrote (or everything, for writes it
 * cannot attribute), and any other write — another connection (PRAGMA data_version), raw SQL
 * on this connection (total_changes() moved without the Store writing) — clears it all.
 * Read-only: the objects are shared between requests and must not be mutated.
 * LRU, not FIFO: a feed reader backfilling old history must not push out the newest alerts
 * that list pollers read on every request.
 */
class AlertReadCache {
  /** insertion order is recency order: the first entry is evicted first */
  private readonly map = new Map<string, { alert: StoredAlert; at: number }>();
  /** counts insertions and moves to the end: an entry's `at` says how far from the end it is */
  private clock = 0;
  constructor(private readonly max: number) {}

  /**
   * A hit moves the entry to the end only when it is in the older half: a feed page reads 100
   * alerts, and a delete + set per hit kept rehashing the map (≈ 10 % of building a feed page).
   * An entry read at least once per max/2 insertions still never reaches the front.
   */
  get(id: string): StoredAlert | undefined {
    const hit = this.map.get(id);
    if (hit && this.clock - hit.at > this.max >> 1) {
      this.map.delete(id);
      hit.at = ++this.clock;
      this.map.set(id, hit);
    }
    return hit?.alert;
  }

  set(alert: StoredAlert): void {
    this.map.delete(alert.id);
    if (this.map.size >= this.max) this.map.delete(this.map.keys().next().value as string);
    this.map.set(alert.id, { alert, at: ++this.clock });
  }

  delete(id: string): void {
    this.map.delete(id);
  }

  clear(): void {
    this.map.clear();
  }
}

/**
 * The newest alert changes (seq, change, alert id) in memory: feed readers poll near the head,
 * and reading their page's change rows was the largest part of a feed request once the
 * alerts themselves were cached. Holds every change with seq > `floor` (up to `max` of them),
 * so a page after a cursor >= floor is the same slice the query would return. Kept current
 * like the parsed-alert cache: extended from the database after the Store's own writes,
 * dropped after anything else (another connection, raw SQL, a retention delete).
 */
class FeedTail {
  private seqs: number[] = [];
  private kinds: string[] = [];
  private ids: string[] = [];
  /** every change with seq > floor is held; -1: not built */
  private floor = -1;
  /** the Store's change count the tail was last extended at */
  stamp = -1;
  constructor(private readonly max: number) {}

  get built(): boolean {
    return this.floor >= 0;
  }

  get head(): number {
    return this.seqs.length ? this.seqs[this.seqs.length - 1] : this.floor;
  }

  reset(): void {
    this.seqs = [];
    this.kinds = [];
    this.ids = [];
    this.floor = -1;
    this.stamp = -1;
  }

  /** Rows in ascending seq: every change after `head`; when building, `floorIfNew` is the seq below which changes may be missing. */
  append(rows: ReadonlyArray<[number, string, string]>, floorIfNew: number): void {
    if (!this.built) this.floor = floorIfNew;
    for (const r of rows) {
      this.seqs.push(r[0]);
      this.kinds.push(r[1]);
      this.ids.push(r[2]);
    }
    const extra = this.seqs.length - this.max;
    if (extra > 0) {
      this.floor = this.seqs[extra - 1];
      this.seqs.splice(0, extra);
      this.kinds.splice(0, extra);
      this.ids.splice(0, extra);
    }
  }

  /** The changes after `afterSeq` (at most `limit`), or null when they may reach below the tail. */
  page(afterSeq: number, limit: number): Array<[number, string, string]> | null {
    if (!this.built || afterSeq < this.floor) return null;
    let lo = 0;
    let hi = this.seqs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.seqs[mid] <= afterSeq) lo = mid + 1;
      else hi = mid;
    }
    const out: Array<[number, string, string]> = [];
    for (let i = lo; i < this.seqs.length && out.length < limit; i++) out.push([this.seqs[i], this.kinds[i], this.ids[i]]);
    return out;
  }
}

function rowToAction(r: ActionRow): StoredAction {
  return {
    id: r.id,
    type: r.type as ActionType,
    target: r.target,
    ttl: r.ttl,
    status: r.status as ActionStatus,
    approval: r.approval as Action['approval'],
    reason: r.reason,
    alert: r.alert_id,
    created_at: r.created_at,
    updated_at: r.updated_at,
    expires_at: r.expires_at,
    pk: r.pk,
    scenario: r.scenario,
  };
}

/** Merge evidence from a later state of the same alert: union of ids and samples, capped. */
function mergeEvidence(a: Evidence, b: Evidence): Evidence {
  const ids = [...a.event_ids];
  const seenIds = new Set(ids);
  for (const id of b.event_ids) {
    if (ids.length >= EVIDENCE_MAX_IDS) break;
    if (!seenIds.has(id)) {
      seenIds.add(id);
      ids.push(id);
    }
  }
  const samples = [...a.samples];
  const seenSamples = new Set(samples.map((s) => JSON.stringify(s)));
  for (const s of b.samples) {
    if (samples.length >= EVIDENCE_MAX_SAMPLES) break;
    const k = JSON.stringify(s);
    if (!seenSamples.has(k)) {
      seenSamples.add(k);
      samples.push(s);
    }
  }
  return { event_ids: ids, samples };
}

// Sort keys are opaque to clients: base64url JSON, validated on the way back in.
export function encodeCursor(key: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

export function decodePkCursor(cursor: string): number {
  try {
    if (!/^[A-Za-z0-9_-]{1,200}$/.test(cursor)) throw new Error('alphabet');
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { pk?: unknown };
    if (typeof v !== 'object' || v === null || !Number.isSafeInteger(v.pk) || (v.pk as number) < 0) throw new Error('shape');
    return v.pk as number;
  } catch {
    throw new AppError('INVALID_CURSOR');
  }
}

/** Feed cursors are the change sequence number in decimal (also the SSE event id). */
export function decodeSeqCursor(cursor: string | undefined): number {
  if (cursor === undefined || cursor === '') return 0;
  if (!/^\d{1,15}$/.test(cursor)) throw new AppError('INVALID_CURSOR');
  return Number(cursor);
}

/** Free text from callers (comments, reasons) may carry a pasted token: redact before storing. */
function cleanText(c: string, max: number): string {
  const t = c.length > max ? c.slice(0, max) : c;
  return redactText(t);
}

function truncateComment(c: string | undefined | null): string | null {
  if (c === undefined || c === null || c === '') return null;
  return cleanText(c, COMMENT_MAX);
}

export class Store implements AlertSink, RejectSink {
  readonly db: Database.Database;
  private readonly now: () => Date;
  private readonly metrics?: Metrics;
  private readonly logger?: Logger;
  private readonly alertListeners: AlertsChangedListener[] = [];
  private readonly actionListeners: ActionsChangedListener[] = [];
  private readonly commitListeners = new Set<() => void>();
  private readonly st: ReturnType<Store['prepare']>;
  // Filtered list queries vary only by which filters are present (a few dozen shapes), so
  // their compiled statements are kept instead of re-preparing on every request.
  private readonly dynamic = new Map<string, Database.Statement>();
  private readonly dynamicRaw = new Map<string, Database.Statement>();
  private readonly alertCache = new AlertReadCache(5000);
  private readonly feedTail: FeedTail;
  private readonly totalChanges: Database.Statement<[], number>;
  private readonly readTx: Database.Transaction<(fn: () => unknown) => unknown>;
  private readonly dataVersion: Database.Statement<[], number>;
  /** total_changes() after the Store's own last write, and data_version when last checked */
  private knownChanges = -1;
  private knownDataVersion = -1;
  /** false while a read runs inside someone's transaction (see readSnapshot) */
  private readCacheUsable = true;

  constructor(db: Database.Database, opts: StoreOptions = {}) {
    this.db = db;
    this.now = opts.now ?? (() => new Date());
    this.metrics = opts.metrics;
    this.logger = opts.logger;
    this.feedTail = new FeedTail(opts.feedTailMax ?? TAIL_MAX);
    this.st = this.prepare();
    this.totalChanges = db.prepare<[], number>('SELECT total_changes()').pluck();
    this.dataVersion = db.prepare<[], number>('PRAGMA data_version').pluck();
    this.readTx = db.transaction((fn: () => unknown) => fn());
  }

  /** Clears the parsed-alert cache when anything but the Store's own accounted writes changed the file. */
  private syncReadCache(): void {
    const dv = this.dataVersion.get()!;
    const tc = this.totalChanges.get()!;
    if (dv !== this.knownDataVersion || tc !== this.knownChanges) {
      this.alertCache.clear();
      this.feedTail.reset();
      this.knownDataVersion = dv;
      this.knownChanges = tc;
    }
  }

  /** `cached`, returning rows as arrays (fewer allocations for narrow, many-row reads) */
  private cachedRaw<R extends unknown[]>(sql: string): Database.Statement<unknown[], R> {
    let st = this.dynamicRaw.get(sql);
    if (!st) {
      if (this.dynamicRaw.size > 500) this.dynamicRaw.clear();
      st = this.db.prepare(sql).raw(true);
      this.dynamicRaw.set(sql, st);
    }
    return st as Database.Statement<unknown[], R>;
  }

  private cached<R>(sql: string): Database.Statement<unknown[], R> {
    let st = this.dynamic.get(sql);
    if (!st) {
      if (this.dynamic.size > 500) this.dynamic.clear();
      st = this.db.prepare(sql);
      this.dynamic.set(sql, st);
    }
    return st as Database.Statement<unknown[], R>;
  }

  private prepare() {
    const db = this.db;
    return {
      alertById: db.prepare<[string], AlertRow>('SELECT * FROM alerts WHERE id = ?'),
      alertsByIds: db.prepare<[string], AlertRow>('SELECT * FROM alerts WHERE id IN (SELECT value FROM json_each(?))'),
      // raw rows (arrays): a page reads 100 of these per request
      feedNewest: db.prepare<[number], [number, string, string]>('SELECT seq, change, alert_id FROM alert_changes ORDER BY seq DESC LIMIT ?').raw(true),
      feedChanges: db.prepare<[number, number], [number, string, string]>('SELECT seq, change, alert_id FROM alert_changes WHERE seq > ? ORDER BY seq LIMIT ?').raw(true),
      feedTextRows: db.prepare<[number, number], StoredAlertText & { seq: number; change: AlertChangeKind }>(
        `SELECT c.seq AS seq, c.change AS change, a.id, a.rule_id, a.rule_name, a.rule_title, a.level, a.group_json, a.count, a.first_seen,
           a.last_seen, a.evidence_json, a.proposed_json, a.status, a.created_at, a.updated_at
         FROM alert_changes c JOIN alerts a ON a.id = c.alert_id WHERE c.seq > ? ORDER BY c.seq LIMIT ?`,
      ),
      insertAlert: db.prepare(
        `INSERT INTO alerts (id, rule_id, rule_name, rule_title, level, group_json, count, first_seen, last_seen,
           evidence_json, proposed_json, status, created_at, updated_at)
         VALUES (@id, @rule_id, @rule_name, @rule_title, @level, @group_json, @count, @first_seen, @last_seen,
           @evidence_json, @proposed_json, @status, @created_at, @updated_at)`,
      ),
      updateAlertData: db.prepare(
        'UPDATE alerts SET count = @count, first_seen = @first_seen, last_seen = @last_seen, evidence_json = @evidence_json, updated_at = @updated_at WHERE id = @id',
      ),
      updateAlertStatus: db.prepare('UPDATE alerts SET status = ?, updated_at = ? WHERE id = ?'),
      insertGroup: db.prepare('INSERT OR IGNORE INTO alert_group (key, value, alert_pk) VALUES (?, ?, ?)'),
      insertAlertChange: db.prepare('INSERT INTO alert_changes (alert_id, change, at) VALUES (?, ?, ?)'),
      actionById: db.prepare<[string], ActionRow>('SELECT * FROM actions WHERE id = ?'),
      actionByPk: db.prepare<[number], ActionRow>('SELECT * FROM actions WHERE pk = ?'),
      insertAction: db.prepare(
        `INSERT INTO actions (id, type, target, ttl, status, approval, reason, alert_id, scenario, created_at, updated_at, expires_at)
         VALUES (@id, @type, @target, @ttl, @status, @approval, @reason, @alert_id, @scenario, @created_at, @updated_at, @expires_at)`,
      ),
      updateActionStatus: db.prepare('UPDATE actions SET status = ?, updated_at = ?, expires_at = ? WHERE id = ?'),
      openDuplicate: db.prepare<[string, string], ActionRow>(
        "SELECT * FROM actions WHERE type = ? AND target = ? AND status IN ('proposed', 'active') AND alert_id IS NULL LIMIT 1",
      ),
      insertDecisionChange: db.prepare('INSERT INTO decision_changes (action_pk, change, at) VALUES (?, ?, ?)'),
      insertAudit: db.prepare(
        'INSERT INTO audit_log (at, actor, entity, entity_id, op, before_status, after_status, comment) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      dueActions: db.prepare<[string], ActionRow>("SELECT * FROM actions WHERE status = 'active' AND expires_at IS NOT NULL AND expires_at <= ? ORDER BY pk"),
      maxDecisionSeq: db.prepare<[], { seq: number | null }>('SELECT MAX(seq) AS seq FROM decision_changes'),
      maxAlertSeq: db.prepare<[], { seq: number | null }>('SELECT MAX(seq) AS seq FROM alert_changes'),
      insertRejection: db.prepare(
        'INSERT INTO rejected_input (at, source, name, line, partition, offset, reason, message, raw) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
    };
  }

  // ---------------------------------------------------------------- listeners

  /**
   * Called synchronously INSIDE the transaction that changed alerts (engine saves and analyst
   * lifecycle changes), after the rows are written. Write to your own tables with `tx` (the
   * webhook outbox, the Kafka output queue): your rows commit or roll back with the alert, so
   * a crash never loses a delivery. Throwing aborts the whole transaction. Do no I/O here.
   */
  onAlertsChanged(fn: AlertsChangedListener): () => void {
    this.alertListeners.push(fn);
    return () => this.alertListeners.splice(this.alertListeners.indexOf(fn) >>> 0, 1);
  }

  /** Same contract as onAlertsChanged, for action creation and every action status change. */
  onActionsChanged(fn: ActionsChangedListener): () => void {
    this.actionListeners.push(fn);
    return () => this.actionListeners.splice(this.actionListeners.indexOf(fn) >>> 0, 1);
  }

  /** Called AFTER a transaction that appended to a feed commits (wakes SSE streams). Never throws into the writer. */
  onCommit(fn: () => void): () => void {
    this.commitListeners.add(fn);
    return () => this.commitListeners.delete(fn);
  }

  private notifyCommitted(): void {
    for (const fn of this.commitListeners) {
      try {
        fn();
      } catch (err) {
        this.logger?.warn({ err }, 'store commit listener failed');
      }
    }
  }

  /**
   * One IMMEDIATE write transaction, timed; listeners run inside it, commit listeners after it.
   * `alertIds`: the only alert rows `fn` may write (their cached parsed copies are dropped);
   * absent, the op is not accounted and the whole parsed-alert cache is dropped.
   */
  private write<T>(op: string, fn: () => T, alertIds?: Iterable<string>): T {
    this.syncReadCache(); // a raw write since the last one must not be folded into this one's accounting
    const end = this.metrics?.storeSeconds.startTimer({ op });
    let result: T;
    try {
      result = this.db.transaction(fn).immediate();
    } finally {
      if (alertIds) for (const id of alertIds) this.alertCache.delete(id);
      else {
        this.alertCache.clear();
        this.feedTail.reset();
      }
      this.knownChanges = this.totalChanges.get()!;
    }
    end?.();
    this.notifyCommitted();
    return result;
  }

  private iso(): string {
    return this.now().toISOString();
  }

  // ---------------------------------------------------------------- alerts

  /**
   * AlertSink: upsert by id in one transaction. A new id inserts the alert and its proposed
   * actions; a known id only takes a larger count, a later last_seen and more evidence —
   * never the engine's status, because the lifecycle belongs to analysts. Saving the same
   * alert twice changes nothing (no feed entry, no listener call).
   * `mirror` (the Kafka view materialiser, docs/kafka.md): the alert was raised and announced
   * elsewhere — store it for reading, but propose no actions (they arrive on the actions topic)
   * and call no listeners (no webhook or outbox echo from every node).
   */
  saveAlerts(alerts: Alert[], opts: { mirror?: boolean } = {}): void {
    if (alerts.length === 0) return;
    const mirror = opts.mirror === true;
    const created: Alert[] = [];
    this.write('save_alerts', () => {
      const now = this.iso();
      const changes: AlertChange[] = [];
      const actionChanges: ActionChange[] = [];
      for (const a of alerts) {
        const row = this.st.alertById.get(a.id);
        if (!row) {
          const status: AlertStatus = a.status === 'suppressed' ? 'suppressed' : 'open';
          const info = this.st.insertAlert.run({
            id: a.id,
            rule_id: a.rule.id,
            rule_name: a.rule.name,
            rule_title: a.rule.title,
            level: a.rule.level,
            group_json: JSON.stringify(a.group),
            count: a.count,
            first_seen: a.first_seen,
            last_seen: a.last_seen,
            evidence_json: JSON.stringify(mergeEvidence({ event_ids: [], samples: [] }, a.evidence)),
            proposed_json: JSON.stringify(a.proposed ?? []),
            status,
            created_at: now,
            updated_at: now,
          });
          const pk = Number(info.lastInsertRowid);
          for (const [k, v] of Object.entries(a.group)) this.st.insertGroup.run(k, String(v), pk);
          this.st.insertAlertChange.run(a.id, 'created', now);
          this.st.insertAudit.run(now, `rule:${a.rule.id}`, 'alert', a.id, 'create', null, status, null);
          const stored = rowToAlert(this.st.alertById.get(a.id)!);
          changes.push({ alert: stored, isNew: true, change: 'created' });
          created.push(a);
          // An alert the engine already marks suppressed (filtered) proposes nothing to enforce.
          if (status === 'open' && !mirror) this.createAlertActions(stored, now, actionChanges);
        } else {
          const old = rowToAlert(row);
          const evidence = mergeEvidence(old.evidence, a.evidence);
          const next = {
            count: Math.max(old.count, a.count),
            first_seen: a.first_seen < old.first_seen ? a.first_seen : old.first_seen,
            last_seen: a.last_seen > old.last_seen ? a.last_seen : old.last_seen,
            evidence_json: JSON.stringify(evidence),
          };
          if (
            next.count === old.count &&
            next.first_seen === old.first_seen &&
            next.last_seen === old.last_seen &&
            next.evidence_json === row.evidence_json
          ) {
            continue;
          }
          this.st.updateAlertData.run({ id: a.id, ...next, updated_at: now });
          this.st.insertAlertChange.run(a.id, 'updated', now);
          changes.push({ alert: rowToAlert(this.st.alertById.get(a.id)!), isNew: false, change: 'updated' });
        }
      }
      if (mirror) return;
      if (changes.length) for (const fn of this.alertListeners) fn(this.db, changes);
      if (actionChanges.length) for (const fn of this.actionListeners) fn(this.db, actionChanges);
    }, alerts.map((a) => a.id));
    if (!mirror) for (const a of created) this.metrics?.alertsRaised.inc({ rule: a.rule.id, level: a.rule.level });
  }

  /**
   * The Kafka view materialiser's upsert of an action published by some node: insert it, or
   * take its status when it is newer (updated_at) than ours. Decision changes follow, so
   * enforcement feeds on this node see it; no listeners (it was announced where it changed).
   * Returns whether anything changed.
   */
  mirrorAction(a: Action): boolean {
    return this.write('mirror_action', () => {
      const row = this.st.actionById.get(a.id);
      if (!row) {
        const alertRow = a.alert ? this.st.alertById.get(a.alert) : undefined;
        const info = this.st.insertAction.run({
          id: a.id, type: a.type, target: a.target, ttl: a.ttl, status: a.status, approval: a.approval, reason: a.reason,
          alert_id: a.alert, scenario: a.alert ? (alertRow?.rule_name ?? 'authwatch') : 'manual',
          created_at: a.created_at, updated_at: a.updated_at, expires_at: a.expires_at,
        });
        if (a.status === 'active') this.st.insertDecisionChange.run(Number(info.lastInsertRowid), 'new', this.iso());
        return true;
      }
      if (a.updated_at <= row.updated_at || (a.status === row.status && a.expires_at === row.expires_at)) return false;
      this.st.updateActionStatus.run(a.status, a.updated_at, a.expires_at, a.id);
      const now = this.iso();
      if (a.status === 'active' && row.status !== 'active') this.st.insertDecisionChange.run(row.pk, 'new', now);
      if (row.status === 'active' && a.status !== 'active') this.st.insertDecisionChange.run(row.pk, 'deleted', now);
      return true;
    }, []);
  }

  private createAlertActions(alert: StoredAlert, now: string, out: ActionChange[]): void {
    for (const p of alert.proposed) {
      const rawTarget = targetFromGroup(p.action, alert.group, alert.evidence?.samples);
      if (rawTarget === null) {
        this.logger?.warn({ alert: alert.id, rule: alert.rule.id, action: p.action }, 'proposed action has no target in the alert group; skipped');
        continue;
      }
      let target: string;
      let ttlMs: number;
      try {
        target = normaliseTarget(p.action, rawTarget);
        ttlMs = parseDuration(p.ttl);
      } catch {
        this.logger?.warn({ alert: alert.id, rule: alert.rule.id, action: p.action }, 'proposed action has an invalid target or ttl; skipped');
        continue;
      }
      const id = alertActionId(alert.id, p.action, target);
      if (this.st.actionById.get(id)) continue;
      const auto = p.approval === 'auto';
      const status: ActionStatus = auto ? 'active' : 'proposed';
      const info = this.st.insertAction.run({
        id,
        type: p.action,
        target,
        ttl: p.ttl,
        status,
        approval: p.approval,
        reason: `${alert.rule.title} (${alert.rule.id})`,
        alert_id: alert.id,
        scenario: alert.rule.name,
        created_at: now,
        updated_at: now,
        expires_at: auto ? new Date(Date.parse(now) + ttlMs).toISOString() : null,
      });
      if (auto) this.st.insertDecisionChange.run(Number(info.lastInsertRowid), 'new', now);
      this.st.insertAudit.run(now, `rule:${alert.rule.id}`, 'action', id, 'create', null, status, null);
      this.metrics?.actionsChanged.inc({ type: p.action, status });
      out.push({ action: stripAction(rowToAction(this.st.actionById.get(id)!)), previous: null });
    }
  }

  getAlert(id: string): StoredAlert | null {
    const r = this.st.alertById.get(id);
    return r ? rowToAlert(r) : null;
  }

  /** Newest first (by when the store first saw the alert), `limit` per page, opaque cursor. */
  listAlerts(filter: AlertFilter, limit: number, cursor?: string): Page<StoredAlert> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (cursor) {
      where.push('pk < ?');
      params.push(decodePkCursor(cursor));
    }
    if (filter.rule) {
      where.push('(rule_id = ? OR rule_name = ?)');
      params.push(filter.rule, filter.rule);
    }
    if (filter.level?.length) {
      where.push(`level IN (${filter.level.map(() => '?').join(',')})`);
      params.push(...filter.level);
    }
    if (filter.status?.length) {
      where.push(`status IN (${filter.status.map(() => '?').join(',')})`);
      params.push(...filter.status);
    }
    if (filter.since) {
      where.push('last_seen >= ?');
      params.push(filter.since);
    }
    if (filter.until) {
      where.push('first_seen <= ?');
      params.push(filter.until);
    }
    for (const [k, v] of filter.group ?? []) {
      where.push('pk IN (SELECT alert_pk FROM alert_group WHERE key = ? AND value = ?)');
      params.push(k, v);
    }
    const sql = `SELECT pk, id FROM alerts ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY pk DESC LIMIT ?`;
    return this.readSnapshot(() => {
      const rows = this.cachedRaw<[number, string]>(sql).all(...params, limit + 1);
      const more = rows.length > limit;
      const page = rows.slice(0, limit);
      const alerts = this.alertsById(page.map((r) => r[1]));
      // (pk, id) and the full rows are read in one snapshot, so every listed row is there
      return { items: alerts as StoredAlert[], next_cursor: more ? encodeCursor({ pk: page[page.length - 1][0] }) : null };
    });
  }

  /** Alert changes after `afterSeq`, oldest first, each with the alert's current state. */
  alertFeed(afterSeq: number, limit: number): FeedItem[] {
    return this.readSnapshot(() => {
      const changes = this.feedTailPage(afterSeq, limit) ?? this.st.feedChanges.all(afterSeq, limit);
      const alerts = this.alertsById(changes.map((c) => c[2]));
      if (alerts.every((a) => a !== undefined)) return changes.map((c, i) => ({ seq: c[0], change: c[1] as AlertChangeKind, alert: alerts[i]! }));
      // A change whose alert row is gone (deleted by another process without its changes): the
      // join skips it and still fills the page, as the feed always has.
      const rows = this.cached<AlertRow & { seq: number; change: string }>(
        `SELECT c.seq AS seq, c.change AS change, a.* FROM alert_changes c JOIN alerts a ON a.id = c.alert_id
         WHERE c.seq > ? ORDER BY c.seq LIMIT ?`,
      ).all(afterSeq, limit);
      return rows.map((r) => ({ seq: r.seq, change: r.change as AlertChangeKind, alert: rowToAlert(r) }));
    });
  }

  /**
   * A feed page for the JSON route. Near the head (the page lies in the in-memory tail) it is
   * `items`, parsed alerts from the shared cache, whose JSON the API keeps per object. Further
   * back (a reader backfilling history) it is `rows`: each alert's stored text from one joined
   * query, neither parsed nor cached, for the API to assemble its JSON from directly (parsing
   * 100 rows and serialising them again was most of a backfill request). Same changes, same
   * order and same skipped (deleted) alerts as `alertFeed`.
   */
  alertFeedForJson(afterSeq: number, limit: number): { items: FeedItem[] } | { rows: FeedTextItem[] } {
    return this.readSnapshot(() => {
      const changes = this.feedTailPage(afterSeq, limit);
      if (changes) {
        const alerts = this.alertsById(changes.map((c) => c[2]));
        if (alerts.every((a) => a !== undefined)) return { items: changes.map((c, i) => ({ seq: c[0], change: c[1] as AlertChangeKind, alert: alerts[i]! })) };
      }
      return {
        rows: this.st.feedTextRows.all(afterSeq, limit).map((r) => {
          const { seq, change, ...alert } = r;
          return { seq, change, alert };
        }),
      };
    });
  }

  /** The page's change rows from the in-memory tail (brought up to date first), or null. */
  private feedTailPage(afterSeq: number, limit: number): Array<[number, string, string]> | null {
    if (!this.readCacheUsable) return null; // inside a transaction: could be rolled back
    this.syncReadCache(); // resets the tail after writes the Store did not make
    const tail = this.feedTail;
    if (!tail.built) {
      const newest = this.st.feedNewest.all(TAIL_BUILD).reverse();
      // fewer than asked: the table's whole history is held
      tail.append(newest, newest.length < TAIL_BUILD ? 0 : newest[0][0] - 1);
      tail.stamp = this.knownChanges;
    } else if (tail.stamp !== this.knownChanges) {
      const delta = this.st.feedChanges.all(tail.head, TAIL_MAX + 1);
      if (delta.length > TAIL_MAX) {
        tail.reset(); // a burst larger than the tail: rebuilt at the next read
        return null;
      }
      tail.append(delta, 0);
      tail.stamp = this.knownChanges;
    }
    return tail.page(afterSeq, limit);
  }

  /**
   * Runs a read in one snapshot (a deferred transaction, or the caller's). The parsed-alert
   * cache is used only outside other transactions: inside a write it could otherwise keep
   * alerts that are rolled back.
   */
  private readSnapshot<T>(fn: () => T): T {
    if (this.db.inTransaction) {
      this.readCacheUsable = false;
      try {
        return fn();
      } finally {
        this.readCacheUsable = true;
      }
    }
    return this.readTx.deferred(fn) as T;
  }

  /** Parsed alerts for `ids` (same order; undefined where no row has the id): cached ones, the rest in one query. */
  private alertsById(ids: readonly string[]): Array<StoredAlert | undefined> {
    const useCache = this.readCacheUsable;
    // Checked inside the snapshot, after its first read, so the check and the rows agree.
    if (useCache) this.syncReadCache();
    const out: Array<StoredAlert | undefined> = new Array(ids.length);
    let missing: string[] | null = null;
    for (let i = 0; i < ids.length; i++) {
      const hit = useCache ? this.alertCache.get(ids[i]) : undefined;
      if (hit) out[i] = hit;
      else (missing ??= []).push(ids[i]);
    }
    if (!missing) return out;
    const byId = new Map<string, StoredAlert>();
    for (const r of this.st.alertsByIds.all(JSON.stringify(missing))) {
      const a = rowToAlert(r);
      byId.set(a.id, a);
      if (useCache) this.alertCache.set(a);
    }
    for (let i = 0; i < ids.length; i++) out[i] ??= byId.get(ids[i]);
    return out;
  }

  /** The newest alert change sequence (0 when none): "start from now" for a new feed reader. */
  alertFeedHead(): number {
    return this.st.maxAlertSeq.get()?.seq ?? 0;
  }

  /** Analyst lifecycle change. Unknown id → NOT_FOUND; a transition not allowed → CONFLICT. */
  transitionAlert(id: string, op: AlertOp, actor: string, comment?: string): StoredAlert {
    return this.write('alert_transition', () => {
      const row = this.st.alertById.get(id);
      if (!row) throw new AppError('NOT_FOUND', 'No alert with this id.');
      const from = row.status as AlertStatus;
      const to = alertTransition(op, from);
      if (!to) throw new AppError('CONFLICT', `Cannot ${op} an alert that is ${from}.`);
      const now = this.iso();
      this.st.updateAlertStatus.run(to, now, id);
      const change: AlertChangeKind = op === 'ack' ? 'acknowledged' : op === 'resolve' ? 'resolved' : op === 'reopen' ? 'reopened' : 'suppressed';
      this.st.insertAlertChange.run(id, change, now);
      this.st.insertAudit.run(now, actor, 'alert', id, op, from, to, truncateComment(comment));
      const alert = rowToAlert(this.st.alertById.get(id)!);
      for (const fn of this.alertListeners) fn(this.db, [{ alert, isNew: false, change }]);
      return alert;
    }, [id]);
  }

  // ---------------------------------------------------------------- actions

  getAction(id: string): StoredAction | null {
    const r = this.st.actionById.get(id);
    return r ? rowToAction(r) : null;
  }

  listActions(filter: ActionFilter, limit: number, cursor?: string): Page<StoredAction> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (cursor) {
      where.push('pk < ?');
      params.push(decodePkCursor(cursor));
    }
    if (filter.type?.length) {
      where.push(`type IN (${filter.type.map(() => '?').join(',')})`);
      params.push(...filter.type);
    }
    if (filter.status?.length) {
      where.push(`status IN (${filter.status.map(() => '?').join(',')})`);
      params.push(...filter.status);
    }
    if (filter.alert) {
      where.push('alert_id = ?');
      params.push(filter.alert);
    }
    const sql = `SELECT * FROM actions ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY pk DESC LIMIT ?`;
    const rows = this.cached<ActionRow>(sql).all(...params, limit + 1);
    const more = rows.length > limit;
    const page = rows.slice(0, limit);
    return { items: page.map(rowToAction), next_cursor: more ? encodeCursor({ pk: page[page.length - 1].pk }) : null };
  }

  /**
   * A manual action from an analyst or playbook. The target is validated and normalised
   * (normaliseTarget refuses raw tokens without echoing them). An open (proposed/active)
   * manual action for the same type and target → CONFLICT naming the existing id.
   */
  createAction(input: ManualActionInput, actor: string, comment?: string): StoredAction {
    const target = normaliseTarget(input.type, input.target);
    let ttlMs: number;
    try {
      ttlMs = parseDuration(input.ttl);
    } catch {
      throw new AppError('VALIDATION_FAILED', 'ttl must be a duration such as 30m, 1h or 7d');
    }
    if (ttlMs <= 0 || ttlMs > 366 * 86_400_000) throw new AppError('VALIDATION_FAILED', 'ttl must be between 1s and 366d');
    const approval = input.approval ?? 'auto';
    return this.write('action_create', () => {
      const dup = this.st.openDuplicate.get(input.type, target);
      if (dup) throw new AppError('CONFLICT', `An open ${input.type} action for this target already exists: ${dup.id}.`);
      const now = this.iso();
      const id = 'ac_' + createHash('sha256').update(JSON.stringify([input.type, target, now, Math.random()])).digest('base64url').slice(0, 24);
      const status: ActionStatus = approval === 'auto' ? 'active' : 'proposed';
      const info = this.st.insertAction.run({
        id,
        type: input.type,
        target,
        ttl: input.ttl,
        status,
        approval,
        reason: cleanText(input.reason, 500),
        alert_id: null,
        scenario: 'manual',
        created_at: now,
        updated_at: now,
        expires_at: status === 'active' ? new Date(Date.parse(now) + ttlMs).toISOString() : null,
      });
      if (status === 'active') this.st.insertDecisionChange.run(Number(info.lastInsertRowid), 'new', now);
      this.st.insertAudit.run(now, actor, 'action', id, 'create', null, status, truncateComment(comment ?? input.reason));
      const action = rowToAction(this.st.actionById.get(id)!);
      for (const fn of this.actionListeners) fn(this.db, [{ action: stripAction(action), previous: null }]);
      this.metrics?.actionsChanged.inc({ type: action.type, status });
      return action;
    }, []);
  }

  /** approve (proposed→active, expires_at = now + ttl), reject, lift, expire. */
  transitionAction(id: string, op: ActionOp, actor: string, comment?: string): StoredAction {
    return this.write('action_transition', () => {
      const row = this.st.actionById.get(id);
      if (!row) throw new AppError('NOT_FOUND', 'No action with this id.');
      return this.applyActionTransition(row, op, actor, comment);
    }, []);
  }

  private applyActionTransition(row: ActionRow, op: ActionOp, actor: string, comment?: string): StoredAction {
    const from = row.status as ActionStatus;
    const to = actionTransition(op, from);
    if (!to) throw new AppError('CONFLICT', `Cannot ${op} an action that is ${from}.`);
    const now = this.iso();
    let expires = row.expires_at;
    if (op === 'approve') expires = new Date(Date.parse(now) + parseDuration(row.ttl)).toISOString();
    this.st.updateActionStatus.run(to, now, expires, row.id);
    if (to === 'active') this.st.insertDecisionChange.run(row.pk, 'new', now);
    if (from === 'active') this.st.insertDecisionChange.run(row.pk, 'deleted', now);
    this.st.insertAudit.run(now, actor, 'action', row.id, op, from, to, truncateComment(comment));
    const action = rowToAction(this.st.actionById.get(row.id)!);
    for (const fn of this.actionListeners) fn(this.db, [{ action: stripAction(action), previous: from }]);
    this.metrics?.actionsChanged.inc({ type: action.type, status: to });
    return action;
  }

  /** Active actions past expires_at become `expired` (actor `system`); the scheduler calls this. */
  expireActions(now: Date = this.now()): StoredAction[] {
    const due = this.st.dueActions.all(now.toISOString());
    if (due.length === 0) return [];
    return this.write('action_expire', () =>
      // Re-read inside the transaction: another process may have lifted one meanwhile.
      this.st.dueActions.all(now.toISOString()).map((row) => this.applyActionTransition(row, 'expire', 'system')),
      [],
    );
  }

  // ---------------------------------------------------------------- decisions (active actions)

  /** Full state: every active action (of the given types) and the feed position it reflects. */
  activeDecisions(types?: readonly ActionType[]): { items: StoredAction[]; cursor: number } {
    this.expireActions();
    return this.db.transaction(() => {
      const rows = this.db
        .prepare<[], ActionRow>("SELECT * FROM actions WHERE status = 'active' ORDER BY pk")
        .all()
        .filter((r) => !types || types.includes(r.type as ActionType));
      return { items: rows.map(rowToAction), cursor: this.st.maxDecisionSeq.get()?.seq ?? 0 };
    })();
  }

  /**
   * Decisions that appeared or disappeared after `after`. Each action's LAST change in the
   * range wins, so an action created and lifted between two polls shows up only as deleted
   * (harmless for an enforcement point that never saw it).
   */
  decisionChanges(after: number, types?: readonly ActionType[], limit = 5000): DecisionDelta {
    this.expireActions();
    const rows = this.db
      .prepare<[number, number], { seq: number; action_pk: number; change: string }>(
        'SELECT seq, action_pk, change FROM decision_changes WHERE seq > ? ORDER BY seq LIMIT ?',
      )
      .all(after, limit + 1);
    const more = rows.length > limit;
    const page = rows.slice(0, limit);
    const last = new Map<number, string>();
    for (const r of page) last.set(r.action_pk, r.change);
    const out: DecisionDelta = { new: [], deleted: [], cursor: page.length ? page[page.length - 1].seq : after, more };
    for (const [pk, change] of last) {
      const row = this.st.actionByPk.get(pk);
      if (!row) continue;
      if (types && !types.includes(row.type as ActionType)) continue;
      const a = rowToAction(row);
      if (change === 'new' && a.status === 'active') out.new.push(a);
      else if (change === 'deleted') out.deleted.push(a);
    }
    return out;
  }

  decisionHead(): number {
    return this.st.maxDecisionSeq.get()?.seq ?? 0;
  }

  /** A CrowdSec bouncer's position, keyed by a hash of its API key (the key itself is never stored). */
  bouncerCursor(apiKey: string): number | null {
    const r = this.cached<{ seq: number }>('SELECT seq FROM bouncer_cursors WHERE key_hash = ?').get(bouncerKeyHash(apiKey));
    return r ? r.seq : null;
  }

  setBouncerCursor(apiKey: string, seq: number): void {
    this.write('bouncer_cursor', () => {
      this.db
        .prepare('INSERT INTO bouncer_cursors (key_hash, seq, last_pull) VALUES (?, ?, ?) ON CONFLICT (key_hash) DO UPDATE SET seq = excluded.seq, last_pull = excluded.last_pull')
        .run(bouncerKeyHash(apiKey), seq, this.iso());
    }, []);
  }

  // ---------------------------------------------------------------- audit, rejections, retention

  audit(entity?: 'alert' | 'action', entityId?: string, limit = 500): AuditEntry[] {
    const where: string[] = [];
    const params: unknown[] = [];
    if (entity) {
      where.push('entity = ?');
      params.push(entity);
    }
    if (entityId) {
      where.push('entity_id = ?');
      params.push(entityId);
    }
    return this.db
      .prepare<unknown[], AuditEntry>(`SELECT * FROM audit_log ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY seq LIMIT ?`)
      .all(...params, limit);
  }

  /** RejectSink: dead-letter rows for refused input. `raw` is already redacted by ingest. */
  saveRejections(rejections: Rejection[]): void {
    if (rejections.length === 0) return;
    this.write('save_rejections', () => {
      const now = this.iso();
      for (const r of rejections) {
        const o = r.origin;
        this.st.insertRejection.run(
          now,
          o.source,
          o.name,
          o.line ?? null,
          o.partition ?? null,
          o.offset ?? null,
          r.reason,
          r.message.slice(0, 1000),
          r.raw.length > REJECTED_RAW_MAX ? r.raw.slice(0, REJECTED_RAW_MAX) : r.raw,
        );
      }
    }, []);
  }

  rejections(limit = 100): Array<{ id: number; at: string; source: string; name: string; line: number | null; reason: string; message: string; raw: string }> {
    return this.db.prepare<[number], never>('SELECT id, at, source, name, line, reason, message, raw FROM rejected_input ORDER BY id DESC LIMIT ?').all(limit);
  }

  /**
   * Retention: alerts last touched before the cutoff (with their feed rows), terminal actions
   * (expired/lifted/rejected) and their decision rows, audit entries and rejected input.
   * The only path that deletes from the audit log.
   */
  purge(opts: PurgeOptions, now: Date = this.now()): { alerts: number; actions: number; audit: number; rejected: number } {
    const cutoff = (ms: number | undefined) => (ms === undefined ? null : new Date(now.getTime() - ms).toISOString());
    const alertsCut = cutoff(opts.alertsOlderThan);
    const auditCut = cutoff(opts.auditOlderThan);
    const rejectedCut = cutoff(opts.rejectedOlderThan);
    const res = { alerts: 0, actions: 0, audit: 0, rejected: 0 };
    this.write('purge', () => {
      if (alertsCut) {
        this.db.prepare('DELETE FROM alert_changes WHERE alert_id IN (SELECT id FROM alerts WHERE updated_at < ? AND last_seen < ?)').run(alertsCut, alertsCut);
        res.alerts = this.db.prepare('DELETE FROM alerts WHERE updated_at < ? AND last_seen < ?').run(alertsCut, alertsCut).changes;
        const terminal = "status IN ('expired', 'lifted', 'rejected') AND updated_at < ?";
        this.db.prepare(`DELETE FROM decision_changes WHERE action_pk IN (SELECT pk FROM actions WHERE ${terminal})`).run(alertsCut);
        res.actions = this.db.prepare(`DELETE FROM actions WHERE ${terminal}`).run(alertsCut).changes;
      }
      if (auditCut) res.audit = this.db.prepare('DELETE FROM audit_log WHERE at < ?').run(auditCut).changes;
      if (rejectedCut) res.rejected = this.db.prepare('DELETE FROM rejected_input WHERE at < ?').run(rejectedCut).changes;
    });
    return res;
  }

  private walSync: WalSync | null = null;
  private checkpointer: WalCheckpointer | null = null;

  /** openStore with synchronous 'GROUP': durable() fsyncs `file`-wal; checkpoints leave the event loop. */
  enableGroupCommit(file: string, opts: StoreOptions): void {
    const changes = () => this.totalChanges.get()!;
    this.walSync = new WalSync(file + '-wal', changes, opts.fsync);
    this.checkpointer = new WalCheckpointer(file, changes, opts.checkpointIntervalMs ?? 1000, this.logger);
  }

  /**
   * Resolves once every write made so far through this store's connection is on disk. Await it
   * before acknowledging a write to anyone who relies on it surviving power loss. Immediate
   * unless the store is in group-commit mode (then it waits for a shared fsync off the loop).
   */
  durable(): Promise<void> {
    return this.walSync ? this.walSync.durable() : Promise.resolve();
  }

  close(): void {
    this.commitListeners.clear();
    this.checkpointer?.close();
    this.walSync?.close();
    if (this.db.open) this.db.close();
  }
}

/** The public Action shape (no storage-only fields), for listeners and outbound payloads. */
export function stripAction(a: StoredAction | Action): Action {
  return {
    id: a.id,
    type: a.type,
    target: a.target,
    ttl: a.ttl,
    status: a.status,
    approval: a.approval,
    reason: a.reason,
    alert: a.alert,
    created_at: a.created_at,
    updated_at: a.updated_at,
    expires_at: a.expires_at,
  };
}

export function bouncerKeyHash(apiKey: string): string {
  return createHash('sha256').update('authwatch-bouncer:' + apiKey).digest('hex');
}

/**
 * Open (creating if needed) the store file, apply pending migrations and return the Store.
 * WAL lets API readers run beside the writer; synchronous=FULL fsyncs the WAL on every commit
 * (see docs/api.md "Durability" for the measured cost versus NORMAL).
 */
export function openStore(file: string, opts: StoreOptions = {}): Store {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  const group = opts.synchronous === 'GROUP' && file !== ':memory:';
  try {
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${opts.synchronous === 'GROUP' ? 'NORMAL' : (opts.synchronous ?? 'FULL')}`);
    // checkpoints run on the checkpointer's thread (wal-checkpointer.ts), never inside a commit
    if (group) db.pragma('wal_autocheckpoint = 0');
    db.pragma(`busy_timeout = ${opts.busyTimeoutMs ?? 5000}`);
    db.pragma('foreign_keys = ON');
    migrate(db, opts.migrationsDir ?? MIGRATIONS_DIR);
  } catch (err) {
    db.close();
    throw err;
  }
  const store = new Store(db, opts);
  if (group) store.enableGroupCommit(file, opts);
  return store;
}
