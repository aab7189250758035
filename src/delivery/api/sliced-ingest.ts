// HTTP ingest in slices. A POST /v1/events body can hold thousands of lines (up to the body
// limit); ingesting it in one go held the event loop for as long as the whole body took
// (20-40 µs a line with the default pack), and every API reader waited behind it. Here the
// body goes through the pipeline a few lines at a time, yielding to the event loop (setImmediate,
// so pending I/O runs first) whenever a slice has run for about a millisecond. The lines
// stay one input stream: one numbering of repeated content across slices, line numbers of the
// body, and the same alerts as a single call (events are evaluated by event time).
import type { Rejection } from '../../events/ingest-types.js';
import { RepeatedContentIds } from '../../events/repeated-content.js';
import type { Pipeline } from '../../pipeline.js';

/** lines handed to the pipeline per call: small enough to check the clock often */
const STEP = 16;
/** run at most about this long before letting the event loop serve others */
const SLICE_MS = 1;

export interface SlicedResult {
  accepted: number;
  rejected: Rejection[];
}

export async function ingestSliced(
  pipeline: Pipeline,
  kind: 'lines' | 'objects',
  items: readonly unknown[],
  origin: Parameters<Pipeline['ingestLines']>[1],
): Promise<SlicedResult> {
  const repeats = new RepeatedContentIds();
  const rejected: Rejection[] = [];
  let accepted = 0;
  let sliceStart = performance.now();
  for (let i = 0; i < items.length; i += STEP) {
    const part = items.slice(i, i + STEP);
    const r = kind === 'lines' ? pipeline.ingestLines(part as string[], origin, i + 1, repeats) : pipeline.ingestObjects(part, origin, i + 1, repeats);
    accepted += r.accepted;
    for (const x of r.rejected) rejected.push(x);
    if (i + STEP < items.length && performance.now() - sliceStart >= SLICE_MS) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      sliceStart = performance.now();
    }
  }
  return { accepted, rejected };
}
