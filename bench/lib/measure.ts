// Chunked, interleaved measurement: each chunk of input lines is first given to the
// baseline(s) (bare JSON.parse, bare regex split) and then to the pipeline, so both see the
// same data and the same moment of machine noise. Generation time is never counted.
import type { BenchPipeline } from './authwatch.js';

export interface Chunk {
  /** what the pipeline ingests */
  input: string[];
  /** what each baseline processes, by baseline name (defaults to input) */
  baselineInput?: Record<string, string[]>;
}

export interface Baseline {
  name: string;
  /** must touch the result so the work is not optimised away; returns a checksum */
  run(lines: readonly string[]): number;
}

export interface ChunkedResult {
  events: number;
  pipelineMs: number;
  /** the pipeline's intervals on the performance.now() clock (to attribute GC entries, gcMsWithin) */
  pipelineSpans: Array<[number, number]>;
  baselineMs: Record<string, number>;
  accepted: number;
  rejected: number;
  alerts: number;
  peakHeapMB: number;
  peakRssMB: number;
}

const now = () => Number(process.hrtime.bigint()) / 1e6;

/** Bare JSON.parse of every line, reading one field (the cheapest useful thing one can do). */
export const jsonParseBaseline: Baseline = {
  name: 'bare JSON.parse',
  run(lines) {
    let n = 0;
    for (let i = 0; i < lines.length; i++) n += (JSON.parse(lines[i]) as { time?: string }).time ? 1 : 0;
    return n;
  },
};

const NGINX_SPLIT = /^(\S+) \S+ \S+ \[([^\]]+)\] "(\S+) (\S+) [^"]*" (\d{3}) (\d+|-) "[^"]*" "([^"]*)"/;
/** Bare regex split of NGINX combined lines: the least a log tool must do per line. */
export const nginxRegexBaseline: Baseline = {
  name: 'bare regex split',
  run(lines) {
    let n = 0;
    for (let i = 0; i < lines.length; i++) {
      const m = NGINX_SPLIT.exec(lines[i]);
      if (m && m[5] === '401') n++;
    }
    return n;
  },
};

export function runChunked(
  chunks: Iterable<Chunk>,
  bp: BenchPipeline,
  baselines: readonly Baseline[],
  origin = { source: 'file' as const, name: 'bench' },
  batch = 1000,
): ChunkedResult {
  const baselineMs: Record<string, number> = Object.fromEntries(baselines.map((b) => [b.name, 0]));
  let pipelineMs = 0;
  const pipelineSpans: Array<[number, number]> = [];
  let events = 0;
  let accepted = 0;
  let rejected = 0;
  let checksum = 0;
  let peakHeap = 0;
  let peakRss = 0;
  let line = 1;
  for (const c of chunks) {
    for (const b of baselines) {
      const input = c.baselineInput?.[b.name] ?? c.input;
      const t0 = now();
      checksum += b.run(input);
      baselineMs[b.name] += now() - t0;
    }
    const t0 = now();
    const p0 = performance.now();
    for (let i = 0; i < c.input.length; i += batch) {
      const r = bp.pipeline.ingestLines(c.input.slice(i, i + batch), origin, line + i);
      accepted += r.accepted;
      rejected += r.rejected.length;
    }
    pipelineMs += now() - t0;
    pipelineSpans.push([p0, performance.now()]);
    line += c.input.length;
    events += c.input.length;
    const mu = process.memoryUsage();
    peakHeap = Math.max(peakHeap, mu.heapUsed);
    peakRss = Math.max(peakRss, mu.rss);
  }
  const t0 = now();
  const p0 = performance.now();
  bp.pipeline.finish();
  pipelineMs += now() - t0;
  pipelineSpans.push([p0, performance.now()]);
  if (checksum < 0) process.stderr.write('impossible\n'); // keeps the baselines' work observable
  return { events, pipelineMs, pipelineSpans, baselineMs, accepted, rejected, alerts: bp.alertCount(), peakHeapMB: peakHeap / 2 ** 20, peakRssMB: peakRss / 2 ** 20 };
}

/** Splits a generator of lines into chunks of `size`. */
export function* chunksOf(lines: Iterable<string>, size: number): Generator<Chunk> {
  let buf: string[] = [];
  for (const l of lines) {
    buf.push(l);
    if (buf.length === size) {
      yield { input: buf };
      buf = [];
    }
  }
  if (buf.length) yield { input: buf };
}

export const rate = (n: number, ms: number) => (ms > 0 ? (n / ms) * 1000 : 0);

/**
 * Records the main thread's GC pauses (PerformanceObserver 'gc' entries) from now on. `within`
 * sums the pauses that started inside the given intervals (e.g. ChunkedResult.pipelineSpans);
 * entries arrive asynchronously (after a timer turn), so it waits 50 ms before reading them.
 */
export function recordGcPauses(): { within(spans: ReadonlyArray<readonly [number, number]>): Promise<{ ms: number; count: number }>; stop(): void } {
  const entries: Array<{ start: number; ms: number }> = [];
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) entries.push({ start: e.startTime, ms: e.duration });
  });
  obs.observe({ entryTypes: ['gc'] });
  return {
    async within(spans) {
      await new Promise((r) => setTimeout(r, 50)); // (setImmediate is too early for them)
      let ms = 0;
      let count = 0;
      for (const e of entries) {
        if (spans.some(([a, b]) => e.start >= a && e.start <= b)) {
          ms += e.ms;
          count++;
        }
      }
      return { ms, count };
    },
    stop: () => obs.disconnect(),
  };
}
