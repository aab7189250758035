// The data path in one place: input lines → ingest (adapters, redaction, validation) →
// rule engine (event time) → alert sink. Every source (file/stdin replay, HTTP ingest,
// Kafka) drives this same object, so they all give the same alerts for the same events.
import type { Alert } from './alerts/alert.js';
import type { AwEvent } from './events/event.js';
import type { Ingestor, Origin, Rejection } from './events/ingest-types.js';
import type { ContentNumbering, RuleEngine } from './rules/types.js';
import type { Metrics } from './observability/metrics.js';
import { RepeatedContentIds } from './events/repeated-content.js';
import { nginxCombinedLineId } from './events/event-id.js';

/** Durable alert storage; returns once the alerts are written (synchronous SQLite). */
export interface AlertSink {
  saveAlerts(alerts: Alert[]): void;
}

/** Where rejected input goes so nothing is silently lost (dead-letter table, file or topic). */
export interface RejectSink {
  saveRejections(rejections: Rejection[]): void;
}

export interface BatchResult {
  accepted: number;
  rejected: Rejection[];
  /** alerts new or changed by this batch, already saved to the sink */
  alerts: Alert[];
}

export interface PipelineDeps {
  ingestor: Ingestor;
  engine: RuleEngine;
  alerts: AlertSink;
  rejects: RejectSink;
  metrics?: Metrics;
  /** called with every accepted event after redaction (e.g. for the ingest-health page) */
  onEvent?: (event: AwEvent) => void;
  /**
   * Derive line ids (NGINX combined lines: SHA-256 of the line) only for events a rule
   * matches; the others keep the id `''`. Only when nothing reads the id of an unmatched
   * event: `authwatch replay` sets it when no rule reads the field `id` (its onEvent is unset;
   * such lines carry no token, so no token-keyed consumer sees them either).
   */
  deferLineIds?: boolean;
}

/** The numbering RuleEngine.push applies to a matched event whose line id was deferred: derive, then number. */
class DeferredLineId implements ContentNumbering {
  line = '';
  repeats: RepeatedContentIds | undefined;
  renumber(event: { id: string; time: string; observer?: { name: string } }): void {
    event.id = nginxCombinedLineId(event.observer!.name, this.line);
    this.repeats!.renumber(event);
  }
}

function withLine(r: Rejection, origin: Omit<Origin, 'line'>, line: number): Rejection {
  r.origin = { ...origin, line };
  return r;
}

export class Pipeline {
  private engine: RuleEngine;
  private readonly deferred = new DeferredLineId();

  constructor(private readonly deps: PipelineDeps) {
    this.engine = deps.engine;
  }

  get ruleEngine(): RuleEngine {
    return this.engine;
  }

  /** Hot reload: the caller builds and validates the new engine first, so a broken rule set never replaces a working one. */
  setEngine(engine: RuleEngine): void {
    this.engine = engine;
  }

  /**
   * Ingest a batch of raw lines (NDJSON or gateway log lines). Line numbers start at `firstLine`.
   * `repeats`: the input stream's numbering of repeated content (events/repeated-content.ts);
   * a stream that spans several calls (a file read in batches, a body ingested in slices)
   * passes the same one to each. Without it the batch is a stream of its own.
   */
  ingestLines(lines: readonly string[], origin: Omit<Origin, 'line'>, firstLine = 1, repeats = new RepeatedContentIds()): BatchResult {
    const rejected: Rejection[] = [];
    let accepted = 0;
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i];
      if (line.length === 0 || (line.length < 3 && line.trim() === '')) continue;
      // the origin with its line number is built only for a rejection (not per line)
      const out = this.deps.ingestor.ingestLine(line, origin, this.deps.deferLineIds);
      if (out.ok) {
        accepted++;
        if (out.lineForId !== undefined) {
          const d = this.deferred;
          d.line = out.lineForId;
          d.repeats = repeats;
          this.accept(out.event, d);
        } else this.accept(out.event, out.derivedId ? repeats : undefined);
      } else rejected.push(withLine(out.rejection, origin, firstLine + i));
    }
    return this.finishBatch(origin.source, accepted, rejected);
  }

  /** Ingest already-parsed objects (a JSON array body, Kafka messages decoded upstream); `repeats` as for ingestLines. */
  ingestObjects(objs: readonly unknown[], origin: Omit<Origin, 'line'>, firstLine = 1, repeats = new RepeatedContentIds()): BatchResult {
    const rejected: Rejection[] = [];
    let accepted = 0;
    for (let i = 0; i < objs.length; i++) {
      const out = this.deps.ingestor.ingestObject(objs[i], origin);
      if (out.ok) {
        accepted++;
        this.accept(out.event, out.derivedId ? repeats : undefined);
      } else rejected.push(withLine(out.rejection, origin, firstLine + i));
    }
    return this.finishBatch(origin.source, accepted, rejected);
  }

  /**
   * Events ingested elsewhere (an ingest worker thread, src/parallel/), evaluated in input order
   * as ingestLines would; `derived` marks the events whose id the thread derived (numbered here,
   * in input order, with the stream's `repeats`).
   */
  acceptIngested(events: readonly AwEvent[], rejected: Rejection[], source: Origin['source'], derived?: Uint8Array, repeats = new RepeatedContentIds()): BatchResult {
    for (let i = 0; i < events.length; i++) this.accept(events[i], derived?.[i] === 1 ? repeats : undefined);
    return this.finishBatch(source, events.length, rejected);
  }

  /** Push one already-ingested event (the API's own auth outcomes, monitored like any other). */
  pushEvent(event: AwEvent): Alert[] {
    this.accept(event, undefined);
    return this.persist();
  }

  /** Wall-clock tick from the service: events older than `nowMs - lateness` are final. */
  tick(nowMs: number): Alert[] {
    this.engine.advanceTo(nowMs);
    return this.persist();
  }

  /** End of input (replay): evaluate everything still buffered. */
  finish(): Alert[] {
    this.engine.flush();
    return this.persist();
  }

  /** `repeats` for an event whose id was derived from its content: the engine numbers it if a rule matches it (RuleEngine.push). */
  private accept(event: AwEvent, repeats: ContentNumbering | undefined): void {
    this.engine.push(event, repeats);
    this.deps.onEvent?.(event);
  }

  private finishBatch(source: Origin['source'], accepted: number, rejected: Rejection[]): BatchResult {
    const m = this.deps.metrics;
    if (m) {
      if (accepted) m.eventsAccepted.inc({ source }, accepted);
      for (const r of rejected) m.eventsRejected.inc({ source, reason: r.reason });
    }
    if (rejected.length) this.deps.rejects.saveRejections(rejected);
    return { accepted, rejected, alerts: this.persist() };
  }

  private persist(): Alert[] {
    const alerts = this.engine.drainAlerts();
    if (alerts.length) this.deps.alerts.saveAlerts(alerts);
    return alerts;
  }
}
