// Replay: evaluate recorded input by event time and hand out each alert once, in its final
// state. Pure of process I/O (the command in src/commands/replay.ts reads files and writes
// stdout/stderr), so tests and the fixture runner share the same logic.
import type { Alert } from './alerts/alert.js';
import type { AwEvent } from './events/event.js';
import type { Ingestor, Origin, Rejection, RejectReason } from './events/ingest-types.js';
import type { RuleEngine } from './rules/types.js';
import { Pipeline, type RejectSink } from './pipeline.js';
import { DEFAULT_DETECTION_SUPPRESS_MS } from './rules/rule-compiler.js';
import { RepeatedContentIds } from './events/repeated-content.js';

export interface ReplayDeps {
  ingestor: Ingestor;
  engine: RuleEngine;
  /** receives each alert exactly once, when it can no longer change */
  emit: (alert: Alert) => void;
  /** rejected lines (e.g. a dead-letter file); the replay also counts and samples them */
  rejects?: RejectSink;
  /** how many rejections to keep for the summary */
  sampleRejections?: number;
  /** PipelineDeps.deferLineIds: line ids only for matched events (when no rule reads `id`) */
  deferLineIds?: boolean;
}

export interface ReplaySummary {
  linesRead: number;
  accepted: number;
  rejected: number;
  rejectedByReason: Partial<Record<RejectReason, number>>;
  rejectionSamples: Rejection[];
  alerts: number;
  alertsByRule: Record<string, number>;
  /** alert changes that arrived after the alert was written (events later than the allowed lateness) */
  lateUpdates: number;
  lateEvents: number;
}

/**
 * An alert is final once the engine's watermark (no event older than it will still be
 * windowed) has passed its suppression window. The window starts no later than the alert's
 * last_seen, so `last_seen + suppress` bounds its end; rules without suppression are final
 * once their timespan has passed.
 */
export class Replay {
  private readonly pipeline: Pipeline;
  private readonly pending = new Map<string, Alert>();
  private readonly written = new Set<string>();
  private readonly horizonMs = new Map<string, number>();
  /** one stream per origin object across its batches (the command makes one per input file, so a file given twice is sent twice) */
  private readonly repeats = new WeakMap<object, RepeatedContentIds>();
  private readonly summary: ReplaySummary = {
    linesRead: 0, accepted: 0, rejected: 0, rejectedByReason: {}, rejectionSamples: [],
    alerts: 0, alertsByRule: {}, lateUpdates: 0, lateEvents: 0,
  };

  constructor(private readonly deps: ReplayDeps) {
    for (const r of deps.engine.rules) {
      this.horizonMs.set(r.id, Math.max(r.suppress_ms ?? DEFAULT_DETECTION_SUPPRESS_MS, r.timespan_ms ?? 0));
    }
    this.pipeline = new Pipeline({
      ingestor: deps.ingestor,
      engine: deps.engine,
      deferLineIds: deps.deferLineIds,
      alerts: { saveAlerts: (alerts) => this.collect(alerts) },
      rejects: {
        saveRejections: (rs) => {
          this.countRejections(rs);
          deps.rejects?.saveRejections(rs);
        },
      },
    });
  }

  /** Feed one batch of raw lines; writes out alerts the watermark has made final. */
  ingestLines(lines: readonly string[], origin: Omit<Origin, 'line'>, firstLine: number): void {
    this.summary.linesRead += countNonBlank(lines);
    const res = this.pipeline.ingestLines(lines, origin, firstLine, this.streamOf(origin));
    this.summary.accepted += res.accepted;
    this.release(false);
  }

  /** Feed one batch ingested by an ingest thread (src/parallel/ingest-pool.ts). */
  ingestIngested(batch: { events: readonly AwEvent[]; rejections: Rejection[]; nonEmpty: number; derived?: Uint8Array }, origin: Omit<Origin, 'line'>): void {
    this.summary.linesRead += batch.nonEmpty;
    const res = this.pipeline.acceptIngested(batch.events, batch.rejections, origin.source, batch.derived, this.streamOf(origin));
    this.summary.accepted += res.accepted;
    this.release(false);
  }

  /** End of input: evaluate what is buffered and write every remaining alert. */
  finish(): ReplaySummary {
    this.pipeline.finish();
    this.release(true);
    this.summary.lateEvents = this.deps.engine.stats().lateEvents;
    return this.summary;
  }

  private streamOf(origin: Omit<Origin, 'line'>): RepeatedContentIds {
    let r = this.repeats.get(origin);
    if (r === undefined) this.repeats.set(origin, (r = new RepeatedContentIds()));
    return r;
  }

  private collect(alerts: Alert[]): void {
    for (const a of alerts) {
      if (this.written.has(a.id)) this.summary.lateUpdates++;
      else this.pending.set(a.id, a);
    }
  }

  private countRejections(rs: Rejection[]): void {
    const max = this.deps.sampleRejections ?? 10;
    for (const r of rs) {
      this.summary.rejected++;
      this.summary.rejectedByReason[r.reason] = (this.summary.rejectedByReason[r.reason] ?? 0) + 1;
      if (this.summary.rejectionSamples.length < max) this.summary.rejectionSamples.push(r);
    }
  }

  private release(all: boolean): void {
    if (this.pending.size === 0) return;
    const wm = this.deps.engine.stats().watermark;
    const wmMs = wm === null ? -Infinity : Date.parse(wm);
    const ready: Alert[] = [];
    for (const a of this.pending.values()) {
      // an alert of a rule we know nothing about waits for the end of input
      if (all || Date.parse(a.last_seen) + (this.horizonMs.get(a.rule.id) ?? Infinity) < wmMs) ready.push(a);
    }
    // Deterministic output order whatever the arrival order: by first_seen, rule, id.
    ready.sort((x, y) => x.first_seen.localeCompare(y.first_seen) || x.rule.name.localeCompare(y.rule.name) || x.id.localeCompare(y.id));
    for (const a of ready) {
      this.pending.delete(a.id);
      this.written.add(a.id);
      this.summary.alerts++;
      this.summary.alertsByRule[a.rule.name] = (this.summary.alertsByRule[a.rule.name] ?? 0) + 1;
      this.deps.emit(a);
    }
  }
}

/** The stderr summary: counts, rejected lines by reason with the first few, alerts by rule. */
export function formatSummary(s: ReplaySummary): string {
  const out: string[] = [];
  out.push(`events: ${s.linesRead} read, ${s.accepted} accepted, ${s.rejected} rejected`);
  const reasons = Object.entries(s.rejectedByReason).sort((a, b) => b[1] - a[1]);
  if (reasons.length) out.push(`rejected by reason: ${reasons.map(([r, n]) => `${r} ${n}`).join(', ')}`);
  for (const r of s.rejectionSamples) {
    out.push(`  ${r.origin.name}:${r.origin.line ?? '?'} ${r.reason}: ${r.message}`);
  }
  if (s.rejected > s.rejectionSamples.length) out.push(`  ... and ${s.rejected - s.rejectionSamples.length} more`);
  const rules = Object.entries(s.alertsByRule).sort((a, b) => a[0].localeCompare(b[0]));
  out.push(`alerts: ${s.alerts}${rules.length ? ' (' + rules.map(([r, n]) => `${r} ${n}`).join(', ') + ')' : ''}`);
  if (s.lateEvents) out.push(`late events (older than the allowed lateness): ${s.lateEvents}`);
  if (s.lateUpdates) out.push(`alert updates after the alert was written (late events): ${s.lateUpdates}`);
  return out.join('\n') + '\n';
}

/** Lines that are not blank; no per-line copies (trim() would make one for each padded line). */
function countNonBlank(lines: readonly string[]): number {
  let n = 0;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    // a line starting with printable ASCII other than a space is not blank: the common case
    const c = l.charCodeAt(0);
    if (c > 32 && c < 127) n++;
    else if (l.trim() !== '') n++;
  }
  return n;
}
