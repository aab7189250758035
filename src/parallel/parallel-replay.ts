// A replay whose ingest runs on worker threads: line batches go to the pool as they are read,
// a few batches stay in flight so the threads never wait for the engine, and results come back
// in input order to the one Replay (engine + alert release) on this thread.
import type { Origin } from '../events/ingest-types.js';
import type { Replay } from '../replay.js';
import type { LineBatch } from '../sources/file-source.js';
import type { IngestedBatch, IngestPool } from './ingest-pool.js';

export interface PooledReplayOptions {
  pool: IngestPool;
  replay: Replay;
  batches: AsyncIterable<LineBatch>;
  origin: Omit<Origin, 'line'>;
  /** after each batch has been evaluated (progress, flushing output) */
  afterBatch?: (b: LineBatch) => Promise<void> | void;
  /** checked before each batch: true stops reading (e.g. stdout closed) */
  stopped?: () => boolean;
}

export async function replayBatchesPooled(o: PooledReplayOptions): Promise<void> {
  // two batches per thread in flight: one being ingested, one queued behind it
  const depth = o.pool.threads * 2;
  const inFlight: { read: LineBatch; done: Promise<IngestedBatch> }[] = [];
  const evaluateOldest = async () => {
    const next = inFlight.shift()!;
    o.replay.ingestIngested(await next.done, o.origin);
    await o.afterBatch?.(next.read);
  };
  try {
    for await (const b of o.batches) {
      if (o.stopped?.()) break;
      inFlight.push({ read: b, done: o.pool.submit(b.lines, o.origin, b.firstLine) });
      while (inFlight.length > depth) await evaluateOldest();
    }
    while (inFlight.length > 0 && !o.stopped?.()) await evaluateOldest();
  } finally {
    // a failure part-way must not leave rejected promises unobserved
    for (const f of inFlight) f.done.catch(() => undefined);
  }
}
