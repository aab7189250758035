// Replay of a large realistic authwatch NDJSON file with the whole default rule pack.
//
//   node --import tsx bench/replay.bench.ts [--events N] [--cli-events N] [--rules DIR] [--seed S]
//
// Figures (each against a baseline measured in the same run):
//  - in-process: ingestor → engine → in-memory sink, and → the real SQLite store, as events/s
//    next to bare JSON.parse of the same lines, interleaved chunk by chunk (aim: ratio ≥ 0.5);
//  - end to end: `bin/authwatch.js replay FILE` executed as a command, the way users start it
//    (plain node on the compiled dist/; dist/ is built first when it is not a build of the
//    current src/), alerts to stdout, against a process that only
//    reads the same file and JSON.parses each line (bench/lib/bare-parse.mjs: plain node on
//    plain JS, so both pay the same start-up); peak RSS of both.
//    Until this round both ran through tsx (the CLI compiled src/ at every start, ~1.3 s): the
//    older figures in docs/benchmarks.md were measured that way.
//  - start-up: `authwatch --help` and `authwatch replay` of an empty file, median of several runs,
//    against `node -e 0`.
import { parseArgs } from 'node:util';
import { resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { authwatchLines } from './lib/datagen.js';
import { buildPipeline, NotAvailableError } from './lib/authwatch.js';
import { chunksOf, jsonParseBaseline, rate, runChunked } from './lib/measure.js';
import { ensureFile } from './lib/files.js';
import { ensureDistBuilt, runCli, startupMs } from './lib/cli-run.js';
import { availableParallelism } from 'node:os';
import { autoIngestThreads } from '../src/parallel/ingest-pool.js';
import { figureWithBaseline, reportResult, type Figure } from './lib/result.js';
import { distIsFresh } from '../bin/dist-freshness.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '1000000' },
    'cli-events': { type: 'string', default: '1000000' },
    rules: { type: 'string', default: resolve(ROOT, 'rules') },
    seed: { type: 'string', default: '42' },
    chunk: { type: 'string', default: '50000' },
  },
});
const N = Number(values.events);
const CLI_N = Number(values['cli-events']);
const seed = Number(values.seed);
const chunk = Math.min(Number(values.chunk), Math.max(1, N));
const log = (s: string) => process.stderr.write(`replay: ${s}\n`);

const figures: Figure[] = [];
const notMeasured: { metric: string; reason: string }[] = [];
const conditions: Record<string, string | number | boolean | null> = {
  events: N, 'cli events': CLI_N, rules: values.rules === resolve(ROOT, 'rules') ? 'rules/ (default pack)' : values.rules, seed, 'input format': 'auto',
};

// Warm-up: JIT the pipeline and JSON.parse on a separate sample so the measured runs start hot.
async function warmUp(): Promise<void> {
  const bp = await buildPipeline({ rulesDir: values.rules, inputFormat: 'auto', sink: 'memory' });
  runChunked(chunksOf(authwatchLines(Math.min(20_000, N), { seed: seed + 1 }), 5000), bp, [jsonParseBaseline]);
  bp.close();
}

for (const sink of ['memory', 'sqlite'] as const) {
  const metric = `in-process events/s (${sink === 'memory' ? 'in-memory sink' : 'SQLite store'})`;
  try {
    if (sink === 'memory') await warmUp();
    const bp = await buildPipeline({ rulesDir: values.rules, inputFormat: 'auto', sink });
    conditions['rules loaded'] = bp.rulesLoaded;
    log(`${metric}: ${N} events`);
    const r = runChunked(chunksOf(authwatchLines(N, { seed }), chunk), bp, [jsonParseBaseline]);
    bp.close();
    const base = r.baselineMs[jsonParseBaseline.name];
    log(`${metric}: ${Math.round(rate(r.events, r.pipelineMs))} events/s vs JSON.parse ${Math.round(rate(r.events, base))}/s; accepted ${r.accepted}, rejected ${r.rejected}, alerts ${r.alerts}`);
    if (r.accepted === 0) throw new NotAvailableError(`the pipeline accepted no events (rejected ${r.rejected}): measuring rejections is not the figure`);
    figures.push(
      figureWithBaseline(
        { metric, value: rate(r.events, r.pipelineMs), unit: 'events/s' },
        { metric: 'bare JSON.parse', value: rate(r.events, base), unit: 'lines/s' },
        { aim: 'ratio ≥ 0.5', note: `accepted ${r.accepted}, rejected ${r.rejected}, alerts ${r.alerts}` },
      ),
    );
    if (sink === 'memory') {
      conditions.alerts = r.alerts;
      conditions.rejected = r.rejected;
      figures.push({ metric: 'in-process peak heap (memory sink)', value: r.peakHeapMB, unit: 'MB', note: 'includes the input chunk held in memory' });
    }
  } catch (e) {
    notMeasured.push({ metric, reason: (e as Error).message });
    log(`${metric}: not measured: ${(e as Error).message}`);
  }
}

if (CLI_N > 0) {
  const metric = 'CLI end to end events/s (authwatch replay FILE > alerts)';
  try {
    const file = await ensureFile(`replay-authwatch-${CLI_N}-s${seed}.ndjson`, () => authwatchLines(CLI_N, { seed }));
    log(`${metric}: ${file}`);
    const startUp = ensureDistBuilt(ROOT);
    conditions['cli start-up'] = startUp;
    const base = await runCli(process.execPath, [resolve(ROOT, 'bench/lib/bare-parse.mjs'), file, 'json'], { cwd: ROOT });
    if (!base.ok) throw new Error(`baseline process failed: ${base.stderrTail}`);
    // the default (--workers auto: no ingest thread below 4 cores) and one ingest thread beside
    // the engine (--workers 1), against the same baseline run
    const single = await runCli(resolve(ROOT, 'bin/authwatch.js'), ['replay', '--workers', '1', '--rules', values.rules, file], { cwd: ROOT });
    if (!single.ok) throw new Error(`authwatch replay --workers 1 exited with ${single.code}: ${single.stderrTail}`);
    const cli = await runCli(resolve(ROOT, 'bin/authwatch.js'), ['replay', '--rules', values.rules, file], { cwd: ROOT });
    if (!cli.ok) throw new Error(`authwatch replay exited with ${cli.code}: ${cli.stderrTail}`);
    if (cli.stdoutLines !== single.stdoutLines) throw new Error(`--workers auto wrote ${cli.stdoutLines} alerts, --workers 1 ${single.stdoutLines}`);
    conditions['cli alerts'] = cli.stdoutLines;
    conditions['cli ingest threads (auto)'] = autoIngestThreads(availableParallelism());
    figures.push(
      figureWithBaseline(
        { metric, value: rate(CLI_N, cli.wallMs), unit: 'events/s' },
        { metric: 'process: read file + JSON.parse', value: rate(CLI_N, base.wallMs), unit: 'lines/s' },
        { aim: 'ratio ≥ 0.5', note: `default --workers auto; wall ${Math.round(cli.wallMs)} ms vs ${Math.round(base.wallMs)} ms, ${cli.stdoutLines} alerts, both include node start-up (CLI: ${startUp})` },
      ),
      figureWithBaseline(
        { metric: 'CLI end to end events/s, with one ingest thread (--workers 1)', value: rate(CLI_N, single.wallMs), unit: 'events/s' },
        { metric: 'process: read file + JSON.parse', value: rate(CLI_N, base.wallMs), unit: 'lines/s' },
        { note: `wall ${Math.round(single.wallMs)} ms; peak RSS ${single.maxRssMB?.toFixed(0) ?? '?'} MB` },
      ),
    );
    if (cli.maxRssMB !== null) {
      figures.push(
        figureWithBaseline({ metric: 'CLI peak RSS', value: cli.maxRssMB, unit: 'MB' }, { metric: 'baseline process peak RSS', value: base.maxRssMB ?? 0, unit: 'MB' }),
      );
    }
    const help = await startupMs([resolve(ROOT, 'bin/authwatch.js'), '--help'], 7);
    const bare = await startupMs([process.execPath, '-e', '0'], 7);
    figures.push(
      figureWithBaseline(
        { metric: 'start-up: authwatch --help', value: help, unit: 'ms' },
        { metric: 'node -e 0', value: bare, unit: 'ms' },
        { note: `median of 7 runs; ${startUp}` },
      ),
    );
    // what every replay pays before its first line: config (zod), rule files (yaml) and compiling the pack
    const empty = await ensureFile('replay-empty.ndjson', function* () {});
    const emptyReplay = await startupMs([resolve(ROOT, 'bin/authwatch.js'), 'replay', '--rules', values.rules, empty], 7);
    figures.push(
      figureWithBaseline(
        { metric: 'start-up: authwatch replay of an empty file', value: emptyReplay, unit: 'ms' },
        { metric: 'node -e 0', value: bare, unit: 'ms' },
        { note: `median of 7 runs; loads the config and compiles the rules (${values.rules}); ${startUp}` },
      ),
    );
    // src/ edited while the CLI ran (a shared checkout) sends bin/authwatch.js back to tsx
    if (!distIsFresh(ROOT)) conditions['cli start-up'] = `${startUp}, but src/ changed during the runs: some ran through tsx`;
  } catch (e) {
    notMeasured.push({ metric, reason: (e as Error).message });
    log(`${metric}: not measured: ${(e as Error).message}`);
  }
}

reportResult({ name: 'replay', conditions, figures, notMeasured });
