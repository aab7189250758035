// The Kafka worker: two stages, both in every worker process (docs/kafka.md has the picture).
//
//  1. ingest stage — consumer group `<group>` on the events topic (any number of partitions,
//     shared by all workers): each message goes through the same Ingestor as replay/HTTP
//     (normalise → redact → validate). Accepted events go to the internal rules topic,
//     rejected ones to the dead-letter topic, and the input offsets are committed — all three
//     in ONE Kafka transaction, so a crash neither loses nor duplicates an event downstream.
//  2. rule stage — consumer group `<group>.rules` on `<group>.internal.rules` (read_committed).
//     Each of its partitions has its own RuleEngine, owned by exactly one worker at a time.
//     Alerts are upserted into SQLite (idempotent by deterministic id, monotone counts); every
//     few batches the engine snapshot and the next offset are saved (SQLite, then the compacted
//     state topic) as the partition's restart point. On (re)assignment the engine is restored
//     from the newest restart point and the partition re-read from its offset: re-processed
//     events reproduce the same alerts, so nothing is lost or double counted.
import { randomBytes } from 'node:crypto';
import { parseDuration } from '../../util/duration.js';
import type { Config } from '../../config/config.js';
import type { Alert } from '../../alerts/alert.js';
import type { AwEvent } from '../../events/event.js';
import type { Ingestor } from '../../events/ingest-types.js';
import type { Logger } from '../../observability/logger.js';
import type { Metrics } from '../../observability/metrics.js';
import type { RuleEngine } from '../../rules/types.js';
import type { Store } from '../../store/store.js';
import { lagOf, type BatchContext, type BusConsumer, type BusProducer, type BusTransactionalProducer, type InBatch, type KafkaBus, type OutMessage } from './kafka-client.js';
import { KafkaStateStore, attachOutbox } from './kafka-state.js';
import { OutboxPublisher } from './outbox-publisher.js';
import type { RuleRouter } from './rule-router.js';
import { BundleBuilder, bundleLines, bundleWatermark } from './rule-bundle.js';
import { RepeatedContentIds } from '../../events/repeated-content.js';

export type KafkaConfig = Config['kafka'];

/**
 * A partition with no new input for this long, with the whole pipeline drained, is advanced to
 * the wall clock. When input stops, the last events wait for this (nothing newer carries the
 * watermark past them).
 */
const IDLE_TICK_MS = 1000;
/**
 * The same after this much silence when the partition has also read everything the rules topic
 * held once the upstream was seen drained (monitorTick): no committed bundle can still be on its
 * way, so the wall clock cannot overtake one. (The 1 s rule covers a partition whose log ends
 * with an aborted transaction, which that position check cannot see past.)
 */
const QUICK_IDLE_TICK_MS = 250;
/** lag polling, and the idle check: every 250 ms (was 1 s), so an idle partition ticks 1.0-1.25 s after its last input instead of 1-2 s */
const MONITOR_INTERVAL_MS = 250;

export const HEADER = {
  reason: 'authwatch-reason',
  sourceTopic: 'authwatch-source-topic',
  sourcePartition: 'authwatch-source-partition',
  sourceOffset: 'authwatch-source-offset',
  producedAt: 'authwatch-produced-at',
  // state topic: the restart point's offset and rule-set hash ride in headers so the value is the
  // snapshot JSON itself (no second JSON encoding of a large string, and tailing needs no parse)
  nextOffset: 'authwatch-next-offset',
  rulesetHash: 'authwatch-ruleset-hash',
} as const;

interface RestartPoint {
  nextOffset: string;
  rulesetHash: string;
  /** JSON of EngineSnapshot.state */
  snapshot: string;
}

/** A state-topic record: headers + raw snapshot, or (written before the headers existed) one JSON object. */
function decodeRestartPoint(value: Buffer, headers: Record<string, string>): RestartPoint {
  const nextOffset = headers[HEADER.nextOffset];
  const rulesetHash = headers[HEADER.rulesetHash];
  if (nextOffset !== undefined && rulesetHash !== undefined) return { nextOffset, rulesetHash, snapshot: value.toString('utf8') };
  return JSON.parse(value.toString('utf8')) as RestartPoint;
}

/**
 * Batch processing is synchronous CPU work; a large fetch (megabytes) would hold the event loop
 * for a long time, and with it every broker round trip of the other stage (a stage-1
 * transaction has five). Yielding every few milliseconds lets those continue, which shortens
 * each fetch → process → commit cycle and so the detection latency; it costs no CPU.
 */
const SLICE_MS = 8;

/** Snapshots are spaced by at least this many times the last one's cost (ruleBatch). */
const SNAPSHOT_SPACING = 20;

class TimeSlice {
  private start = performance.now();
  private n = 0;

  /** checks the clock every 32 calls only */
  due(): boolean {
    return (++this.n & 31) === 0 && performance.now() - this.start >= SLICE_MS;
  }

  async yield(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.start = performance.now();
  }
}

export function internalTopics(k: KafkaConfig) {
  return { rules: `${k.group_id}.internal.rules`, state: `${k.group_id}.internal.state`, rulesGroup: `${k.group_id}.rules` };
}

export interface KafkaWorkerDeps {
  bus: KafkaBus;
  kafka: KafkaConfig;
  /** stable per worker instance (kept in its data dir): the transactional id that fences its previous incarnation */
  workerId: string;
  ingestor: Ingestor;
  /** a fresh engine over the worker's rule set (one per rule-stage partition) */
  newEngine: () => RuleEngine;
  /** the re-keying of that same rule set over the rules topic's partitions (rule-router.ts) */
  newRouter: (partitions: number) => RuleRouter;
  store: Store;
  metrics: Metrics;
  logger: Logger;
  now?: () => number;
  /** partitions for topics this worker creates (the events topic when missing) */
  eventPartitions?: number;
}

interface RulePartition {
  partition: number;
  engine: RuleEngine | null; // null until restored/seeked on the first batch after assignment
  nextOffset: bigint;
  high: bigint;
  batchesSinceSnapshot: number;
  lastSnapshotAt: number;
  lastInputAt: number;
  ticked: boolean; // advanced to the wall clock since the last input
  /** the consumer's last batch of this partition left nothing behind (markers and aborted records included) */
  caughtUp: boolean;
  /** batch-end reports to ignore: the one of the batch made stale by the restore's seek */
  skipBatchEnds: number;
  busy: Promise<void>;
}

interface IngestWork {
  forward: OutMessage[];
  dead: OutMessage[];
  /** the input position after this batch */
  offset: { topic: string; partition: number; offset: string };
}

export class KafkaWorker {
  private readonly k: KafkaConfig;
  private readonly topics: ReturnType<typeof internalTopics>;
  private readonly state: KafkaStateStore;
  private readonly log: Logger;
  private readonly now: () => number;
  private ingestConsumer: BusConsumer | null = null;
  private ruleConsumer: BusConsumer | null = null;
  private txProducer: BusTransactionalProducer | null = null;
  private stateProducer: BusProducer | null = null;
  private stateConsumer: BusConsumer | null = null;
  /** latest restart point per rules partition seen on the state topic, and how far it was read */
  private readonly remoteState = new Map<string, RestartPoint>();
  /** restart points waiting to be published to the state topic (latest per partition) */
  private readonly pendingState = new Map<number, RestartPoint>();
  private statePublishing = false;
  private statePublished: Promise<void> = Promise.resolve();
  private stateReadUpTo = -1n;
  private publisher: OutboxPublisher | null = null;
  private detachOutbox: (() => void) | null = null;
  private readonly txQueue: Array<IngestWork & { resolve: () => void; reject: (err: Error) => void }> = [];
  private txRunning = false;
  private readonly parts = new Map<number, RulePartition>();
  /** owned alerts of the rule batches since the last store write (persistAlerts) */
  private pendingAlerts: Alert[] = [];
  private alertFlush: NodeJS.Immediate | null = null;
  /** when any rule partition last saved its restart point (partitions take turns) */
  private lastSnapshotAt = 0;
  /** how long the last snapshot held the event loop (ms): spaces the next one (ruleBatch) */
  private lastSnapshotCostMs = 0;
  private monitor: NodeJS.Timeout | null = null;
  private monitorBusy = false;
  private upstreamDrained = false;
  private stopping = false;
  private rulesetHash: string | null = null;
  private router!: RuleRouter;
  private readonly snapshotEveryMs: number;
  private fail!: (err: Error) => void;
  /** rejects... never; resolves with the error that stopped a consumer for good */
  readonly failed: Promise<Error> = new Promise((resolve) => (this.fail = resolve));

  constructor(private readonly d: KafkaWorkerDeps) {
    this.k = d.kafka;
    this.topics = internalTopics(d.kafka);
    this.state = new KafkaStateStore(d.store.db);
    this.log = d.logger.child({ component: 'kafka-worker', worker: d.workerId });
    this.now = d.now ?? Date.now;
    this.snapshotEveryMs = parseDuration(d.kafka.snapshot_interval);
  }

  async start(): Promise<void> {
    const { bus, kafka: k } = this.d;
    await bus.ensureTopics([
      { topic: k.topics.events, partitions: this.d.eventPartitions ?? 3 },
      { topic: k.topics.dlq, partitions: 1, maxMessageBytes: 8 * 1024 * 1024 },
      { topic: k.topics.alerts, partitions: 3 },
      { topic: k.topics.actions, partitions: 3 },
      { topic: this.topics.rules, partitions: k.rule_partitions, maxMessageBytes: 8 * 1024 * 1024 },
      { topic: this.topics.state, partitions: 1, compacted: true, maxMessageBytes: 64 * 1024 * 1024 },
    ]);
    // route by the topic's actual partition count: an existing topic keeps its own
    this.router = this.d.newRouter(await bus.partitionCount(this.topics.rules));
    this.detachOutbox = attachOutbox(this.d.store, this.state, { alerts: k.topics.alerts, actions: k.topics.actions });
    this.publisher = new OutboxPublisher(await bus.producer(), this.state, this.d.store, this.log);
    this.publisher.start();
    this.stateProducer = await bus.producer();
    this.txProducer = await bus.transactionalProducer(`${k.group_id}.ingest.${this.d.workerId}`);

    // Tail the compacted state topic from the beginning (no committed offsets: a private group
    // that never commits), so a partition moving here restores without joining another group.
    this.stateConsumer = await bus.consumer({
      groupId: `${k.group_id}.state.${this.d.workerId}`,
      topics: [this.topics.state],
      fromBeginning: true,
      autoCommit: false,
      maxInFlight: 1,
      maxWaitMs: 100,
    });
    await this.stateConsumer.run({
      eachBatch: async (batch, ctx) => {
        for (const m of batch.messages) {
          if (m.key && m.value) this.remoteState.set(m.key, decodeRestartPoint(m.value, m.headers));
          this.stateReadUpTo = BigInt(m.offset);
        }
        if (batch.messages.length) ctx.resolveOffset(batch.messages[batch.messages.length - 1].offset);
      },
    });

    this.ruleConsumer = await bus.consumer({
      groupId: this.topics.rulesGroup,
      topics: [this.topics.rules],
      fromBeginning: true,
      autoCommit: false,
      maxInFlight: k.max_in_flight_batches,
      maxWaitMs: 50,
    });
    await this.ruleConsumer.run({
      onCrash: (err) => this.crashed('rules', err),
      onBatchEnd: ({ partition, lag }) => {
        const p = this.parts.get(partition);
        if (!p || !p.engine) return;
        if (p.skipBatchEnds > 0) p.skipBatchEnds--;
        else p.caughtUp = lag === 0;
      },
      onAssignment: (assigned) => this.onRuleAssignment(assigned.filter((a) => a.topic === this.topics.rules).map((a) => a.partition)),
      eachBatch: (batch, ctx) => this.ruleBatch(batch, ctx),
    });

    this.ingestConsumer = await bus.consumer({
      groupId: k.group_id,
      topics: [k.topics.events],
      fromBeginning: true,
      autoCommit: false, // offsets are committed inside the stage-1 transaction
      maxInFlight: k.max_in_flight_batches,
      maxWaitMs: 50,
    });
    await this.ingestConsumer.run({ eachBatch: (batch, ctx) => this.ingestBatch(batch, ctx), onCrash: (err) => this.crashed('ingest', err) });

    this.monitor = setInterval(() => {
      if (this.monitorBusy) return; // a slow broker round trip: skip, never overlap
      this.monitorBusy = true;
      void this.monitorTick()
        .catch((err) => this.log.warn({ err: { message: (err as Error).message } }, 'kafka monitor failed'))
        .finally(() => (this.monitorBusy = false));
    }, MONITOR_INTERVAL_MS);
    this.monitor.unref();
    this.log.info({ events: k.topics.events, group: k.group_id }, 'kafka worker started');
  }

  /**
   * Group commit: batches of several partitions that finish while a transaction is in flight
   * share the next one (kafkajs allows one open transaction per producer, and a transaction costs
   * several broker round trips). Each caller resolves only once its own batch is committed.
   */
  private commitIngest(work: IngestWork): Promise<void> {
    return new Promise((resolve, reject) => {
      this.txQueue.push({ ...work, resolve, reject });
      if (!this.txRunning) void this.drainTxQueue();
    });
  }

  private async drainTxQueue(): Promise<void> {
    this.txRunning = true;
    try {
      while (this.txQueue.length) {
        const items = this.txQueue.splice(0);
        const tx = await this.txProducer!.transaction().catch((err: Error) => {
          for (const it of items) it.reject(err);
          return null;
        });
        if (!tx) continue;
        try {
          // The produce (AddPartitionsToTxn + Produce) and the offset commit (AddOffsetsToTxn +
          // TxnOffsetCommit) are independent parts of the transaction: in flight together, a
          // transaction costs three broker round trips in sequence instead of five. All must
          // settle before commit or abort (an abort must not overtake a request still in flight).
          const parts = await Promise.allSettled([
            tx.send(this.topics.rules, items.flatMap((it) => it.forward)),
            tx.send(this.k.topics.dlq, items.flatMap((it) => it.dead)),
            tx.sendOffsets(this.k.group_id, items.map((it) => it.offset)),
          ]);
          for (const r of parts) if (r.status === 'rejected') throw r.reason;
          await tx.commit();
          for (const it of items) it.resolve();
        } catch (err) {
          await tx.abort().catch(() => undefined);
          for (const it of items) it.reject(err as Error);
        }
      }
    } finally {
      this.txRunning = false;
    }
  }

  private crashed(stage: string, err: Error): void {
    this.log.error({ stage, err: { message: err.message, name: err.name } }, 'kafka consumer stopped on a non-retriable error');
    this.fail(err);
  }

  // ------------------------------------------------------------------ stage 1: ingest

  private async ingestBatch(batch: InBatch, ctx: BatchContext): Promise<void> {
    if (this.stopping || batch.messages.length === 0) return;
    const end = this.d.metrics.kafkaBatchSeconds.startTimer();
    const { topic, partition } = batch;
    const bundles = new BundleBuilder(topic, partition);
    const dead: OutMessage[] = [];
    let accepted = 0;
    let bytes = 0;
    let maxTime = -Infinity; // newest event time of the batch: every rule partition's watermark (rule-bundle.ts)
    const slice = new TimeSlice();
    const repeats = new RepeatedContentIds();
    for (const m of batch.messages) {
      if (slice.due()) await slice.yield();
      const origin = { source: 'kafka' as const, name: topic, partition, offset: m.offset };
      const line = m.value ? m.value.toString('utf8') : '';
      bytes += m.value?.length ?? 0;
      const out = this.d.ingestor.ingestLine(line, origin);
      if (out.ok) {
        // the batch is the stream within which identical content is numbered (repeated-content.ts)
        if (out.derivedId) repeats.renumber(out.event);
        // one copy per rule partition owning a (rule, group) this event counts towards; none if no rule matches
        const t = Date.parse(out.event.time);
        if (t > maxTime) maxTime = t;
        const targets = this.router.targets(out.event);
        if (targets.size) {
          const value = JSON.stringify(out.event);
          for (const [rulePartition, key] of targets) bundles.add(rulePartition, key, value, m.offset);
        }
        accepted++;
      } else {
        const r = out.rejection;
        dead.push({
          key: m.key,
          value: JSON.stringify({ reason: r.reason, message: r.message, origin: r.origin, raw: r.raw }),
          headers: {
            [HEADER.sourceTopic]: topic,
            [HEADER.sourcePartition]: String(partition),
            [HEADER.sourceOffset]: m.offset,
            [HEADER.producedAt]: m.timestamp,
            [HEADER.reason]: r.reason,
          },
        });
      }
    }
    this.d.metrics.ingestBytes.inc({ source: 'kafka' }, bytes);
    const forward: OutMessage[] = bundles.records(this.router.partitions, Number.isFinite(maxTime) ? maxTime : null);
    const last = batch.messages[batch.messages.length - 1].offset;
    if (ctx.isStale()) return;
    await this.commitIngest({ forward, dead, offset: { topic, partition, offset: (BigInt(last) + 1n).toString() } });
    ctx.resolveOffset(last);
    const m = this.d.metrics;
    if (accepted) {
      m.kafkaMessages.inc({ topic, outcome: 'accepted' }, accepted);
      m.eventsAccepted.inc({ source: 'kafka' }, accepted);
    }
    // copies sent to the rule stage (one per rule partition needing the event): what `evaluated` catches up with
    if (bundles.copies) m.kafkaMessages.inc({ topic: this.topics.rules, outcome: 'forwarded' }, bundles.copies);
    if (dead.length) {
      m.kafkaMessages.inc({ topic, outcome: 'dead_lettered' }, dead.length);
      for (const d of dead) m.eventsRejected.inc({ source: 'kafka', reason: d.headers![HEADER.reason] });
    }
    m.kafkaLag.set({ topic, partition: String(partition) }, lagOf(batch.highWatermark, (BigInt(last) + 1n).toString()));
    end();
  }

  // ------------------------------------------------------------------ stage 2: rules

  private onRuleAssignment(partitions: number[]): void {
    // Every (re)join restarts each partition from its durable restart point: kafkajs resumes
    // from committed offsets, which are only ever snapshot offsets, so in-memory progress past
    // the last snapshot must be dropped with it.
    this.parts.clear();
    for (const p of partitions) this.parts.set(p, this.freshPartition(p));
    this.log.info({ partitions }, 'rule partitions assigned');
  }

  private freshPartition(partition: number): RulePartition {
    return {
      partition,
      engine: null,
      nextOffset: 0n,
      high: 0n,
      batchesSinceSnapshot: 0,
      lastSnapshotAt: this.now(),
      lastInputAt: this.now(),
      ticked: false,
      caughtUp: false,
      skipBatchEnds: 0,
      busy: Promise.resolve(),
    };
  }

  private withPartition(p: RulePartition, fn: () => Promise<void>): Promise<void> {
    const next = p.busy.then(fn);
    p.busy = next.catch(() => undefined);
    return next;
  }

  private async ruleBatch(batch: InBatch, ctx: BatchContext): Promise<void> {
    if (this.stopping) return;
    let p = this.parts.get(batch.partition);
    if (!p) {
      // a batch for a partition the join event did not announce: restore it like any other
      p = this.freshPartition(batch.partition);
      this.parts.set(batch.partition, p);
    }
    const part = p;
    await this.withPartition(part, async () => {
      const p = part;
      if (ctx.isStale() || this.parts.get(batch.partition) !== p) return;
      if (!p.engine) {
        await ctx.heartbeat();
        await this.restorePartition(p);
        p.caughtUp = false;
        p.skipBatchEnds = 1; // this batch's own end report predates the seek
        await ctx.heartbeat();
        return; // the seek made this batch stale; the next fetch starts at the restart point
      }
      const end = this.d.metrics.kafkaBatchSeconds.startTimer();
      let pushed = 0;
      const slice = new TimeSlice();
      for (const m of batch.messages) {
        if (BigInt(m.offset) < p.nextOffset) continue;
        const lines = bundleLines(m.value);
        for (const line of lines) {
          if (slice.due()) await slice.yield();
          p.engine.push(JSON.parse(line) as AwEvent);
        }
        pushed += lines.length; // events, as `forwarded` counts them
        const watermark = bundleWatermark(m.headers);
        if (watermark !== null) p.engine.advanceTo(watermark);
      }
      if (batch.messages.length) {
        const last = batch.messages[batch.messages.length - 1].offset;
        await ctx.heartbeat();
        this.persistAlerts(p);
        p.nextOffset = BigInt(last) + 1n;
        ctx.resolveOffset(last);
        p.batchesSinceSnapshot++;
        p.lastInputAt = this.now();
        p.ticked = false;
      }
      p.high = BigInt(batch.highWatermark);
      this.d.metrics.kafkaMessages.inc({ topic: batch.topic, outcome: 'evaluated' }, pushed);
      this.d.metrics.kafkaLag.set({ topic: batch.topic, partition: String(batch.partition) }, lagOf(batch.highWatermark, p.nextOffset.toString()));
      // Time-based: a snapshot costs in proportion to the window state, not to the batch. The
      // partitions take turns (at most one snapshot per interval / partitions): restored
      // together, they would otherwise all come due in the same fetch and stall the event loop
      // for all of their snapshots at once, every interval.
      // A snapshot blocks both stages for as long as it takes (it grows with the window state:
      // hundreds of ms on a loaded machine), so the turns are also spaced by at least
      // SNAPSHOT_SPACING × its last cost, i.e. snapshots take at most ~5 % of the time; capped so
      // each partition still saves a restart point within partitions × snapshot_interval.
      if (this.snapshotDue(p)) this.snapshot(p);
      end();
    });
  }

  private snapshotDue(p: RulePartition): boolean {
    const now = this.now();
    const gap = Math.min(this.snapshotEveryMs, Math.max(this.snapshotEveryMs / Math.max(1, this.parts.size), SNAPSHOT_SPACING * this.lastSnapshotCostMs));
    return now - p.lastSnapshotAt >= this.snapshotEveryMs && now - this.lastSnapshotAt >= gap;
  }

  /**
   * Queue the alerts of the (rule, group)s this partition owns (the others' views here are
   * partial) for the next store write. The rule batches of one fetch (several partitions) finish
   * within the same turn of the event loop, so they share one SQLite transaction — one fsync
   * instead of one per partition batch. Detection waits for no more than that turn; a restart
   * point is saved only after `flushAlerts()` (snapshot() calls it), so it never runs ahead of
   * the alerts it implies.
   */
  private persistAlerts(p: RulePartition): void {
    const engine = p.engine!;
    for (const a of engine.drainAlerts()) if (this.router.owner(a) === p.partition) this.pendingAlerts.push(a);
    if (this.pendingAlerts.length && !this.alertFlush) this.alertFlush = setImmediate(() => this.flushAlertsQuietly());
    const s = engine.stats();
    this.d.metrics.windowKeys.set(s.groupKeys);
  }

  /** Store the queued alerts now; throws (keeping them queued) when the store write fails. */
  private flushAlerts(): void {
    if (this.alertFlush) clearImmediate(this.alertFlush);
    this.alertFlush = null;
    if (!this.pendingAlerts.length) return;
    const alerts = this.pendingAlerts;
    this.pendingAlerts = [];
    try {
      this.d.store.saveAlerts(alerts);
    } catch (err) {
      this.pendingAlerts = alerts.concat(this.pendingAlerts);
      throw err;
    }
  }

  private flushAlertsQuietly(): void {
    try {
      this.flushAlerts();
    } catch (err) {
      // kept queued: the next flush retries, and no restart point is saved past them meanwhile
      this.log.error({ err: { message: (err as Error).message } }, 'storing alerts failed; retrying with the next batch');
    }
  }

  /** The newest restart point of a partition: the local SQLite row or the state topic (another worker's). */
  private async restorePartition(p: RulePartition): Promise<void> {
    const engine = this.d.newEngine();
    const hash = engine.snapshot().rulesetHash;
    this.rulesetHash = hash;
    let best: RestartPoint | null = this.state.load(this.topics.rules, p.partition);
    const key = `${this.topics.rules}:${p.partition}`;
    // wait (bounded) until the state tail has read what the state topic held when we got here
    const end = BigInt((await this.d.bus.watermarks(this.topics.state))[0]?.high ?? '0');
    for (let i = 0; i < 300 && this.stateReadUpTo + 1n < end; i++) await new Promise((r) => setTimeout(r, 100));
    if (this.stateReadUpTo + 1n < end) throw new Error(`state topic ${this.topics.state} not read up to ${end} in time`);
    const remote = this.remoteState.get(key);
    if (remote && (!best || BigInt(remote.nextOffset) > BigInt(best.nextOffset))) best = remote;
    let offset: bigint;
    if (best && best.rulesetHash === hash) {
      engine.restore({ rulesetHash: best.rulesetHash, state: JSON.parse(best.snapshot) });
      offset = BigInt(best.nextOffset);
    } else if (best) {
      // rules changed since the snapshot: its window state cannot be restored into the new rule
      // set; windows restart empty at the snapshot's offset (no event is counted twice)
      this.log.warn({ partition: p.partition }, 'rule set changed since the last snapshot; window state restarts empty');
      offset = BigInt(best.nextOffset);
    } else {
      const w = (await this.d.bus.watermarks(this.topics.rules)).find((x) => x.partition === p.partition);
      offset = BigInt(w?.low ?? '0');
    }
    p.engine = engine;
    p.nextOffset = offset;
    p.lastSnapshotAt = this.now();
    this.ruleConsumer!.seek({ topic: this.topics.rules, partition: p.partition, offset: offset.toString() });
    this.log.info({ partition: p.partition, offset: offset.toString(), restored: Boolean(best) }, 'rule partition restored');
  }

  private snapshot(p: RulePartition): void {
    if (!p.engine) return;
    const started = performance.now();
    this.flushAlerts();
    const snap = p.engine.snapshot();
    const row: RestartPoint = { nextOffset: p.nextOffset.toString(), rulesetHash: snap.rulesetHash, snapshot: JSON.stringify(snap.state) };
    // alerts up to nextOffset are already stored (saveAlerts is synchronous), so this row is a valid restart point
    this.state.save({ topic: this.topics.rules, partition: p.partition, ...row });
    p.batchesSinceSnapshot = 0;
    p.lastSnapshotAt = this.lastSnapshotAt = this.now();
    this.lastSnapshotCostMs = performance.now() - started;
    this.publishState(p.partition, row);
  }

  /**
   * The state topic carries restart points to the worker that takes a partition over. Publishing
   * is off the batch path (a snapshot can be megabytes; the rule stage does not wait for its
   * produce): a newer restart point of a partition replaces one not yet sent, and sends are
   * sequential, so the topic sees each partition's restart points in order. One that is late or
   * lost only makes a new owner restore an older restart point and re-read more: the same alerts
   * (deterministic ids, idempotent upserts). The SQLite row above is written first, synchronously.
   */
  private publishState(partition: number, row: RestartPoint): void {
    this.pendingState.set(partition, row);
    if (!this.statePublishing) this.statePublished = this.drainStateQueue();
  }

  private async drainStateQueue(): Promise<void> {
    this.statePublishing = true;
    try {
      while (this.pendingState.size) {
        const rows = [...this.pendingState];
        this.pendingState.clear();
        try {
          // group commit (store 'GROUP'): the alerts and restart point behind these rows reach the disk first
          await this.d.store.durable();
          await this.stateProducer!.send(
            this.topics.state,
            rows.map(([partition, r]) => ({
              key: `${this.topics.rules}:${partition}`,
              value: r.snapshot,
              headers: { [HEADER.nextOffset]: r.nextOffset, [HEADER.rulesetHash]: r.rulesetHash },
            })),
          );
          // an optimisation only: the restart point is what counts
          await this.ruleConsumer!.commit(rows.map(([partition, r]) => ({ topic: this.topics.rules, partition, offset: r.nextOffset }))).catch(() => undefined);
        } catch (err) {
          this.log.warn({ err: { message: (err as Error).message } }, 'publishing restart points to the state topic failed; the next snapshot retries');
        }
      }
    } finally {
      this.statePublishing = false;
    }
  }

  // ------------------------------------------------------------------ lag, idle ticks

  private async monitorTick(): Promise<void> {
    if (this.stopping) return;
    const bus = this.d.bus;
    const [highs, committed] = await Promise.all([bus.watermarks(this.k.topics.events), bus.committedOffsets(this.k.group_id, this.k.topics.events)]);
    let total = 0;
    for (const h of highs) {
      const c = committed.find((x) => x.partition === h.partition);
      const lag = lagOf(h.high, c && c.offset !== '-1' ? c.offset : h.low);
      total += lag;
      this.d.metrics.kafkaLag.set({ topic: this.k.topics.events, partition: String(h.partition) }, lag);
    }
    this.upstreamDrained = total === 0;
    if (!this.upstreamDrained) return;
    const idle = [...this.parts.values()].filter((p) => p.engine && !p.ticked && p.caughtUp && this.now() - p.lastInputAt >= QUICK_IDLE_TICK_MS);
    if (!idle.length) return;
    // read AFTER the drained check: every bundle stage 1 committed before it lies below these ends
    const rulesEnd = new Map((await bus.watermarks(this.topics.rules)).map((w) => [w.partition, BigInt(w.high)]));
    for (const p of idle) {
      const end = rulesEnd.get(p.partition);
      // read up to the end but its last transaction's commit marker (control records are not delivered)
      const readAll = end !== undefined && p.nextOffset + 1n >= end;
      if (!readAll && this.now() - p.lastInputAt < IDLE_TICK_MS) continue;
      const lastInputAt = p.lastInputAt;
      await this.withPartition(p, async () => {
        // input that arrived meanwhile ends the quiet period this check saw
        if (!p.engine || p.ticked || p.lastInputAt !== lastInputAt || this.stopping) return;
        // Quiet period: no event older than now - lateness can still be in flight, so the
        // engine may finalise windows up to the wall clock (what replay's final flush does).
        p.engine.advanceTo(this.now());
        this.persistAlerts(p);
        p.ticked = true;
        // quiet moments are frequent now and snapshots are not cheap: a restart point only when
        // one is due (as in ruleBatch); the tick's alerts are stored either way
        if (this.snapshotDue(p)) this.snapshot(p);
        else this.flushAlertsQuietly();
      });
    }
  }

  /** Graceful stop: finish the in-flight batches, save each rule partition's restart point, publish the outbox. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (this.monitor) clearInterval(this.monitor);
    await this.ingestConsumer?.stop().catch(() => undefined);
    await this.ruleConsumer?.stop().catch(() => undefined);
    await this.stateConsumer?.stop().catch(() => undefined);
    this.flushAlertsQuietly();
    for (const p of this.parts.values()) {
      await p.busy;
      try {
        this.snapshot(p);
      } catch (err) {
        this.log.warn({ err: { message: (err as Error).message }, partition: p.partition }, 'final snapshot failed');
      }
    }
    await this.statePublished;
    await this.publisher?.stop();
    this.detachOutbox?.();
    await this.ingestConsumer?.disconnect().catch(() => undefined);
    await this.ruleConsumer?.disconnect().catch(() => undefined);
    await this.stateConsumer?.disconnect().catch(() => undefined);
    await this.d.bus.close();
    this.log.info('kafka worker stopped');
  }

  /** for /readyz and tests */
  get rulePartitions(): number[] {
    return [...this.parts.keys()];
  }
}

export function newWorkerId(): string {
  return randomBytes(8).toString('hex');
}
