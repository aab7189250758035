// authwatch watches its own API: every auth outcome becomes an authwatch v1 event fed through
// the same pipeline as any gateway's events, so the default rules (401 bursts, scope probing,
// alg attacks ...) fire on attacks against authwatch itself. Events are queued on the request
// path and ingested in batches off it.
import type { Logger } from '../../observability/logger.js';
import type { Pipeline } from '../../pipeline.js';

export const SELF_OBSERVER = { type: 'api', name: 'authwatch-api' } as const;
/** Beyond this many queued events (a flood faster than the flush), new ones are dropped and counted. */
const MAX_QUEUE = 20_000;
/** Events handed to the pipeline per event-loop turn by the timer. */
const SLICE = 64;

export interface SelfMonitorOptions {
  intervalMs?: number;
  logger?: Logger;
}

export class SelfMonitor {
  private queue: Record<string, unknown>[] = [];
  private timer: NodeJS.Timeout | null = null;
  private droppedCount = 0;
  private draining = false;

  constructor(
    private readonly pipeline: Pipeline,
    private readonly o: SelfMonitorOptions = {},
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.drainInSlices(), this.o.intervalMs ?? 250);
    this.timer.unref();
  }

  /**
   * The timer's flush: at most SLICE events per turn of the event loop, so a quarter second of
   * requests at 1,000 req/s (250 events, several ms of pipeline work) never holds up the API's
   * own requests in one block.
   */
  private drainInSlices(): void {
    if (this.draining || this.queue.length === 0) return;
    this.draining = true;
    const step = () => {
      const n = this.flush(SLICE);
      if (n > 0 && this.queue.length > 0 && this.timer) setImmediate(step);
      else this.draining = false;
    };
    step();
  }

  record(event: Record<string, unknown>): void {
    if (this.queue.length >= MAX_QUEUE) {
      this.droppedCount++;
      return;
    }
    this.queue.push(event);
  }

  get dropped(): number {
    return this.droppedCount;
  }

  get pending(): number {
    return this.queue.length;
  }

  /** Ingest what is queued (oldest first, at most `max`); returns how many events were handed to the pipeline. */
  flush(max = Infinity): number {
    if (this.queue.length === 0) return 0;
    let batch: Record<string, unknown>[];
    if (this.queue.length <= max) {
      batch = this.queue;
      this.queue = [];
    } else batch = this.queue.splice(0, max);
    try {
      const r = this.pipeline.ingestObjects(batch, { source: 'self', name: SELF_OBSERVER.name });
      if (r.rejected.length) this.o.logger?.warn({ rejected: r.rejected.length, reasons: [...new Set(r.rejected.map((x) => x.reason))] }, 'self-monitoring events rejected');
    } catch (err) {
      this.o.logger?.error({ err: { message: (err as Error).message } }, 'self-monitoring flush failed');
    }
    return batch.length;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.flush();
  }
}
