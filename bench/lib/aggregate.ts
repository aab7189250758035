// Combines several runs of one bench script into one row per figure: the median value, its
// spread, the median baseline and the median of the per-run ratios (each ratio is taken
// within one run, so machine noise between runs cancels out as far as it can).
import type { BenchResult, Figure } from './result.js';
import { summarize, type Summary } from './stats.js';

export interface AggregatedFigure {
  metric: string;
  unit: string;
  value: Summary;
  baseline?: { metric: string; unit: string; value: Summary };
  ratio?: Summary;
  aim?: string;
  note?: string;
}

export interface AggregatedResult {
  name: string;
  runs: number;
  conditions: BenchResult['conditions'];
  figures: AggregatedFigure[];
  notMeasured: { metric: string; reason: string }[];
}

function medianRun(fs: readonly Figure[]): Figure {
  const sorted = [...fs].sort((a, b) => a.value - b.value);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

export function aggregate(results: readonly BenchResult[]): AggregatedResult {
  if (results.length === 0) throw new RangeError('nothing to aggregate');
  const byMetric = new Map<string, Figure[]>();
  for (const r of results) {
    for (const f of r.figures) {
      const list = byMetric.get(f.metric) ?? [];
      list.push(f);
      byMetric.set(f.metric, list);
    }
  }
  const figures: AggregatedFigure[] = [];
  for (const [metric, fs] of byMetric) {
    const first = fs[0];
    const withBase = fs.filter((f) => f.baseline);
    const ratios = fs.map((f) => f.ratio).filter((x): x is number => typeof x === 'number');
    figures.push({
      metric,
      unit: first.unit,
      value: summarize(fs.map((f) => f.value)),
      ...(withBase.length
        ? { baseline: { metric: withBase[0].baseline!.metric, unit: withBase[0].baseline!.unit, value: summarize(withBase.map((f) => f.baseline!.value)) } }
        : {}),
      ...(ratios.length ? { ratio: summarize(ratios) } : {}),
      ...(first.aim ? { aim: first.aim } : {}),
      // the note (alert counts, µs/event ...) of the median run, so it matches the median value
      ...(medianRun(fs).note ? { note: medianRun(fs).note } : {}),
    });
  }
  const seen = new Set<string>();
  const notMeasured = results
    .flatMap((r) => r.notMeasured ?? [])
    .filter((n) => (byMetric.has(n.metric) || seen.has(n.metric) ? false : (seen.add(n.metric), true)));
  return { name: results[0].name, runs: results.length, conditions: results[results.length - 1].conditions, figures, notMeasured };
}
