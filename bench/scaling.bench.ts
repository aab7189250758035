// How cost grows: replay throughput at 10^5 and 10^6 events (10^7 with --full), with 10, 50
// and 200 rules loaded, memory per million tracked group keys, and a flood of unique keys
// against the engine's group-key cap. Every throughput figure sits beside bare JSON.parse of
// the same lines in the same run; cost per event should stay flat.
//
// Rule counts are measured two ways: "N rules loaded" (the original figure) copies the default
// pack with new names and thresholds (so 200 rules are ~7 copies of each rule; the engine shares
// matching and windows between copies), and "N distinct rules loaded" writes N different narrow
// rules (route/result/observer, IdP client), as a large real pack would be.
//
//   node --import tsx bench/scaling.bench.ts [--full] [--quick] [--rules DIR]
//
// Default: sizes 1e5, 1e6; rule counts 10, 50, 200 at 1e5 events; 1e6 group keys; a flood of
// 1e6 unique keys against a cap of 1e5. --quick shrinks everything (smoke test only).
import { parseArgs } from 'node:util';
import { resolve, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { authwatchLines, ipv4, BASE_TIME_MS } from './lib/datagen.js';
import { buildPipeline } from './lib/authwatch.js';
import { chunksOf, jsonParseBaseline, rate, recordGcPauses, runChunked } from './lib/measure.js';
import { writeDistinctRules, writeRuleVariants } from './lib/rule-variants.js';
import { figureWithBaseline, reportResult, type Figure } from './lib/result.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    full: { type: 'boolean', default: false },
    quick: { type: 'boolean', default: false },
    rules: { type: 'string', default: resolve(ROOT, 'rules') },
  },
});
const Q = values.quick;
const SIZES = Q ? [2_000, 5_000] : values.full ? [100_000, 1_000_000, 10_000_000] : [100_000, 1_000_000];
const RULE_COUNTS = Q ? [10, 50] : [10, 50, 200];
const RULES_EVENTS = Q ? 2_000 : 100_000;
const KEYS = Q ? 20_000 : 1_000_000;
const FLOOD = Q ? 20_000 : 1_000_000;
const FLOOD_CAP = Q ? 1_000 : 100_000;
const log = (s: string) => process.stderr.write(`scaling: ${s}\n`);

const figures: Figure[] = [];
const notMeasured: { metric: string; reason: string }[] = [];
const conditions: Record<string, string | number | boolean | null> = {
  sizes: SIZES.join(', '), 'rule counts': RULE_COUNTS.join(', '), 'events per rule-count run': RULES_EVENTS,
  'group keys': KEYS, 'flood keys': FLOOD, 'flood cap (max_group_keys)': FLOOD_CAP, mode: Q ? 'quick' : values.full ? 'full' : 'default',
};

async function throughput(metric: string, rulesDir: string, n: number): Promise<void> {
  try {
    const bp = await buildPipeline({ rulesDir, inputFormat: 'auto', sink: 'memory' });
    const gcPauses = recordGcPauses();
    const r = runChunked(chunksOf(authwatchLines(n, { seed: 42 }), Math.min(50_000, n)), bp, [jsonParseBaseline]);
    bp.close();
    // main-thread GC pauses inside the pipeline's intervals (the concurrent marking on the other core is not in them)
    const gcIn = await gcPauses.within(r.pipelineSpans);
    gcPauses.stop();
    const v = rate(r.events, r.pipelineMs);
    const gcNote = `GC pauses ${Math.round(gcIn.ms)} ms = ${((100 * gcIn.ms) / r.pipelineMs).toFixed(0)} % of pipeline time (${gcIn.count} pauses)`;
    log(`${metric}: ${Math.round(v)} events/s (${bp.rulesLoaded} rules), alerts ${r.alerts}; ${gcNote}`);
    figures.push(
      figureWithBaseline({ metric, value: v, unit: 'events/s' }, { metric: 'bare JSON.parse', value: rate(r.events, r.baselineMs[jsonParseBaseline.name]), unit: 'lines/s' }, {
        note: `${((r.pipelineMs * 1000) / r.events).toFixed(1)} µs/event; ${bp.rulesLoaded} rules loaded; ${r.alerts} alerts; ${gcNote}`,
      }),
    );
  } catch (e) {
    notMeasured.push({ metric, reason: (e as Error).message });
    log(`${metric}: not measured: ${(e as Error).message}`);
  }
}

// warm-up so the first size is not penalised by JIT compilation
try {
  const bp = await buildPipeline({ rulesDir: values.rules, inputFormat: 'auto', sink: 'memory' });
  runChunked(chunksOf(authwatchLines(Q ? 1000 : 20_000, { seed: 1 }), 5000), bp, [jsonParseBaseline]);
  bp.close();
} catch {
  // reported by the measured runs below
}

for (const n of SIZES) await throughput(`events/s at ${n.toExponential(0).replace('+', '')} events, default pack`, values.rules, n);

const tmp = mkdtempSync(join(tmpdir(), 'aw-bench-rules-'));
try {
  for (const count of RULE_COUNTS) {
    const dir = join(tmp, `r${count}`);
    const written = writeRuleVariants(values.rules, dir, count);
    await throughput(`events/s with ${written} rules loaded`, dir, RULES_EVENTS);
  }
  for (const count of RULE_COUNTS) {
    const dir = join(tmp, `d${count}`);
    const written = writeDistinctRules(dir, count);
    await throughput(`events/s with ${written} distinct rules loaded`, dir, RULES_EVENTS);
  }
} catch (e) {
  notMeasured.push({ metric: 'events/s by rule count', reason: (e as Error).message });
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

/** One 401 from each of `n` distinct IPs, all within 50 s of event time: n live group keys. */
function* uniqueKeyLines(n: number): Generator<string> {
  for (let i = 0; i < n; i++) {
    yield JSON.stringify({
      id: `k-${i}`,
      time: new Date(BASE_TIME_MS + Math.floor((i * 50_000) / n)).toISOString(),
      observer: { type: 'gateway', name: 'edge-1' },
      source: { ip: ipv4(i, 10) },
      http: { method: 'GET', route: '/api/v1/orders', status: 401 },
      auth: { result: 'missing_token' },
    });
  }
}

// heap + array buffers: typed arrays (the windows' per-key cells) live outside the V8 heap
const heapMB = () => {
  gc();
  gc();
  const m = process.memoryUsage();
  return (m.heapUsed + m.arrayBuffers) / 2 ** 20;
};
const heapOnlyMB = () => process.memoryUsage().heapUsed / 2 ** 20;

// Group keys alone (de-duplication off, as the engine bench measures them: the aim is per key),
// then the same with de-duplication on as the service runs it, where each of these events also
// leaves one remembered event id (producer ids here, one per key).
for (const dedup of [false, true]) {
  const metric = dedup ? 'heap per million tracked group keys, with one remembered event id each' : 'heap per million tracked group keys';
  try {
    const bp = await buildPipeline({ rulesDir: values.rules, inputFormat: 'auto', sink: 'memory', maxGroupKeys: KEYS * 2, ...(dedup ? {} : { maxEventIds: 0 }) });
    const before = heapMB();
    const beforeHeap = heapOnlyMB();
    const r = runChunked(chunksOf(uniqueKeyLines(KEYS), 50_000), bp, []);
    const s = bp.engine.stats();
    const after = heapMB();
    const afterHeap = heapOnlyMB();
    log(`${metric}: ${s.groupKeys} keys, ${s.eventIds ?? 0} event ids, heap ${before.toFixed(0)} → ${after.toFixed(0)} MB, accepted ${r.accepted}`);
    if (s.groupKeys < KEYS * 0.9) throw new Error(`engine reports ${s.groupKeys} group keys after ${KEYS} unique keys: the window did not hold them, so the figure would be wrong`);
    const ids = s.eventIds ?? 0;
    if (dedup ? ids < KEYS * 0.9 : ids !== 0) throw new Error(`engine holds ${s.eventIds} event ids with de-duplication ${dedup ? 'on' : 'off'}: the figure would not be what it says`);
    figures.push({
      metric, value: ((after - before) / s.groupKeys) * 1e6, unit: 'MB', ...(dedup ? {} : { aim: '≤ 100 MB' }),
      note: `${s.groupKeys} keys held (engine stats), ${s.eventIds} event ids; heap + array buffers after GC ${before.toFixed(0)} → ${after.toFixed(0)} MB`,
    });
    figures.push({ metric: `${metric}, V8 heap only`, value: ((afterHeap - beforeHeap) / s.groupKeys) * 1e6, unit: 'MB', note: 'typed-array cells (outside the heap) not counted' });
    bp.close();
  } catch (e) {
    notMeasured.push({ metric, reason: (e as Error).message });
    log(`${metric}: not measured: ${(e as Error).message}`);
  }
}

{
  const metric = `flood of ${FLOOD} unique keys, cap ${FLOOD_CAP}: events/s`;
  try {
    const bp = await buildPipeline({ rulesDir: values.rules, inputFormat: 'auto', sink: 'memory', maxGroupKeys: FLOOD_CAP });
    const before = heapMB();
    const r = runChunked(chunksOf(uniqueKeyLines(FLOOD), 50_000), bp, [jsonParseBaseline]);
    const s = bp.engine.stats();
    const after = heapMB();
    log(`${metric}: keys ${s.groupKeys}, evictions ${JSON.stringify(s.evictions)}, heap ${before.toFixed(0)} → ${after.toFixed(0)} MB`);
    figures.push(
      figureWithBaseline({ metric, value: rate(r.events, r.pipelineMs), unit: 'events/s' }, { metric: 'bare JSON.parse', value: rate(r.events, r.baselineMs[jsonParseBaseline.name]), unit: 'lines/s' }, {
        note: `keys held ${s.groupKeys} (cap ${FLOOD_CAP}); evicted for capacity ${s.evictions.capacity}, expired ${s.evictions.expired}`,
      }),
    );
    figures.push({ metric: `flood: heap growth with cap ${FLOOD_CAP}`, value: after - before, unit: 'MB', note: `after ${FLOOD} unique keys, after GC; heap + array buffers` });
    bp.close();
  } catch (e) {
    notMeasured.push({ metric, reason: (e as Error).message });
    log(`${metric}: not measured: ${(e as Error).message}`);
  }
}

reportResult({ name: 'scaling', conditions, figures, notMeasured });
