// The shipped rule pack as tested data: every rule's fixtures pass through the real ingestor
// and engine, every rule of the brief exists with its default, and every rule has a doc and
// fixtures (a firing case and a near miss).
import { describe, it, expect, beforeAll } from 'vitest';
import { existsSync, readFileSync, mkdtempSync, cpSync, writeFileSync, rmSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { parseAllDocuments } from 'yaml';
import {
  alertingRuleNames, createFixtureDeps, findCases, findRuleFiles, runFixtures, formatFixtureReport, type FixtureRunnerDeps,
} from '../../src/rules/fixture-runner.js';
import { lintRules } from '../../src/rules/lint.js';
import { parseDuration } from '../../src/util/duration.js';

const RULES = resolve(import.meta.dirname, '..', '..', 'rules');
const FILES = findRuleFiles(RULES);

/** The brief's table: name → [correlation type | 'single', group-by, threshold, timespan]. */
const BRIEF: Record<string, { type: string; groupBy: string; gte: number; timespan: string | null; field?: string }> = {
  'oauth-401-burst': { type: 'event_count', groupBy: 'source.ip', gte: 20, timespan: '60s' },
  'jwks-unknown-kid-spike': { type: 'event_count', groupBy: 'token.iss', gte: 10, timespan: '5m' },
  'jwks-fetch-failure': { type: 'event_count', groupBy: 'observer.name', gte: 3, timespan: '5m' },
  'under-scope-probing': { type: 'value_count', groupBy: 'token.client_id', gte: 5, timespan: '10m', field: 'http.route' },
  'revoked-token-reuse': { type: 'single', groupBy: 'token.fp', gte: 1, timespan: null },
  'token-multi-ip': { type: 'value_count', groupBy: 'token.fp', gte: 3, timespan: '5m', field: 'source.ip' },
  'alg-not-allowed': { type: 'single', groupBy: 'source.ip', gte: 1, timespan: null },
  'anonymous-access-protected-route': { type: 'single', groupBy: 'http.route', gte: 1, timespan: null },
  'audience-mismatch': { type: 'event_count', groupBy: 'token.client_id', gte: 3, timespan: '10m' },
  'client-secret-bruteforce': { type: 'event_count', groupBy: 'idp.client_id', gte: 10, timespan: '5m' },
  'refresh-token-reuse': { type: 'single', groupBy: 'idp.client_id', gte: 1, timespan: null },
  'ingest-unredacted-token': { type: 'single', groupBy: 'observer.name', gte: 1, timespan: null },
};

type Doc = Record<string, any>;
function docsOf(file: string): Doc[] {
  return parseAllDocuments(readFileSync(join(RULES, file), 'utf8')).map((d) => d.toJS() as Doc);
}
const byName = new Map<string, { file: string; doc: Doc; all: Doc[] }>();
for (const f of FILES) {
  const all = docsOf(f);
  for (const d of all) if (d?.name) byName.set(d.name, { file: f, doc: d, all });
}

let deps: FixtureRunnerDeps;
beforeAll(() => {
  const built = createFixtureDeps(RULES);
  expect(built.errors).toEqual([]);
  deps = built.deps;
});

describe('shipped rule pack: fixtures through ingest and engine', () => {
  it('has rule files', () => {
    expect(FILES.length).toBeGreaterThanOrEqual(17);
  });
  it.each(FILES)('%s', (file) => {
    const res = runFixtures(RULES, deps, (f) => f === file);
    expect(res.rules).toHaveLength(1);
    if (!res.ok) throw new Error(formatFixtureReport(res));
    expect(res.rules[0].cases.length).toBeGreaterThanOrEqual(1);
  });
});

describe("the brief's rules exist with their defaults", () => {
  it.each(Object.keys(BRIEF))('%s', (name) => {
    const want = BRIEF[name];
    const entry = byName.get(name);
    expect(entry, `rule ${name} not found`).toBeDefined();
    const { doc, all, file } = entry!;
    expect(file).toMatch(new RegExp(`(^|/)${name}\\.yml$`));
    // Sigma correlation documents have no logsource; the detections they count do
    for (const d of all.filter((x) => x.detection)) expect(d.logsource).toEqual({ product: 'authwatch', category: 'auth' });
    expect(doc.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    if (want.type === 'single') {
      expect(doc.detection).toBeDefined();
      expect(doc.authwatch.group_by).toEqual([want.groupBy]);
      return;
    }
    const c = doc.correlation;
    expect(c.type).toBe(want.type);
    expect(c['group-by']).toEqual([want.groupBy]);
    expect(parseDuration(c.timespan)).toBe(parseDuration(want.timespan!));
    expect(c.condition.gte).toBe(want.gte);
    if (want.field) expect(c.condition.field).toBe(want.field);
    // the base rule it counts lives in the same file
    for (const ref of c.rules) expect(all.some((d) => d.name === ref || d.id === ref)).toBe(true);
  });

  it('the base detections select what the brief says', () => {
    const base = (name: string) => byName.get(name)!.doc.detection;
    expect(base('oauth-401-burst-base').selection).toEqual({ 'http.status': 401 });
    expect(base('jwks-unknown-kid-spike-base').selection).toEqual({ 'auth.result': 'unknown_kid' });
    expect(base('jwks-fetch-failure-base').selection).toEqual({ 'auth.result': 'jwks_unavailable' });
    expect(base('under-scope-probing-base').selection).toEqual({ 'auth.result': 'insufficient_scope' });
    expect(base('audience-mismatch-base').selection).toEqual({ 'auth.result': 'wrong_audience' });
    expect(base('client-secret-bruteforce-base').selection).toEqual({ 'idp.error': 'invalid_client' });
    expect(base('ingest-unredacted-token').selection).toEqual({ 'redaction.applied': true });
    expect(base('alg-not-allowed').condition).toBe('1 of selection_*');
  });

  it('every alerting rule has at least 4 more rules beside the brief, and every response is well formed', () => {
    const alerting = FILES.filter((f) => !f.startsWith('filters/'));
    expect(alerting.length).toBeGreaterThanOrEqual(Object.keys(BRIEF).length + 4);
    for (const f of FILES) {
      for (const d of docsOf(f)) {
        for (const r of d?.authwatch?.response ?? []) {
          expect(['block_ip', 'revoke_token', 'disable_client', 'require_reauth']).toContain(r.action);
          expect(['required', 'auto']).toContain(r.approval);
          expect(() => parseDuration(r.ttl)).not.toThrow();
        }
      }
    }
  });
});

describe('pack conventions', () => {
  it.each(FILES.filter((f) => !f.startsWith('filters/')))('%s: named after the rule that alerts, maturity from its folder', (file) => {
    const stem = file.replace(/^.*\//, '').replace(/\.ya?ml$/, '');
    const docs = docsOf(file);
    const main = docs.find((d) => d.name === stem);
    expect(main, `a document named ${stem}`).toBeDefined();
    // the alerting document: no other correlation in the file counts it
    const referenced = new Set(docs.flatMap((d) => d.correlation?.rules ?? []));
    expect(referenced.has(stem)).toBe(false);
    for (const d of docs) if (d !== main) expect(referenced.has(d.name) || referenced.has(d.id), `${d.name} is a building block of ${stem}`).toBe(true);
    expect(main!.authwatch.maturity).toBe(file.split('/')[0]);
    expect(main!.level).toMatch(/^(low|medium|high|critical)$/);
    const ids = docs.map((d) => d.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('ids and names are unique across the pack', () => {
    const all = FILES.flatMap(docsOf);
    expect(new Set(all.map((d) => d.id)).size).toBe(all.length);
    expect(new Set(all.map((d) => d.name)).size).toBe(all.length);
  });
});

describe('every rule has a doc and fixtures', () => {
  it.each(FILES)('%s', (file) => {
    const md = join(RULES, file.replace(/\.ya?ml$/, '.md'));
    expect(existsSync(md), `${md} missing`).toBe(true);
    const doc = readFileSync(md, 'utf8');
    if (!file.startsWith('filters/')) for (const h of ['What', 'Why', 'Tuning', 'Response', 'False positives']) expect(doc).toContain(`**${h}:**`);
    const { dir, cases, orphans } = findCases(RULES, file);
    expect(orphans).toEqual([]);
    const expectedCounts = cases.map((c) => readFileSync(join(dir, `${c}.expected.ndjson`), 'utf8').split('\n').filter((l) => l.trim()).length);
    expect(expectedCounts.some((n) => n > 0), 'a case that fires').toBe(true);
    if (!file.startsWith('filters/')) {
      expect(expectedCounts.some((n) => n === 0), 'a near miss that fires nothing').toBe(true);
      expect(cases.some((c) => c.startsWith('suppression')), 'a suppression case').toBe(true);
    }
  });
});

describe('the runner fails when it should', () => {
  function copyPack(): string {
    const dir = mkdtempSync(join(tmpdir(), 'aw-pack-'));
    cpSync(RULES, dir, { recursive: true });
    return dir;
  }

  it('a rule without fixtures fails', () => {
    const dir = copyPack();
    try {
      rmSync(join(dir, 'stable', 'alg-not-allowed.fixtures'), { recursive: true });
      const built = createFixtureDeps(dir);
      const res = runFixtures(dir, built.deps);
      expect(res.ok).toBe(false);
      const r = res.rules.find((x) => x.rule === 'alg-not-allowed')!;
      expect(r.ok).toBe(false);
      expect(formatFixtureReport(res)).toMatch(/alg-not-allowed\s+0\/0\s+FAIL \(no fixtures\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a wrong expected count and an unexpected alert both fail, naming the alert', () => {
    const dir = copyPack();
    try {
      const fx = join(dir, 'stable', 'oauth-401-burst.fixtures');
      const exp = readFileSync(join(fx, 'fires-at-threshold.expected.ndjson'), 'utf8').replace('"count":20', '"count":21');
      writeFileSync(join(fx, 'fires-at-threshold.expected.ndjson'), exp);
      writeFileSync(join(fx, 'near-miss-one-below.expected.ndjson'), '');
      // one more 401 turns the near miss into a firing case: the empty expected file must fail
      const lines = readFileSync(join(fx, 'near-miss-one-below.events.ndjson'), 'utf8').trim().split('\n');
      const extra = JSON.parse(lines.find((l) => l.includes('"status":401'))!);
      extra.id = 'extra-401';
      extra.time = '2026-03-02T10:00:58.000Z';
      writeFileSync(join(fx, 'near-miss-one-below.events.ndjson'), [...lines, JSON.stringify(extra)].join('\n') + '\n');
      const res = runFixtures(dir, createFixtureDeps(dir).deps, (f) => f === 'stable/oauth-401-burst.yml');
      expect(res.ok).toBe(false);
      const cases = Object.fromEntries(res.rules[0].cases.map((c) => [c.name, c]));
      expect(cases['fires-at-threshold'].problems.join('\n')).toMatch(/missing alert .*"count":21/);
      expect(cases['fires-at-threshold'].problems.join('\n')).toMatch(/unexpected alert .*"count":20/);
      expect(cases['near-miss-one-below'].problems.join('\n')).toMatch(/unexpected alert .*"rule":"oauth-401-burst"/);
      expect(cases['suppression-one-alert-per-window'].ok).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a rule whose cases are all near misses fails: some case must show it firing', () => {
    const dir = copyPack();
    try {
      const fx = join(dir, 'stable', 'revoked-token-reuse.fixtures');
      for (const c of ['fires-on-one', 'suppression-one-alert-per-window']) {
        rmSync(join(fx, `${c}.events.ndjson`));
        rmSync(join(fx, `${c}.expected.ndjson`));
      }
      const res = runFixtures(dir, createFixtureDeps(dir).deps, (f) => f === 'stable/revoked-token-reuse.yml');
      expect(res.ok).toBe(false);
      expect(res.rules[0].cases.find((c) => c.name === '(coverage)')?.problems).toEqual(['stable/revoked-token-reuse.yml: no case expects rule "revoked-token-reuse" to fire']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('alertingRuleNames: building blocks and filters do not alert', () => {
    const names = (f: string) => alertingRuleNames(readFileSync(join(RULES, f), 'utf8'));
    expect(names('stable/oauth-401-burst.yml')).toEqual(['oauth-401-burst']);
    expect(names('experimental/failures-then-success.yml')).toEqual(['failures-then-success']);
    expect(names('stable/alg-not-allowed.yml')).toEqual(['alg-not-allowed']);
    expect(names('filters/healthcheck-scanner-allowlist.yml')).toEqual([]);
  });

  it('a rejected fixture line fails its case', () => {
    const dir = copyPack();
    try {
      const f = join(dir, 'stable', 'revoked-token-reuse.fixtures', 'fires-on-one.events.ndjson');
      writeFileSync(f, readFileSync(f, 'utf8') + '{"time":"2026-03-02T10:00:01Z","observer":{"type":"gateway","name":"x"}}\n');
      const res = runFixtures(dir, createFixtureDeps(dir).deps, (x) => x === 'stable/revoked-token-reuse.yml');
      const c = res.rules[0].cases.find((x) => x.name === 'fires-on-one')!;
      expect(c.ok).toBe(false);
      expect(c.problems.join('\n')).toMatch(/fires-on-one\.events\.ndjson:2 rejected \(schema_violation\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a broken rule file fails lint with its file, line and rule', () => {
    const dir = copyPack();
    try {
      const f = join(dir, 'stable', 'audience-mismatch.yml');
      // line 14 of the file: a modifier that does not exist
      const text = readFileSync(f, 'utf8').replace('    auth.result: wrong_audience', '    auth.result|sometimes: wrong_audience');
      writeFileSync(f, text);
      const line = text.split('\n').findIndex((l) => l.includes('auth.result|sometimes')) + 1;
      const { errors } = lintRules(dir);
      // the broken base rule, and the correlation that now references nothing: both in that file
      expect(errors.length).toBeGreaterThanOrEqual(1);
      for (const e of errors) expect(e.file).toBe('stable/audience-mismatch.yml');
      const e = errors.find((x) => x.code === 'RULE_UNKNOWN_MODIFIER')!;
      expect(e).toMatchObject({ file: 'stable/audience-mismatch.yml', line });
      expect(['audience-mismatch-base', '5ccfca9d-2baf-46d9-8c78-79d25ff0fa99']).toContain(e.rule);
      expect(e.message).toContain('sometimes');
      expect(readdirSync(dir)).toContain('stable');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
