// Rule engine benchmark: events/s through JSON.parse + the engine with the whole default pack,
// next to bare JSON.parse of the same lines in the same run (the ratio is the figure), and
// memory per million tracked group keys (a flood of unique keys in one correlation window).
// Memory is the V8 heap plus array buffers (typed arrays live outside the heap; the windows keep
// their per-key cells in typed arrays, so the heap alone would under-count); the heap-only
// figure is kept beside it (it was the only figure before).
//
//   npx tsx bench/engine.bench.ts [--events N] [--rules DIR] [--keys N]
//   node --expose-gc --import tsx bench/engine.bench.ts   (exact heap figures)
//
// Prints its conditions (CPU, Node, counts) and, last, the BENCH_RESULT line (bench/lib/result.ts).
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { authwatchLines, BASE_TIME_MS, ipv4 } from './lib/datagen.js';
import { machineFacts } from './lib/machine.js';
import { figureWithBaseline, reportResult, type Figure } from './lib/result.js';
import type { AwEvent } from '../src/events/event.js';
import { createEngine } from '../src/rules/engine.js';
import { compileRuleSet, loadRuleSet } from '../src/rules/rule-loader.js';

const quick = process.env.BENCH_QUICK === '1';
const { values } = parseArgs({
  options: {
    events: { type: 'string' },
    rules: { type: 'string' },
    keys: { type: 'string' },
    runs: { type: 'string' },
    lateness: { type: 'string' },
  },
});
const N = Number(values.events ?? (quick ? 20_000 : 500_000));
const KEYS = Number(values.keys ?? (quick ? 50_000 : 1_000_000));
const RUNS = Number(values.runs ?? (quick ? 1 : 3));
const rulesDir = resolve(values.rules ?? 'rules');
const LATENESS_MS = Number(values.lateness ?? 30_000);
const log = (s: string) => process.stderr.write(s + '\n');

// the default load (stable rules, what the service runs) and the whole pack with experimental rules
const loaded = loadRuleSet(rulesDir);
const loadedAll = loadRuleSet(rulesDir, { includeExperimental: true });
if (loaded.errors.length || loadedAll.errors.length) {
  log(`rule load errors in ${rulesDir}: ${JSON.stringify([...loaded.errors, ...loadedAll.errors].slice(0, 5))}`);
  process.exit(1);
}
const ruleset = loaded.ruleset;
const rulesetAll = loadedAll.ruleset;
const countKinds = (rs: typeof ruleset) => rs.infos.reduce<Record<string, number>>((m, r) => ((m[r.kind] = (m[r.kind] ?? 0) + 1), m), {});
const kinds = countKinds(ruleset);
const kindsAll = countKinds(rulesetAll);

log(`generating ${N} events ...`);
const lines = [...authwatchLines(N, { jitterMs: 200 })];
const bytes = lines.reduce((n, l) => n + l.length, 0);

// CPU time of this process (all threads, so GC helpers count): on a shared machine it moves far
// less with other load than wall time does
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
let parseCpu = Infinity;
let engineCpu = Infinity;

function timeBareParse(): number {
  const c0 = cpuMs();
  const t0 = process.hrtime.bigint();
  let sink = 0;
  for (let i = 0; i < lines.length; i++) sink += (JSON.parse(lines[i]) as { id: string }).id.length;
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  parseCpu = Math.min(parseCpu, cpuMs() - c0);
  if (sink < 0) log('impossible');
  return ms;
}

type EngineRun = { ms: number; alerts: number; stats: ReturnType<ReturnType<typeof createEngine>['stats']> };
function timeEngine(rs: typeof ruleset): EngineRun {
  const engine = createEngine(rs, { allowedLatenessMs: LATENESS_MS, maxGroupKeys: 1_000_000 });
  const ids = new Set<string>();
  const c0 = cpuMs();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < lines.length; i++) {
    engine.push(JSON.parse(lines[i]) as AwEvent);
    // drain like the pipeline does per batch
    if ((i & 1023) === 1023) for (const a of engine.drainAlerts()) ids.add(a.id);
  }
  engine.flush();
  for (const a of engine.drainAlerts()) ids.add(a.id);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (rs === ruleset) engineCpu = Math.min(engineCpu, cpuMs() - c0);
  return { ms, alerts: ids.size, stats: engine.stats() };
}

// warm up both paths, then alternate runs and keep the best of each
timeBareParse();
timeEngine(ruleset);
let bestParse = Infinity;
let best: EngineRun = { ms: Infinity, alerts: 0, stats: undefined as unknown as EngineRun['stats'] };
let bestAll: EngineRun = { ...best };
for (let r = 0; r < RUNS; r++) {
  bestParse = Math.min(bestParse, timeBareParse());
  const e = timeEngine(ruleset);
  if (e.ms < best.ms) best = e;
  const f = timeEngine(rulesetAll);
  if (f.ms < bestAll.ms) bestAll = f;
}
const allRate = (N / bestAll.ms) * 1000;
const parseRate = (N / bestParse) * 1000;
const engineRate = (N / best.ms) * 1000;
// engine cost = (parse + engine) - bare parse, both best-of-runs in this process
const engineOnlyMs = Math.max(1e-9, best.ms - bestParse);
const engineOnlyRate = (N / engineOnlyMs) * 1000;
log(`bare JSON.parse: ${Math.round(parseRate).toLocaleString()} events/s`);
log(`JSON.parse + engine (default pack, stable rules): ${Math.round(engineRate).toLocaleString()} events/s (ratio ${(engineRate / parseRate).toFixed(2)}), ${best.alerts} alerts`);
log(`JSON.parse + engine, with experimental rules too: ${Math.round(allRate).toLocaleString()} events/s (ratio ${(allRate / parseRate).toFixed(2)}), ${bestAll.alerts} alerts`);
log(`CPU-time ratio (default pack): ${(parseCpu / engineCpu).toFixed(2)} (parse ${parseCpu.toFixed(0)} ms, parse + engine ${engineCpu.toFixed(0)} ms of CPU, best of runs)`);
log(`engine alone (total minus bare parse): ${Math.round(engineOnlyRate).toLocaleString()} events/s; lateness ${LATENESS_MS} ms, ${best.stats.groupKeys} group keys at end`);

// ---- memory per million tracked group keys -------------------------------------------------
const floodRules = compileRuleSet([
  {
    file: 'flood.yml',
    text: `title: 401
id: flood-base
description: d
level: low
detection:
  sel:
    http.status: 401
  condition: sel
---
title: flood
id: flood
description: d
level: high
correlation:
  type: event_count
  rules: [flood-base]
  group-by: [source.ip]
  timespan: 1h
  condition: {gte: 1000}
`,
  },
]).ruleset;
const gc = (globalThis as { gc?: () => void }).gc;
const heap = () => {
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  return { all: m.heapUsed + m.arrayBuffers, heap: m.heapUsed };
};
/** Memory growth (bytes; heap + array buffers, and heap only) of an engine fed `n` unique keys. */
function floodHeap(n: number, maxEventIds: number): { bytes: number; heapBytes: number; tracked: number; ids: number } {
  const flood = createEngine(floodRules, { allowedLatenessMs: 0, maxGroupKeys: n + 10, maxEventIds });
  const before = heap();
  for (let i = 0; i < n; i++) {
    // unique source per event, all inside one window; parsed from a line like real input (flat
    // strings), ids shaped like the generator's; event objects are dropped after push
    const line = `{"id":"ev-42-${i}","time":"${new Date(BASE_TIME_MS + i).toISOString()}","observer":{"type":"gateway","name":"edge-1"},"source":{"ip":"${ipv4(i, 100)}"},"http":{"method":"GET","route":"/x","status":401},"auth":{"result":"missing_token"}}`;
    flood.push(JSON.parse(line) as AwEvent);
  }
  const after = heap();
  const st = flood.stats();
  return { bytes: after.all - before.all, heapBytes: after.heap - before.heap, tracked: st.groupKeys, ids: st.eventIds ?? 0 };
}
// group keys alone (de-duplication off), then the same flood with de-duplication on: the
// difference is what remembering one event id costs (the id string itself is shared with the window)
const keysOnly = floodHeap(KEYS, 0);
const tracked = keysOnly.tracked;
const mbPerMillion = (keysOnly.bytes / tracked) * 1e6 / 2 ** 20;
const mbPerMillionHeap = (keysOnly.heapBytes / tracked) * 1e6 / 2 ** 20;
log(`flood: ${tracked.toLocaleString()} group keys tracked (de-duplication off), heap + array buffers +${(keysOnly.bytes / 2 ** 20).toFixed(1)} MB → ${mbPerMillion.toFixed(1)} MB per million keys (heap alone ${mbPerMillionHeap.toFixed(1)})${gc ? '' : ' (no --expose-gc: approximate)'}`);
const withIds = floodHeap(KEYS, KEYS + 10);
const mbPerMillionIds = ((withIds.bytes - keysOnly.bytes) / Math.max(1, withIds.ids)) * 1e6 / 2 ** 20;
log(`flood with de-duplication: ${withIds.ids.toLocaleString()} event ids remembered, +${mbPerMillionIds.toFixed(1)} MB per million ids on top of the keys`);

const m = machineFacts();
log(`conditions: ${m.cpuModel} x${m.cores}, Node ${m.node}, ${N} events (${(bytes / 2 ** 20).toFixed(1)} MiB), rules ${JSON.stringify(kinds)} (with experimental ${JSON.stringify(kindsAll)}) from ${rulesDir}, lateness ${LATENESS_MS} ms, best of ${RUNS}`);

const figures: Figure[] = [
  figureWithBaseline({ metric: 'JSON.parse + engine, default pack (stable rules)', value: engineRate, unit: 'events/s' }, { metric: 'bare JSON.parse', value: parseRate, unit: 'events/s' }, { aim: 'ratio ≥ 0.5' }),
  figureWithBaseline({ metric: 'JSON.parse + engine, pack incl. experimental rules', value: allRate, unit: 'events/s' }, { metric: 'bare JSON.parse', value: parseRate, unit: 'events/s' }, { note: JSON.stringify(kindsAll) }),
  { metric: 'CPU-time ratio, bare JSON.parse / (JSON.parse + engine), default pack', value: parseCpu / engineCpu, unit: 'ratio', aim: '≥ 0.5', note: 'process CPU time, best of runs; less sensitive to a shared machine than wall time' },
  { metric: 'engine alone (total minus bare parse)', value: engineOnlyRate, unit: 'events/s' },
  { metric: 'memory per million tracked group keys', value: mbPerMillion, unit: 'MB', aim: '≤ 100 MB', note: (gc ? 'heap + array buffers delta after gc' : 'heap + array buffers delta without --expose-gc (approximate)') + ', de-duplication off' },
  { metric: 'memory per million tracked group keys, V8 heap only', value: mbPerMillionHeap, unit: 'MB', note: 'the earlier figure: typed-array cells (outside the heap) not counted' },
  { metric: 'memory per million remembered event ids (de-duplication)', value: mbPerMillionIds, unit: 'MB', note: 'on top of the group keys; id strings shared with the windows' },
];
reportResult({
  name: 'engine',
  conditions: {
    cpu: m.cpuModel, cores: m.cores, node: m.node, events: N, inputMiB: Math.round((bytes / 2 ** 20) * 10) / 10,
    detectionRules: kinds.detection ?? 0, correlationRules: kinds.correlation ?? 0, filters: kinds.filter ?? 0,
    rulesDir, allowedLatenessMs: LATENESS_MS, alerts: best.alerts, floodKeys: tracked, runs: RUNS, exposeGc: Boolean(gc),
  },
  figures,
});
