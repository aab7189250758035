// Replay of an NGINX combined access log through the NGINX adapter with the whole default pack.
//
//   node --import tsx bench/nginx.bench.ts [--lines N] [--cli-lines N] [--rules DIR] [--seed S]
//
// Baselines in the same run: bare JSON.parse of the equivalent authwatch lines (the same
// requests as authwatch events, so the ratio is comparable with the replay figure), and a bare
// regex split of the NGINX lines (the least any log tool must do per line). End to end:
// `authwatch replay --input-format nginx FILE` against a process that reads the same file and
// regex-splits each line.
import { parseArgs } from 'node:util';
import { resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { accessAsAuthwatch, accessLog, nginxCombined } from './lib/datagen.js';
import { buildPipeline, NotAvailableError } from './lib/authwatch.js';
import { jsonParseBaseline, nginxRegexBaseline, rate, runChunked, type Chunk } from './lib/measure.js';
import { ensureFile } from './lib/files.js';
import { ensureDistBuilt, runCli } from './lib/cli-run.js';
import { figureWithBaseline, reportResult, type Figure } from './lib/result.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    lines: { type: 'string', default: '1000000' },
    'cli-lines': { type: 'string' },
    rules: { type: 'string', default: resolve(ROOT, 'rules') },
    seed: { type: 'string', default: '7' },
    chunk: { type: 'string', default: '50000' },
  },
});
const N = Number(values.lines);
const CLI_N = Number(values['cli-lines'] ?? values.lines);
const seed = Number(values.seed);
const chunkSize = Math.min(Number(values.chunk), Math.max(1, N));
const log = (s: string) => process.stderr.write(`nginx: ${s}\n`);

function* chunks(n: number, s: number): Generator<Chunk> {
  const { records } = accessLog(n, { seed: s });
  let ng: string[] = [];
  let aw: string[] = [];
  let i = 0;
  for (const rec of records) {
    ng.push(nginxCombined(rec));
    aw.push(accessAsAuthwatch(rec, i++));
    if (ng.length === chunkSize) {
      yield { input: ng, baselineInput: { [jsonParseBaseline.name]: aw, [nginxRegexBaseline.name]: ng } };
      ng = [];
      aw = [];
    }
  }
  if (ng.length) yield { input: ng, baselineInput: { [jsonParseBaseline.name]: aw, [nginxRegexBaseline.name]: ng } };
}

const figures: Figure[] = [];
const notMeasured: { metric: string; reason: string }[] = [];
const conditions: Record<string, string | number | boolean | null> = {
  lines: N, 'cli lines': CLI_N, rules: values.rules === resolve(ROOT, 'rules') ? 'rules/ (default pack)' : values.rules, seed, 'input format': 'nginx (combined)',
};

const metric = 'in-process NGINX lines/s (in-memory sink)';
try {
  const warm = await buildPipeline({ rulesDir: values.rules, inputFormat: 'nginx', sink: 'memory' });
  runChunked(chunks(Math.min(20_000, N), seed + 1), warm, [jsonParseBaseline, nginxRegexBaseline]);
  warm.close();
  const bp = await buildPipeline({ rulesDir: values.rules, inputFormat: 'nginx', sink: 'memory' });
  conditions['rules loaded'] = bp.rulesLoaded;
  const r = runChunked(chunks(N, seed), bp, [jsonParseBaseline, nginxRegexBaseline]);
  bp.close();
  log(`${Math.round(rate(r.events, r.pipelineMs))} lines/s; accepted ${r.accepted}, rejected ${r.rejected}, alerts ${r.alerts}`);
  if (r.accepted === 0) throw new NotAvailableError(`the NGINX adapter accepted no lines (rejected ${r.rejected})`);
  conditions.alerts = r.alerts;
  conditions.rejected = r.rejected;
  const value = { metric, value: rate(r.events, r.pipelineMs), unit: 'lines/s' };
  figures.push(
    figureWithBaseline(value, { metric: 'bare JSON.parse of equivalent authwatch lines', value: rate(r.events, r.baselineMs[jsonParseBaseline.name]), unit: 'lines/s' }, { aim: 'ratio ≥ 0.5' }),
  );
  figures.push(
    figureWithBaseline(
      { ...value, metric: `${metric}, vs regex split` },
      { metric: 'bare regex split of the NGINX lines', value: rate(r.events, r.baselineMs[nginxRegexBaseline.name]), unit: 'lines/s' },
    ),
  );
} catch (e) {
  notMeasured.push({ metric, reason: (e as Error).message });
  log(`not measured: ${(e as Error).message}`);
}

if (CLI_N > 0) {
  const m = 'CLI end to end NGINX lines/s (authwatch replay --input-format nginx)';
  try {
    const file = await ensureFile(`nginx-access-${CLI_N}-s${seed}.log`, function* () {
      for (const rec of accessLog(CLI_N, { seed }).records) yield nginxCombined(rec);
    });
    // both processes start the same way: plain node on compiled JS (bench/lib/cli-run.ts)
    conditions['cli start-up'] = ensureDistBuilt(ROOT);
    const base = await runCli(process.execPath, [resolve(ROOT, 'bench/lib/bare-parse.mjs'), file, 'nginx'], { cwd: ROOT });
    if (!base.ok) throw new Error(`baseline process failed: ${base.stderrTail}`);
    const args = ['replay', '--input-format', 'nginx', '--rules', values.rules, file];
    const single = await runCli(process.execPath, [resolve(ROOT, 'bin/authwatch.js'), ...args, '--workers', '1'], { cwd: ROOT });
    if (!single.ok) throw new Error(`authwatch replay --workers 1 exited with ${single.code}: ${single.stderrTail}`);
    const cli = await runCli(process.execPath, [resolve(ROOT, 'bin/authwatch.js'), ...args], { cwd: ROOT });
    if (!cli.ok) throw new Error(`authwatch replay exited with ${cli.code}: ${cli.stderrTail}`);
    if (cli.stdoutLines !== single.stdoutLines) throw new Error(`--workers auto wrote ${cli.stdoutLines} alerts, --workers 1 ${single.stdoutLines}`);
    conditions['cli alerts'] = cli.stdoutLines;
    figures.push(
      figureWithBaseline(
        { metric: m, value: rate(CLI_N, cli.wallMs), unit: 'lines/s' },
        { metric: 'process: read file + regex split', value: rate(CLI_N, base.wallMs), unit: 'lines/s' },
        { note: `default --workers auto; wall ${Math.round(cli.wallMs)} ms vs ${Math.round(base.wallMs)} ms; peak RSS ${cli.maxRssMB?.toFixed(0) ?? '?'} MB; ${cli.stdoutLines} alerts` },
      ),
      figureWithBaseline(
        { metric: 'CLI end to end NGINX lines/s, with one ingest thread (--workers 1)', value: rate(CLI_N, single.wallMs), unit: 'lines/s' },
        { metric: 'process: read file + regex split', value: rate(CLI_N, base.wallMs), unit: 'lines/s' },
        { note: `wall ${Math.round(single.wallMs)} ms; peak RSS ${single.maxRssMB?.toFixed(0) ?? '?'} MB` },
      ),
    );
  } catch (e) {
    notMeasured.push({ metric: m, reason: (e as Error).message });
    log(`${m}: not measured: ${(e as Error).message}`);
  }
}

reportResult({ name: 'nginx', conditions, figures, notMeasured });
