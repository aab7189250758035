// Runs the rule pack's fixtures through the real data path (ingest → engine via Pipeline) and
// compares the alerts with the expected files. Used by `authwatch rules test` and the pack test.
//
// Layout (docs/rules.md): every rule file `<dir>/<name>.yml` has a sibling folder
// `<name>.fixtures/` holding cases `<case>.events.ndjson` + `<case>.expected.ndjson`.
// Every case runs against a fresh engine built from the WHOLE rule set under test, so a
// near miss proves that no rule of the pack fires, and the expected file lists every alert.
// Comparison is on (rule name, group, count, first_seen, last_seen), as a multiset.
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { join, relative, basename } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { Alert } from '../alerts/alert.js';
import type { Ingestor, Rejection } from '../events/ingest-types.js';
import type { RuleEngine } from './types.js';
import { Pipeline } from '../pipeline.js';
import { createIngestor } from '../events/ingestor.js';
import { compileRoutePolicy } from '../events/route-policy.js';
import { EVENT_LIMITS } from '../events/event.js';
import { loadRuleSet } from './rule-loader.js';
import { createEngine } from './engine.js';
import type { RuleLoadError } from './types.js';

/** The fixed fingerprint secret fixtures are evaluated with (raw tokens in fixtures fingerprint to stable values). */
export const FIXTURE_FINGERPRINT_SECRET = 'authwatch-fixture-fingerprint-secret-v1';

export interface ExpectedAlert {
  rule: string;
  group: Record<string, unknown>;
  count: number;
  first_seen: string;
  last_seen: string;
}

export interface FixtureCaseResult {
  name: string;
  ok: boolean;
  /** human-readable differences: missing/unexpected alerts, rejected fixture lines, bad expected lines */
  problems: string[];
  alerts: number;
}

export interface RuleFixtureResult {
  /** the rule file's name without extension: by convention the alerting rule's name */
  rule: string;
  file: string; // relative to the rules dir
  cases: FixtureCaseResult[];
  ok: boolean;
}

export interface FixtureRunResult {
  rules: RuleFixtureResult[];
  ok: boolean;
}

export interface FixtureRunnerDeps {
  /** a fresh engine for the rule set under test (no state shared between cases) */
  makeEngine: () => RuleEngine;
  ingestor: Ingestor;
}

const RULE_FILE_RE = /\.ya?ml$/;

/** Engine options for fixtures: the service's defaults (30 s lateness). */
export const FIXTURE_ENGINE_OPTIONS = { allowedLatenessMs: 30_000, maxGroupKeys: 1_000_000 } as const;

/**
 * The real path for fixtures: the ingestor (auto format, no route policy: fixtures carry
 * `http.route_class` themselves) with the fixed fixture secret, and engines over every rule
 * under `rulesDir`, experimental ones included (they ship fixtures too).
 */
export function createFixtureDeps(rulesDir: string): { deps: FixtureRunnerDeps; errors: RuleLoadError[]; warnings: RuleLoadError[] } {
  const { ruleset, errors, warnings } = loadRuleSet(rulesDir, { includeExperimental: true });
  const ingestor = createIngestor({
    fingerprintSecret: Buffer.from(FIXTURE_FINGERPRINT_SECRET, 'utf8'),
    routePolicy: compileRoutePolicy({ routes: [] }),
    inputFormat: 'auto',
    maxLineBytes: EVENT_LIMITS.maxLineBytes,
  });
  return { deps: { ingestor, makeEngine: () => createEngine(ruleset, FIXTURE_ENGINE_OPTIONS) }, errors, warnings };
}

/** Rule files under `dir` (recursively), skipping fixture folders. Sorted, relative paths. */
export function findRuleFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) {
        if (!name.endsWith('.fixtures') && !name.startsWith('.')) walk(p);
      } else if (RULE_FILE_RE.test(name)) out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out;
}

/** The fixture cases of one rule file: case names with both files present (or one missing, reported). */
export function findCases(rulesDir: string, ruleFile: string): { dir: string; cases: string[]; orphans: string[] } {
  const dir = join(rulesDir, ruleFile.replace(RULE_FILE_RE, '.fixtures'));
  if (!existsSync(dir)) return { dir, cases: [], orphans: [] };
  const names = readdirSync(dir);
  const events = new Set(names.filter((n) => n.endsWith('.events.ndjson')).map((n) => n.slice(0, -'.events.ndjson'.length)));
  const expected = new Set(names.filter((n) => n.endsWith('.expected.ndjson')).map((n) => n.slice(0, -'.expected.ndjson'.length)));
  const cases = [...events].filter((c) => expected.has(c)).sort();
  const orphans = [...new Set([...events, ...expected])].filter((c) => !(events.has(c) && expected.has(c))).sort();
  return { dir, cases, orphans };
}

/**
 * The names of the rules in a file that raise alerts: detections and correlations that no
 * correlation in the same file counts (building blocks do not alert, Sigma `generate`
 * aside). Filters raise nothing. Unparseable files give [] (lint reports them).
 */
export function alertingRuleNames(text: string): string[] {
  try {
    const docs = parseAllDocuments(text).map((d) => d.toJS() as Record<string, unknown> | null).filter((d): d is Record<string, unknown> => !!d && typeof d === 'object');
    const referenced = new Set<string>();
    for (const d of docs) {
      const c = d.correlation as { rules?: unknown } | undefined;
      if (c && Array.isArray(c.rules)) for (const r of c.rules) referenced.add(String(r));
    }
    return docs
      .filter((d) => !('filter' in d) && ('detection' in d || 'correlation' in d))
      .filter((d) => !referenced.has(String(d.name)) && !referenced.has(String(d.id)))
      .map((d) => String(d.name ?? d.id ?? d.title));
  } catch {
    return [];
  }
}

/** Key-order-independent JSON, so groups compare by content. */
export function canonical(v: unknown): string {
  if (Array.isArray(v)) return '[' + v.map(canonical).join(',') + ']';
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return '{' + Object.keys(o).sort().map((k) => JSON.stringify(k) + ':' + canonical(o[k])).join(',') + '}';
  }
  return JSON.stringify(v);
}

/** What an alert is compared on. */
export function projectAlert(a: Alert): ExpectedAlert {
  return { rule: a.rule.name, group: a.group, count: a.count, first_seen: a.first_seen, last_seen: a.last_seen };
}

export function compareAlerts(expected: ExpectedAlert[], actual: ExpectedAlert[]): string[] {
  const remaining = new Map<string, number>();
  for (const a of actual) remaining.set(canonical(a), (remaining.get(canonical(a)) ?? 0) + 1);
  const problems: string[] = [];
  for (const e of expected) {
    const k = canonical(e);
    const n = remaining.get(k) ?? 0;
    if (n > 0) remaining.set(k, n - 1);
    else problems.push(`missing alert    ${k}`);
  }
  for (const [k, n] of remaining) for (let i = 0; i < n; i++) problems.push(`unexpected alert ${k}`);
  return problems;
}

function parseExpected(text: string, file: string, problems: string[]): ExpectedAlert[] {
  const out: ExpectedAlert[] = [];
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    try {
      const o = JSON.parse(line) as ExpectedAlert;
      if (typeof o.rule !== 'string' || typeof o.group !== 'object' || typeof o.count !== 'number' || typeof o.first_seen !== 'string' || typeof o.last_seen !== 'string') {
        problems.push(`${file}:${i + 1} expected alert needs rule, group, count, first_seen, last_seen`);
      } else out.push({ rule: o.rule, group: o.group, count: o.count, first_seen: o.first_seen, last_seen: o.last_seen });
    } catch {
      problems.push(`${file}:${i + 1} not valid JSON`);
    }
  });
  return out;
}

/** Run one events file through a fresh pipeline; returns the final state of every alert. */
export function evaluateEvents(lines: string[], name: string, deps: FixtureRunnerDeps): { alerts: Alert[]; rejected: Rejection[] } {
  const latest = new Map<string, Alert>();
  const rejected: Rejection[] = [];
  const pipeline = new Pipeline({
    ingestor: deps.ingestor,
    engine: deps.makeEngine(),
    alerts: { saveAlerts: (as) => as.forEach((a) => latest.set(a.id, a)) },
    rejects: { saveRejections: (rs) => rejected.push(...rs) },
  });
  pipeline.ingestLines(lines, { source: 'file', name });
  pipeline.finish();
  return { alerts: [...latest.values()], rejected };
}

export function runFixtureCase(rulesDir: string, fixturesDir: string, caseName: string, deps: FixtureRunnerDeps): FixtureCaseResult {
  const problems: string[] = [];
  const eventsFile = join(fixturesDir, `${caseName}.events.ndjson`);
  const expectedFile = join(fixturesDir, `${caseName}.expected.ndjson`);
  const relEvents = relative(rulesDir, eventsFile);
  const expected = parseExpected(readFileSync(expectedFile, 'utf8'), relative(rulesDir, expectedFile), problems);
  const lines = readFileSync(eventsFile, 'utf8').split('\n');
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  const { alerts, rejected } = evaluateEvents(lines, relEvents, deps);
  // A fixture's events must all be valid: a rejected line would silently weaken the case.
  for (const r of rejected) problems.push(`${relEvents}:${r.origin.line ?? '?'} rejected (${r.reason}): ${r.message}`);
  problems.push(...compareAlerts(expected, alerts.map(projectAlert)));
  return { name: caseName, ok: problems.length === 0, problems, alerts: alerts.length };
}

/** Run every fixture of every rule file under `rulesDir`. A rule file without cases fails. */
export function runFixtures(rulesDir: string, deps: FixtureRunnerDeps, only?: (ruleFile: string) => boolean): FixtureRunResult {
  const rules: RuleFixtureResult[] = [];
  for (const file of findRuleFiles(rulesDir)) {
    if (only && !only(file)) continue;
    const { dir, cases, orphans } = findCases(rulesDir, file);
    const results = cases.map((c) => runFixtureCase(rulesDir, dir, c, deps));
    for (const o of orphans) {
      results.push({ name: o, ok: false, problems: [`${relative(rulesDir, dir)}/${o}: needs both .events.ndjson and .expected.ndjson`], alerts: 0 });
    }
    if (results.length === 0) {
      results.push({ name: '(none)', ok: false, problems: [`${file}: no fixtures (expected ${relative(rulesDir, dir)}/<case>.events.ndjson + .expected.ndjson)`], alerts: 0 });
    } else {
      // Near misses alone prove nothing: some case must show each alerting rule firing.
      const expectedRules = new Set(cases.flatMap((c) => {
        const probs: string[] = [];
        return parseExpected(readFileSync(join(dir, `${c}.expected.ndjson`), 'utf8'), c, probs).map((e) => e.rule);
      }));
      for (const name of alertingRuleNames(readFileSync(join(rulesDir, file), 'utf8'))) {
        if (!expectedRules.has(name)) {
          results.push({ name: '(coverage)', ok: false, problems: [`${file}: no case expects rule "${name}" to fire`], alerts: 0 });
        }
      }
    }
    rules.push({ rule: basename(file).replace(RULE_FILE_RE, ''), file, cases: results, ok: results.every((r) => r.ok) });
  }
  return { rules, ok: rules.length > 0 && rules.every((r) => r.ok) };
}

/** The per-rule result table printed by `authwatch rules test`. */
export function formatFixtureReport(result: FixtureRunResult): string {
  const w = Math.max(4, ...result.rules.map((r) => r.rule.length));
  const lines = [`${'RULE'.padEnd(w)}  CASES  RESULT`];
  for (const r of result.rules) {
    const passed = r.cases.filter((c) => c.ok).length;
    const noFixtures = r.cases.length === 1 && r.cases[0].name === '(none)';
    lines.push(`${r.rule.padEnd(w)}  ${(noFixtures ? '0/0' : `${passed}/${r.cases.length}`).padEnd(5)}  ${r.ok ? 'ok' : noFixtures ? 'FAIL (no fixtures)' : 'FAIL'}`);
  }
  const failures = result.rules.flatMap((r) => r.cases.filter((c) => !c.ok).map((c) => ({ r, c })));
  if (failures.length) {
    lines.push('', 'Failures:');
    for (const { r, c } of failures) {
      lines.push(`  ${r.file} :: ${c.name}`);
      for (const p of c.problems) lines.push(`    ${p}`);
    }
  }
  const totalCases = result.rules.reduce((n, r) => n + r.cases.length, 0);
  const okCases = result.rules.reduce((n, r) => n + r.cases.filter((c) => c.ok).length, 0);
  lines.push('', `${result.rules.filter((r) => r.ok).length}/${result.rules.length} rules, ${okCases}/${totalCases} cases passed`);
  return lines.join('\n') + '\n';
}
