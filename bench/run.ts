// `npm run bench`: runs every benchmark script of the repository several times, collects the
// BENCH_RESULT line each prints (bench/lib/result.ts), and writes docs/benchmarks.md with the
// machine facts, conditions, medians, spreads and same-run baselines. Scripts that are missing
// or fail are listed as "not measured" with the reason.
//
//   npm run bench [-- --runs N] [--full] [--quick] [--only a,b] [--no-peers] [--out FILE]
//
// Default: 3 runs of each script (the scaling script once: it spans sizes itself); replay and
// NGINX at 2·10^5 events in-process and through the CLI; scaling at 10^5 and 10^6 events and
// 10/50/200 rules; peers on a 200,000-line log (PEERS_LINES to change; CrowdSec's stock
// parsers take ~2 ms a line here, which is what bounds the size). --full adds 10^7 events to
// the scaling figures (slow; the scaling script then runs once). --reuse-peers embeds the last bench/out/peers/peers.md instead of
// rerunning the peers (the page says so). --quick is for smoke tests (tiny inputs, one run, no
// peers) and writes to bench/out/benchmarks.quick.md unless --out is given.
import { writeFileSync, mkdirSync, readFileSync, existsSync, statSync } from 'node:fs';
import { resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { machineFacts, currentLoadAvg } from './lib/machine.js';
import { runScript } from './lib/run-script.js';
import { aggregate } from './lib/aggregate.js';
import { renderReport, type SuiteEntry, type SuiteReport } from './lib/report.js';
import type { BenchResult } from './lib/result.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

interface ScriptSpec {
  name: string;
  title: string;
  script: string;
  owner: string;
  args: (o: { quick: boolean; full: boolean }) => string[];
  env?: (o: { quick: boolean; full: boolean }) => Record<string, string>;
  nodeArgs?: string[];
  timeoutMs: number;
  /** runs by default when --runs is not given (the scaling script already spans sizes) */
  defaultRuns?: number;
}

const quickEnv = (o: { quick: boolean }) => (o.quick ? { BENCH_QUICK: '1' } : ({} as Record<string, string>));

/** Every benchmark of the suite, in the order they appear on the page. */
export const SCRIPTS: ScriptSpec[] = [
  {
    name: 'replay', title: 'Replay, authwatch NDJSON, whole default pack', script: 'bench/replay.bench.ts', owner: 'suite',
    args: (o) => (o.quick ? ['--events', '1000', '--cli-events', '500'] : ['--events', '200000', '--cli-events', '200000']),
    timeoutMs: 30 * 60_000,
  },
  {
    name: 'nginx', title: 'Replay, NGINX combined access log', script: 'bench/nginx.bench.ts', owner: 'suite',
    args: (o) => (o.quick ? ['--lines', '1000', '--cli-lines', '500'] : ['--lines', '200000']),
    timeoutMs: 30 * 60_000,
  },
  {
    name: 'scaling', title: 'Scaling: input size, rule count, group keys', script: 'bench/scaling.bench.ts', owner: 'suite',
    args: (o) => (o.quick ? ['--quick'] : o.full ? ['--full'] : []),
    timeoutMs: 90 * 60_000,
    defaultRuns: 1,
  },
  { name: 'ingest', title: 'Ingest (adapters, redaction, validation)', script: 'bench/ingest.bench.ts', owner: 'ingest issue', args: (o) => (o.quick ? ['5000'] : []), env: quickEnv, timeoutMs: 12 * 60_000 },
  { name: 'engine', title: 'Rule engine', script: 'bench/engine.bench.ts', owner: 'engine issue', args: () => [], env: quickEnv, nodeArgs: ['--expose-gc'], timeoutMs: 12 * 60_000 },
  { name: 'kafka', title: 'Kafka end to end', script: 'bench/kafka.bench.ts', owner: 'Kafka issue', args: () => [], env: quickEnv, timeoutMs: 12 * 60_000 },
  { name: 'api', title: 'API under load while ingesting', script: 'bench/api.bench.ts', owner: 'API issue', args: () => [], env: quickEnv, timeoutMs: 12 * 60_000 },
];

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string' },
      full: { type: 'boolean', default: false },
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      'no-peers': { type: 'boolean', default: false },
      'reuse-peers': { type: 'boolean', default: false },
      out: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').filter((l) => l.startsWith('//')).join('\n') + '\n');
    return 0;
  }
  const quick = values.quick;
  const full = values.full;
  // --full makes the scaling script's one run long (10^7 events): it runs once whatever --runs says
  const runsFor = (spec: ScriptSpec) => (full && spec.name === 'scaling' ? 1 : Math.max(1, Number(values.runs ?? (quick ? 1 : spec.defaultRuns ?? 3))));
  const only = values.only ? new Set(values.only.split(',').map((s) => s.trim())) : null;
  const outFile = resolve(ROOT, values.out ?? (quick ? 'bench/out/benchmarks.quick.md' : 'docs/benchmarks.md'));
  const started = Date.now();
  const machine = machineFacts(ROOT);
  const log = (s: string) => process.stderr.write(`[bench] ${s}\n`);
  log(`${machine.cpuModel}, ${machine.cores} cores, Node ${machine.node}, load ${machine.loadAvg.join('/')}, commit ${machine.gitCommit}`);

  const entries: SuiteEntry[] = [];
  const selected = SCRIPTS.filter((s) => !only || only.has(s.name));
  const mode = quick ? 'quick (tiny inputs, smoke test only: numbers mean nothing)' : full ? 'full (includes 10^7 events)' : 'default (replay/NGINX 2·10^5 events; scaling 10^5 and 10^6 events; 10^7 needs --full)';
  const command = `npm run bench${process.argv.length > 2 ? ' -- ' + process.argv.slice(2).join(' ') : ''}`;
  // The page is rewritten after every script, so a suite stopped half-way still leaves an
  // honest page: what ran, and what did not run yet.
  const writePage = (peers: SuiteReport['peers'], done: boolean) => {
    const pending: SuiteEntry[] = done
      ? []
      : selected.slice(entries.length).map((s) => ({ name: s.name, script: s.script, title: s.title, owner: s.owner, outcome: { ok: false as const, reason: 'not run yet: the suite was still running (or was stopped) when this page was written' } }));
    const report: SuiteReport = {
      machine, loadAtEnd: currentLoadAvg(), command, runsPerScript: Number(values.runs ?? (quick ? 1 : 3)), mode,
      entries: [...entries, ...pending], peers, durationS: (Date.now() - started) / 1000,
    };
    mkdirSync(dirname(outFile), { recursive: true });
    writeFileSync(outFile, renderReport(report));
  };
  for (const spec of selected) {
    const script = resolve(ROOT, spec.script);
    const results: BenchResult[] = [];
    const failed: string[] = [];
    const runs = runsFor(spec);
    for (let i = 0; i < runs; i++) {
      log(`${spec.name}: run ${i + 1}/${runs}`);
      const o = await runScript(script, {
        args: spec.args({ quick, full }),
        env: spec.env?.({ quick, full }),
        nodeArgs: spec.nodeArgs,
        cwd: ROOT,
        timeoutMs: spec.timeoutMs,
        onStderr: quick ? undefined : (c) => process.stderr.write(c.replace(/^/gm, `  [${spec.name}] `)),
      });
      if (o.ok) results.push(o.result);
      else {
        failed.push(o.reason);
        log(`${spec.name}: ${o.reason}`);
        // a missing script or a deterministic failure will not improve with retries
        if (!existsSync(script) || results.length === 0) break;
      }
    }
    entries.push({
      name: spec.name, script: spec.script, title: spec.title, owner: spec.owner,
      outcome: results.length ? { ok: true, aggregated: aggregate(results), failedRuns: failed } : { ok: false, reason: failed[0] ?? 'no run' },
    });
    writePage(null, false);
  }

  let peers: SuiteReport['peers'] = null;
  const peersMd = resolve(ROOT, 'bench/out/peers/peers.md');
  if (values['reuse-peers']) {
    peers = existsSync(peersMd)
      ? { ok: true, markdown: `_Embedded from an earlier \`bash bench/peers/run-peers.sh\` (bench/out/peers/peers.md, written ${statSync(peersMd).mtime.toISOString()}), not rerun by this invocation._\n\n${readFileSync(peersMd, 'utf8')}` }
      : { ok: false, reason: '--reuse-peers given but bench/out/peers/peers.md does not exist' };
  } else if (!quick && !values['no-peers'] && (!only || only.has('peers'))) {
    log('peers: bench/peers/run-peers.sh (installs fail2ban and CrowdSec if missing)');
    const o = await runScript(resolve(ROOT, 'bench/peers/run-peers.sh'), {
      cwd: ROOT, timeoutMs: 90 * 60_000, onStderr: (c) => process.stderr.write(c.replace(/^/gm, '  [peers] ')),
    });
    const md = peersMd;
    if (o.ok && existsSync(md)) peers = { ok: true, markdown: readFileSync(md, 'utf8') };
    else peers = { ok: false, reason: o.ok ? 'run-peers.sh wrote no bench/out/peers/peers.md' : o.reason };
  }

  writePage(peers, true);
  log(`wrote ${outFile}`);
  return 0;
}

main().then(
  (code) => (process.exitCode = code),
  (e: unknown) => {
    process.stderr.write(`bench: ${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = 1;
  },
);
