// Builds the real authwatch data path in-process for the benchmarks: ingestor (adapters,
// redaction, validation) → rule engine (compiled rule set, event-time windows) → alert sink
// (in memory, or the real SQLite store), wired by the same Pipeline the CLI and service use.
// Modules are imported lazily so a missing piece becomes a "not measured" reason, not a crash.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Alert } from '../../src/alerts/alert.js';
import type { InputFormat, Rejection } from '../../src/events/ingest-types.js';
import type { AlertSink, Pipeline, RejectSink } from '../../src/pipeline.js';
import type { RuleEngine } from '../../src/rules/types.js';

export class NotAvailableError extends Error {
  readonly code = 'BENCH_NOT_AVAILABLE';
}

async function load<T>(spec: string, what: string): Promise<T> {
  try {
    return (await import(spec)) as T;
  } catch (e) {
    throw new NotAvailableError(`${what} could not be loaded (${spec}): ${(e as Error).message.split('\n')[0]}`);
  }
}

/** Keeps alerts by id, like the store does (latest state wins): the cheapest honest sink. */
/**
 * Counts distinct alerts and keeps only their ids, as `authwatch replay` does (it writes each
 * alert out and remembers its id). Keeping every alert object with its evidence made the live
 * heap, and with it GC, grow with the input (50,000 alerts at 10^7 events), which is the bench's
 * cost, not authwatch's.
 */
export class MemoryAlertSink implements AlertSink, RejectSink {
  readonly alerts = new Set<string>();
  rejected = 0;
  saveAlerts(alerts: Alert[]): void {
    for (const a of alerts) this.alerts.add(a.id);
  }
  saveRejections(r: Rejection[]): void {
    this.rejected += r.length;
  }
}

export interface BenchPipeline {
  pipeline: Pipeline;
  engine: RuleEngine;
  rulesLoaded: number;
  alertCount(): number;
  close(): void;
}

export interface PipelineOptions {
  rulesDir: string;
  inputFormat: InputFormat;
  sink: 'memory' | 'sqlite';
  maxGroupKeys?: number;
  /** the engine's de-duplication cap (0: off); default: maxGroupKeys, as the service runs */
  maxEventIds?: number;
  allowedLatenessMs?: number;
}

export async function buildPipeline(o: PipelineOptions): Promise<BenchPipeline> {
  const { createIngestor } = await load<typeof import('../../src/events/ingestor.js')>('../../src/events/ingestor.js', 'ingestor');
  const { compileRoutePolicy } = await load<typeof import('../../src/events/route-policy.js')>('../../src/events/route-policy.js', 'route policy');
  const { loadRuleSet } = await load<typeof import('../../src/rules/rule-loader.js')>('../../src/rules/rule-loader.js', 'rule loader');
  const { createEngine } = await load<typeof import('../../src/rules/engine.js')>('../../src/rules/engine.js', 'rule engine');
  const { Pipeline } = await load<typeof import('../../src/pipeline.js')>('../../src/pipeline.js', 'pipeline');
  const loaded = loadRuleSet(o.rulesDir, { includeExperimental: true });
  if (loaded.errors.length) {
    const e = loaded.errors[0];
    throw new NotAvailableError(`rules in ${o.rulesDir} failed to load (${loaded.errors.length} errors; first: ${e.file}:${e.line} ${e.code} ${e.message})`);
  }
  const engine = createEngine(loaded.ruleset, {
    allowedLatenessMs: o.allowedLatenessMs ?? 30_000,
    maxGroupKeys: o.maxGroupKeys ?? 1_000_000,
    ...(o.maxEventIds === undefined ? {} : { maxEventIds: o.maxEventIds }),
  });
  const ingestor = createIngestor({
    fingerprintSecret: Buffer.alloc(32, 7),
    routePolicy: compileRoutePolicy({ routes: [] }),
    inputFormat: o.inputFormat,
    maxLineBytes: 64 * 1024,
  });
  let close = () => {};
  let alertCount: () => number;
  let sink: AlertSink & RejectSink;
  if (o.sink === 'sqlite') {
    const { openStore } = await load<typeof import('../../src/store/store.js')>('../../src/store/store.js', 'SQLite store');
    const dir = mkdtempSync(join(tmpdir(), 'aw-bench-store-'));
    const store = openStore(join(dir, 'authwatch.db'));
    sink = store;
    const counted = new Set<string>();
    const orig = store.saveAlerts.bind(store);
    // count distinct alerts without querying the store inside the timed loop
    store.saveAlerts = (alerts: Alert[]) => {
      for (const a of alerts) counted.add(a.id);
      orig(alerts);
    };
    alertCount = () => counted.size;
    close = () => {
      (store as unknown as { close?: () => void }).close?.();
      rmSync(dir, { recursive: true, force: true });
    };
  } else {
    const mem = new MemoryAlertSink();
    sink = mem;
    alertCount = () => mem.alerts.size;
  }
  const pipeline = new Pipeline({ ingestor, engine, alerts: sink, rejects: sink });
  return { pipeline, engine, rulesLoaded: loaded.ruleset.infos.length, alertCount, close: () => close() };
}
