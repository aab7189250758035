// The one convention every bench script follows, so `npm run bench` (bench/run.ts) can
// collect figures from scripts written by different people:
//
//   the LAST line a bench script writes to stdout is `BENCH_RESULT {json}`
//
// with the JSON shaped as BenchResult below. Everything before it (progress, notes) is free
// text and is ignored by the orchestrator. A figure that could not be measured is listed in
// `notMeasured` with the reason; a script never prints a made-up number.
import { z } from 'zod';

export const RESULT_PREFIX = 'BENCH_RESULT ';

const measure = z.object({
  metric: z.string().min(1), // e.g. "events/s", "p99 latency"
  value: z.number().finite(),
  unit: z.string(), // e.g. "events/s", "ms", "MB"
});

export const figureSchema = measure.extend({
  /** the same-run reference this figure is compared with (bare JSON.parse, bare consumer ...) */
  baseline: measure.optional(),
  /** value / baseline.value unless the script says otherwise (e.g. lower-is-better inverted) */
  ratio: z.number().finite().optional(),
  /** the aim from the issue, as text ("ratio ≥ 0.5", "≤ 100 MB") */
  aim: z.string().optional(),
  note: z.string().optional(),
});

export const benchResultSchema = z.object({
  name: z.string().min(1),
  /** what the numbers depend on: input size, rule count, concurrency, file used ... */
  conditions: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])),
  figures: z.array(figureSchema),
  notMeasured: z.array(z.object({ metric: z.string(), reason: z.string() })).optional(),
});

export type Measure = z.infer<typeof measure>;
export type Figure = z.infer<typeof figureSchema>;
export type BenchResult = z.infer<typeof benchResultSchema>;

/** Builds a figure with its baseline and the value/baseline ratio (rounded for display only later). */
export function figureWithBaseline(
  f: Measure,
  baseline: Measure,
  extra: { aim?: string; note?: string } = {},
): Figure {
  const ratio = baseline.value !== 0 ? f.value / baseline.value : undefined;
  return { ...f, baseline, ...(ratio !== undefined ? { ratio } : {}), ...extra };
}

/** Writes the result line. Call it last: the orchestrator reads only the last stdout line. */
export function reportResult(result: BenchResult): void {
  const checked = benchResultSchema.parse(result);
  process.stdout.write(RESULT_PREFIX + JSON.stringify(checked) + '\n');
}

export class BenchResultError extends Error {
  readonly code = 'BENCH_RESULT_INVALID';
}

/**
 * Finds the result in a script's stdout: the last non-empty line must carry it. Returns null
 * when there is none (the script failed or does not follow the convention); throws when the
 * line is there but malformed, so a broken script is reported, not silently ignored.
 */
export function parseResultLine(stdout: string): BenchResult | null {
  const lines = stdout.split('\n').filter((l) => l.trim() !== '');
  const last = lines.at(-1);
  if (!last || !last.startsWith(RESULT_PREFIX)) return null;
  let json: unknown;
  try {
    json = JSON.parse(last.slice(RESULT_PREFIX.length));
  } catch (e) {
    throw new BenchResultError(`BENCH_RESULT line is not JSON: ${(e as Error).message}`);
  }
  const r = benchResultSchema.safeParse(json);
  if (!r.success) throw new BenchResultError(`BENCH_RESULT line does not match the convention: ${r.error.message}`);
  return r.data;
}
