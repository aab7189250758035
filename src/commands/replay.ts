// `authwatch replay [--rules DIR] [--input-format F] [--config FILE] [--rejects FILE]
//   [--fingerprint-secret-file FILE] FILE...` (`-` for stdin): evaluates recorded input by
// event time with the configured rule set and writes each alert once, in its final state, as
// one NDJSON line on stdout. Summary (and a progress bar on a terminal) on stderr.
// Exit: 0 done (even with rejected lines), 1 unreadable input / broken rules / bad config, 2 usage.
import { parseArgs } from 'node:util';
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { loadConfig, type Config } from '../config/config.js';
import { INPUT_FORMATS, type InputFormat } from '../events/ingest-types.js';
import { createIngestorFromConfig } from '../events/ingestor-from-config.js';
import { loadRuleSet } from '../rules/rule-loader.js';
import { createEngine } from '../rules/engine.js';
import { parseDuration } from '../util/duration.js';
import { readLineBatches, type LineBatch } from '../sources/file-source.js';
import { recordFieldReads } from '../rules/sigma-matcher.js';
import { autoIngestThreads, IngestPool, rebuildWith } from '../parallel/ingest-pool.js';
import { replayBatchesPooled } from '../parallel/parallel-replay.js';

/** `--workers auto` starts ingest threads only for inputs at least this big. */
const AUTO_THREADS_MIN_BYTES = 8 * 1024 * 1024;
import { RejectFileSink } from '../sources/reject-file-sink.js';
import { Replay, formatSummary } from '../replay.js';
import type { Alert } from '../alerts/alert.js';

const USAGE = `Usage: authwatch replay [options] FILE...   (- reads stdin)

Options:
  --rules DIR                     rules directory (default: config rules.dir)
  --input-format F                auto|authwatch|nginx|envoy|kong (default: config ingest.input_format)
  --config FILE                   config file (default: AUTHWATCH_CONFIG, else embedded defaults)
  --rejects FILE                  append rejected lines (redacted) to FILE as NDJSON
  --fingerprint-secret-file FILE  HMAC key for token fingerprints (default: configured, or data_dir/fingerprint.key)
  --workers N|auto                ingest threads beside the rule engine (default auto: none below
                                  4 cores, else cores-2 (max 4) for inputs of 8 MiB or more; 0 = none)
  --quiet                         no summary on stderr

Alerts go to stdout, one JSON object per line, each written once in its final state.`;

class UsageError extends Error {}

interface Args {
  files: string[];
  rules?: string;
  inputFormat?: InputFormat;
  config?: string;
  rejects?: string;
  secretFile?: string;
  quiet: boolean;
  workers: number | 'auto';
  help: boolean;
}

function parse(argv: string[]): Args {
  let p;
  try {
    p = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        rules: { type: 'string' },
        'input-format': { type: 'string' },
        config: { type: 'string' },
        rejects: { type: 'string' },
        'fingerprint-secret-file': { type: 'string' },
        quiet: { type: 'boolean', short: 'q' },
        workers: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const v = p.values;
  const fmt = v['input-format'];
  if (fmt !== undefined && !(INPUT_FORMATS as readonly string[]).includes(fmt)) {
    throw new UsageError(`--input-format must be one of ${INPUT_FORMATS.join('|')}, got "${fmt}"`);
  }
  const workers = v.workers === undefined || v.workers === 'auto' ? 'auto' : Number(v.workers);
  if (workers !== 'auto' && !(Number.isInteger(workers) && workers >= 0 && workers <= 64)) {
    throw new UsageError(`--workers must be auto or a whole number from 0 to 64, got "${v.workers}"`);
  }
  if (!v.help && p.positionals.length === 0) throw new UsageError('no input: give one or more FILEs, or - for stdin');
  if (p.positionals.filter((f) => f === '-').length > 1) throw new UsageError('stdin (-) can be read only once');
  return {
    files: p.positionals,
    rules: v.rules,
    inputFormat: fmt as InputFormat | undefined,
    config: v.config,
    rejects: v.rejects,
    secretFile: v['fingerprint-secret-file'],
    quiet: v.quiet ?? false,
    workers,
    help: v.help ?? false,
  };
}

function fail(msg: string): number {
  process.stderr.write(`authwatch replay: ${msg}\n`);
  return 1;
}

/** The alert as written on stdout: the alert object of the brief. */
function alertLine(a: Alert): string {
  return JSON.stringify({
    id: a.id, rule: a.rule, group: a.group, count: a.count, first_seen: a.first_seen, last_seen: a.last_seen,
    evidence: a.evidence, status: a.status, proposed: a.proposed,
  }) + '\n';
}

export async function run(argv: string[]): Promise<number> {
  let args: Args;
  try {
    args = parse(argv);
  } catch (err) {
    process.stderr.write(`authwatch replay: ${(err as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }

  let config: Config;
  try {
    config = loadConfig({ file: args.config, env: process.env });
  } catch (err) {
    return fail((err as Error).message);
  }

  // Every input must be readable before anything is evaluated: a partial replay is misleading.
  const unreadable: string[] = [];
  for (const f of args.files) {
    if (f === '-') continue;
    try {
      accessSync(f, constants.R_OK);
      if (statSync(f).isDirectory()) unreadable.push(`${f} (a directory)`);
    } catch (err) {
      unreadable.push(`${f} (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`);
    }
  }
  if (unreadable.length) return fail(`cannot read input: ${unreadable.join(', ')}`);

  const rulesDir = args.rules ?? config.rules.dir;
  // the fields the compiled rules read: ingest threads hand the engine only those (src/parallel)
  const { result: loaded, fields: ruleFields } = recordFieldReads(() => loadRuleSet(rulesDir, { includeExperimental: config.rules.include_experimental }));
  if (loaded.errors.length) {
    const lines = loaded.errors.map((e) => `  ${e.file}:${e.line} ${e.rule ?? '-'} ${e.code}: ${e.message}`);
    return fail(`rules in ${rulesDir} do not load:\n${lines.join('\n')}`);
  }

  let secret: Buffer | undefined;
  let ingestor;
  try {
    if (args.secretFile) {
      secret = readFileSync(args.secretFile);
      if (secret.length < 16) return fail(`fingerprint secret file ${args.secretFile} holds ${secret.length} bytes; at least 16 are needed`);
    }
    ({ ingestor, secret } = createIngestorFromConfig(config, { secret, inputFormat: args.inputFormat }));
  } catch (err) {
    return fail((err as Error).message);
  }

  // the engine's own getters (correlation group-by and value fields) are recorded too
  const { result: engine, fields: engineFields } = recordFieldReads(() => createEngine(loaded.ruleset, {
    allowedLatenessMs: parseDuration(config.rules.allowed_lateness),
    maxGroupKeys: config.rules.max_group_keys,
  }));
  for (const f of engineFields) ruleFields.add(f);
  const rejectSink = args.rejects ? new RejectFileSink(args.rejects) : undefined;
  let out = '';
  const replay = new Replay({
    ingestor,
    engine,
    rejects: rejectSink,
    sampleRejections: 10,
    // nothing reads an unmatched event's id here unless a rule matches on the field `id`
    deferLineIds: !ruleFields.has('id'),
    emit: (a) => {
      out += alertLine(a);
    },
  });
  // `replay ... | head` closes stdout early: stop quietly instead of dying on EPIPE.
  let stdoutClosed = false;
  const onStdoutError = (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') stdoutClosed = true;
    else throw err;
  };
  process.stdout.on('error', onStdoutError);
  const flushOut = async () => {
    if (!out || stdoutClosed) return;
    const chunk = out;
    out = '';
    if (!process.stdout.write(chunk)) {
      await new Promise<void>((r) => {
        const done = () => {
          process.stdout.off('drain', done);
          process.stdout.off('close', done);
          r();
        };
        process.stdout.once('drain', done);
        process.stdout.once('close', done);
      });
    }
  };

  // The bar goes to stderr and only to a terminal: piped stderr stays a clean summary. Its
  // total is the files' size, so there is none when stdin (size unknown) is among the inputs.
  // cli-progress is loaded only for a terminal: ~20 ms of start-up otherwise spent for nothing
  const cliProgress = process.stderr.isTTY && !args.quiet && !args.files.includes('-') ? (await import('cli-progress')).default : null;
  const bar = cliProgress
    ? new cliProgress.SingleBar({ stream: process.stderr, format: 'replay {bar} {percentage}% | {file} | {value}/{total} bytes', hideCursor: true }, cliProgress.Presets.shades_classic)
    : null;
  const sizes = args.files.map((f) => (f === '-' ? 0 : statSync(f).size));
  const totalBytes = sizes.reduce((a, b) => a + b, 0);
  bar?.start(totalBytes, 0, { file: '' });
  let doneBytes = 0;
  // Ingest threads pay off once start-up (tens of ms a thread) is small beside the input.
  const threads = args.workers === 'auto' ? (args.files.includes('-') || totalBytes < AUTO_THREADS_MIN_BYTES ? 0 : autoIngestThreads()) : args.workers;
  const pool = threads > 0
    ? new IngestPool({ config, secret: secret!, inputFormat: args.inputFormat, threads, fields: ruleFields, rebuild: rebuildWith(ingestor!, { source: 'file', name: 'replay' }) })
    : null;
  try {
    for (let i = 0; i < args.files.length && !stdoutClosed; i++) {
      const f = args.files[i];
      const origin = f === '-' ? { source: 'stdin' as const, name: '-' } : { source: 'file' as const, name: f };
      const afterBatch = async (batch: LineBatch) => {
        bar?.update(Math.min(totalBytes, doneBytes + batch.bytesRead), { file: f });
        await flushOut();
      };
      if (pool) {
        // smaller reads keep every thread fed while the engine works on the batch before
        const batches = readLineBatches(f, { maxLineBytes: config.ingest.max_line_bytes, chunkBytes: 256 * 1024 });
        await replayBatchesPooled({ pool, replay, batches, origin, afterBatch, stopped: () => stdoutClosed });
      } else {
        for await (const batch of readLineBatches(f, { maxLineBytes: config.ingest.max_line_bytes })) {
          if (stdoutClosed) break;
          replay.ingestLines(batch.lines, origin, batch.firstLine);
          await afterBatch(batch);
        }
      }
      doneBytes += sizes[i];
    }
  } catch (err) {
    bar?.stop();
    rejectSink?.close();
    await pool?.close();
    return fail(`reading input failed: ${(err as Error).message}`);
  }
  await pool?.close();
  const summary = replay.finish();
  await flushOut();
  bar?.stop();
  rejectSink?.close();
  process.stdout.off('error', onStdoutError);
  if (stdoutClosed) return 0; // the reader went away; nothing left to report to
  if (!args.quiet) {
    process.stderr.write(formatSummary(summary));
    if (rejectSink && summary.rejected) process.stderr.write(`rejected lines written to ${args.rejects}\n`);
  }
  return 0;
}
