// `authwatch rules lint [DIR]` and `authwatch rules test [DIR]` (docs/rules.md).
// DIR defaults to the configured rules directory (rules.dir).
import { parseArgs } from 'node:util';
import { existsSync, statSync } from 'node:fs';
import { relative, isAbsolute } from 'node:path';
import { loadConfig } from '../config/config.js';
import { lintRules } from '../rules/lint.js';
import { createFixtureDeps, formatFixtureReport, runFixtures } from '../rules/fixture-runner.js';
import type { RuleLoadError } from '../rules/types.js';

const USAGE = `Usage:
  authwatch rules lint [DIR] [--config FILE]   check rule files; errors and warnings as file:line rule code message
  authwatch rules test [DIR] [--config FILE]   run every rule's fixtures through ingest and the engine

DIR defaults to the configured rules directory (rules.dir). Exit 1 on lint errors, fixture
mismatches or a rule without fixtures; 2 on usage errors.`;

function usage(msg?: string): number {
  if (msg) process.stderr.write(`authwatch rules: ${msg}\n`);
  process.stderr.write(USAGE + '\n');
  return 2;
}

/** `file:line rule code message`, the format editors and CI annotations understand. */
export function formatRuleProblem(dir: string, p: RuleLoadError, severity: 'error' | 'warning'): string {
  const file = isAbsolute(p.file) ? p.file : `${dir.replace(/\/$/, '')}/${p.file}`;
  const rel = relative(process.cwd(), file);
  const shown = rel && !rel.startsWith('..') ? rel : file;
  return `${shown}:${p.line} ${p.rule ?? '-'} ${p.code} ${severity}: ${p.message}`;
}

function resolveDir(positional: string | undefined, configFile: string | undefined): string {
  if (positional) return positional;
  return loadConfig({ file: configFile, env: process.env }).rules.dir;
}

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (!sub || sub === '--help' || sub === '-h') return sub ? (process.stdout.write(USAGE + '\n'), 0) : usage();
  if (sub !== 'lint' && sub !== 'test') return usage(`unknown subcommand "${sub}"`);
  let parsed;
  try {
    parsed = parseArgs({ args: rest, allowPositionals: true, options: { config: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  } catch (err) {
    return usage((err as Error).message);
  }
  if (parsed.values.help) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  if (parsed.positionals.length > 1) return usage('at most one DIR');
  const dir = resolveDir(parsed.positionals[0], parsed.values.config);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    process.stderr.write(`authwatch rules: rules directory not found: ${dir}\n`);
    return 1;
  }

  if (sub === 'lint') {
    const { errors, warnings, rules } = lintRules(dir);
    for (const e of errors) process.stdout.write(formatRuleProblem(dir, e, 'error') + '\n');
    for (const w of warnings) process.stdout.write(formatRuleProblem(dir, w, 'warning') + '\n');
    process.stderr.write(`${rules.length} rules, ${errors.length} errors, ${warnings.length} warnings\n`);
    return errors.length ? 1 : 0;
  }

  const { deps, errors } = createFixtureDeps(dir);
  if (errors.length) {
    for (const e of errors) process.stdout.write(formatRuleProblem(dir, e, 'error') + '\n');
    process.stderr.write(`authwatch rules test: the rule set does not load (${errors.length} errors); run 'authwatch rules lint'\n`);
    return 1;
  }
  const result = runFixtures(dir, deps);
  process.stdout.write(formatFixtureReport(result));
  return result.ok ? 0 : 1;
}
