// Ingest on worker threads: parsing, adapters, redaction and validation are per line and
// stateless, so they can run beside the rule engine (which is stateful and stays on the main
// thread, fed in input order). On a 2-core machine one worker thread overlaps ingest with
// matching; more cores take more threads. Batches are dealt round-robin and their results are
// handed back strictly in submission order, so the engine sees exactly the sequence a
// single-threaded replay would give it, and alerts are identical.
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import type { Config } from '../config/config.js';
import type { AwEvent } from '../events/event.js';
import type { Ingestor, InputFormat, Origin, Rejection } from '../events/ingest-types.js';
import type { IngestRequest, IngestResponse, IngestThreadInit } from './ingest-protocol.js';
import { attachSource, type RebuildEvent } from '../events/event-projection.js';

export interface IngestedBatch {
  events: AwEvent[];
  rejections: Rejection[];
  nonEmpty: number;
  /** per event, 1 when its id was derived from its content (see Pipeline.acceptIngested) */
  derived?: Uint8Array;
}

export class IngestThreadError extends Error {
  readonly code = 'INGEST_THREAD_FAILED';
}

export interface IngestPoolOptions {
  config: Config;
  secret: Buffer;
  inputFormat?: InputFormat;
  threads: number;
  /** fields the rules read (sigma-matcher recordFieldReads); null or absent: whole events */
  fields?: Iterable<string> | null;
  /**
   * With a projection: rebuilds a full event from its input line on this thread (the same
   * ingest as the threads', e.g. the caller's own ingestor), for evidence samples. Required
   * with fields.
   */
  rebuild?: RebuildEvent;
}

/**
 * How many ingest threads `--workers auto` uses. On 2 cores (measured: 200k events, default
 * pack and one-rule NGINX, hyperfine) a thread beside the engine did not beat one thread: the
 * main thread is busy with the engine plus taking results in, and V8's own GC threads want the
 * second core. So threads only from 4 cores up, leaving one core for the engine and one for GC;
 * that case is not measured here.
 */
export function autoIngestThreads(cores = availableParallelism()): number {
  return cores < 4 ? 0 : Math.min(4, cores - 2);
}

/**
 * The rebuild function for a pool's projections: the caller's own ingestor (configured like
 * the threads', and without metrics, so nothing is counted twice) run again on the line.
 */
export function rebuildWith(ingestor: Ingestor, origin: Origin): RebuildEvent {
  return (line) => {
    const out = ingestor.ingestLine(line, origin);
    // the threads accepted this very line with the same ingest: a refusal now is a bug
    if (!out.ok) throw new IngestThreadError(`rebuilding an accepted event failed (${out.rejection.reason})`);
    return out.event as unknown as Record<string, unknown>;
  };
}

interface Pending {
  resolve: (b: IngestedBatch) => void;
  reject: (e: Error) => void;
  lines: string[];
}

// Under tsx (a checkout run from source) a worker thread needs the loader registered before it
// imports TypeScript (Node 20 does not carry `--import tsx` hooks into workers reliably); from
// dist/ it starts the compiled file directly.
const FROM_SOURCE = import.meta.url.endsWith('.ts');
const THREAD_URL = new URL(FROM_SOURCE ? './ingest-thread.ts' : './ingest-thread.js', import.meta.url);

function startThread(workerData: IngestThreadInit): Worker {
  if (!FROM_SOURCE) return new Worker(THREAD_URL, { workerData });
  const boot = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((m) => { m.register(); return import(${JSON.stringify(THREAD_URL.href)}); });`;
  return new Worker(boot, { eval: true, workerData });
}

export class IngestPool {
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, Pending>();
  private seq = 0;
  private failed: Error | null = null;
  private readonly rebuild: RebuildEvent | null;

  constructor(opts: IngestPoolOptions) {
    if (opts.threads < 1) throw new RangeError('an ingest pool needs at least one thread');
    let fields = opts.fields ? [...opts.fields] : null;
    if (fields?.includes('*')) fields = null; // a keyword search reads the whole event
    if (fields && !opts.rebuild) throw new TypeError('an ingest pool with a projection needs a rebuild function for evidence samples');
    this.rebuild = fields ? opts.rebuild! : null;
    const init: IngestThreadInit = { config: opts.config, secret: new Uint8Array(opts.secret), inputFormat: opts.inputFormat, fields };
    for (let i = 0; i < opts.threads; i++) {
      const w = startThread(init);
      w.on('message', (res: IngestResponse) => this.onResult(res));
      w.on('error', (err: Error) => this.fail(new IngestThreadError(`ingest thread failed: ${err.message}`)));
      w.on('exit', (code) => {
        if (code !== 0) this.fail(new IngestThreadError(`ingest thread exited with code ${code}`));
      });
      this.workers.push(w);
    }
  }

  get threads(): number {
    return this.workers.length;
  }

  /** Queue one batch of raw lines; the promise gives its events in input order. */
  submit(lines: string[], origin: Omit<Origin, 'line'>, firstLine: number): Promise<IngestedBatch> {
    if (this.failed) return Promise.reject(this.failed);
    const seq = this.seq++;
    const req: IngestRequest = { seq, lines, origin, firstLine };
    return new Promise<IngestedBatch>((resolve, reject) => {
      this.pending.set(seq, { resolve, reject, lines });
      this.workers[seq % this.workers.length].postMessage(req);
    });
  }

  private onResult(res: IngestResponse): void {
    const p = this.pending.get(res.seq);
    if (!p) return;
    this.pending.delete(res.seq);
    if (res.error) {
      p.reject(new IngestThreadError(`ingest thread failed on a batch: ${res.error}`));
      return;
    }
    const events = JSON.parse(res.events) as AwEvent[];
    const rebuild = this.rebuild;
    if (rebuild && res.lineIndex) {
      const idx = res.lineIndex;
      for (let i = 0; i < events.length; i++) attachSource(events[i], p.lines[idx[i]], rebuild);
    }
    p.resolve({ events, rejections: res.rejections, nonEmpty: res.nonEmpty, derived: res.derived });
  }

  private fail(err: Error): void {
    if (this.failed) return;
    this.failed = err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  async close(): Promise<void> {
    this.failed ??= new IngestThreadError('ingest pool closed');
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
