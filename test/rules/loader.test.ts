// Loading: every error names file, line and rule; directory walking; maturity; lint warnings.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lintRules } from '../../src/rules/lint.js';
import { compileRuleSet, loadRuleSet } from '../../src/rules/rule-loader.js';
import { compile } from './helpers.js';

const header = (id: string) => `title: T ${id}\nid: ${id}\ndescription: d\nlevel: low\n`;

function oneError(text: string, file = 'rules/x.yml') {
  const r = compileRuleSet([{ file, text }]);
  expect(r.errors).toHaveLength(1);
  return r.errors[0];
}

describe('load errors name file, line and rule', () => {
  it('unsafe regex → RULE_UNSAFE_REGEX at the item line', () => {
    const e = oneError(header('re-rule') + "detection:\n  sel:\n    f|re: '(a+)+$'\n  condition: sel\n");
    expect(e).toMatchObject({ file: 'rules/x.yml', line: 7, rule: 're-rule', code: 'RULE_UNSAFE_REGEX' });
  });

  it('invalid regex → RULE_BAD_REGEX', () => {
    expect(oneError(header('r') + "detection:\n  sel:\n    f|re: '(unclosed'\n  condition: sel\n")).toMatchObject({ code: 'RULE_BAD_REGEX', line: 7 });
  });

  it('unknown modifier → RULE_UNKNOWN_MODIFIER; utf16 → RULE_UNSUPPORTED_MODIFIER', () => {
    expect(oneError(header('m1') + 'detection:\n  sel:\n    a: 1\n    f|containz: x\n  condition: sel\n')).toMatchObject({ code: 'RULE_UNKNOWN_MODIFIER', line: 8, rule: 'm1' });
    expect(oneError(header('m2') + 'detection:\n  sel:\n    f|utf16le|base64: x\n  condition: sel\n')).toMatchObject({ code: 'RULE_UNSUPPORTED_MODIFIER', line: 7 });
  });

  it('bad modifier combinations and values', () => {
    expect(oneError(header('c') + 'detection:\n  sel:\n    f|contains|startswith: x\n  condition: sel\n').code).toBe('RULE_BAD_MODIFIER');
    expect(oneError(header('c') + 'detection:\n  sel:\n    f|i: x\n  condition: sel\n').code).toBe('RULE_BAD_MODIFIER');
    expect(oneError(header('c') + 'detection:\n  sel:\n    f|gt: abc\n  condition: sel\n').code).toBe('RULE_BAD_VALUE');
    expect(oneError(header('c') + 'detection:\n  sel:\n    f|exists: maybe\n  condition: sel\n').code).toBe('RULE_BAD_VALUE');
    expect(oneError(header('c') + "detection:\n  sel:\n    f|cidr: '10.0.0.0/99'\n  condition: sel\n").code).toBe('RULE_BAD_CIDR');
  });

  it('bad conditions → RULE_BAD_CONDITION / RULE_UNKNOWN_SELECTION at the condition line', () => {
    for (const cond of ['sel and', '(sel', 'sel or or sel', 'sel | count() > 5', '2 of sel*', 'sel*', 'sel )']) {
      const e = oneError(header('bc') + `detection:\n  sel:\n    f: x\n  condition: ${cond}\n`);
      expect(e.code, cond).toBe('RULE_BAD_CONDITION');
      expect(e.line).toBe(8);
    }
    expect(oneError(header('us') + 'detection:\n  sel:\n    f: x\n  condition: sel and missing\n')).toMatchObject({ code: 'RULE_UNKNOWN_SELECTION', line: 8, rule: 'us' });
    expect(oneError(header('us') + 'detection:\n  sel:\n    f: x\n  condition: 1 of nope*\n').code).toBe('RULE_UNKNOWN_SELECTION');
  });

  it('missing detection / condition', () => {
    expect(oneError(header('nd')).code).toBe('RULE_MISSING_DETECTION');
    expect(oneError(header('nc') + 'detection:\n  sel:\n    f: x\n').code).toBe('RULE_MISSING_CONDITION');
  });

  it('YAML syntax errors carry their line', () => {
    const e = oneError(header('y') + 'detection:\n  sel:\n    f: [unclosed\n  condition: sel\n');
    expect(e.code).toBe('RULE_YAML_SYNTAX');
    expect(e.line).toBeGreaterThanOrEqual(7);
  });

  it('duplicate ids, unknown references, cycles, bad correlations', () => {
    const det = (id: string) => header(id) + 'detection:\n  sel:\n    f: x\n  condition: sel\n';
    const dup = compileRuleSet([{ file: 'a.yml', text: det('same') }, { file: 'b.yml', text: det('same') }]);
    expect(dup.errors).toMatchObject([{ file: 'b.yml', code: 'RULE_DUPLICATE_ID', rule: 'same' }]);
    expect(dup.ruleset.rules).toHaveLength(1);

    const corr = (id: string, refs: string) => header(id) + `correlation:\n  type: event_count\n  rules: [${refs}]\n  timespan: 1m\n  condition: {gte: 2}\n`;
    const unknown = compileRuleSet([{ file: 'c.yml', text: corr('c1', 'nope') }]);
    expect(unknown.errors).toMatchObject([{ code: 'RULE_UNKNOWN_REFERENCE', rule: 'c1', line: 7 }]);

    const cyc = compileRuleSet([{ file: 'c.yml', text: corr('c1', 'c2') + '---\n' + corr('c2', 'c1') }]);
    expect(cyc.errors.map((e) => e.code)).toContain('RULE_CORRELATION_CYCLE');
    expect(cyc.ruleset.rules).toHaveLength(0);

    const multi = compileRuleSet([{ file: 'm.yml', text: det('base') + '---\n' + header('vc') + 'correlation:\n  type: value_count\n  rules: [base]\n  timespan: 1m\n  condition: {gte: 2}\n' }]);
    expect(multi.errors).toMatchObject([{ code: 'RULE_BAD_CORRELATION', rule: 'vc', line: 18 }]);
    const badSpan = compileRuleSet([{ file: 'm.yml', text: det('base') + '---\n' + header('ts') + 'correlation:\n  type: event_count\n  rules: [base]\n  timespan: soon\n  condition: {gte: 2}\n' }]);
    expect(badSpan.errors).toMatchObject([{ code: 'RULE_BAD_DURATION', rule: 'ts', line: 17 }]);
  });

  it('a correlation over a broken base rule fails too, other rules still load', () => {
    const text = header('broken') + 'detection:\n  sel:\n    f|nope: x\n  condition: sel\n---\n' + header('corr') + 'correlation:\n  type: event_count\n  rules: [broken]\n  timespan: 1m\n  condition: {gte: 2}\n---\n' + header('fine') + 'detection:\n  sel:\n    f: x\n  condition: sel\n';
    const r = compileRuleSet([{ file: 'x.yml', text }]);
    expect(r.errors.map((e) => [e.code, e.rule])).toEqual([['RULE_UNKNOWN_MODIFIER', 'broken'], ['RULE_UNKNOWN_REFERENCE', 'corr']]);
    expect(r.ruleset.rules.map((x) => x.info.id)).toEqual(['fine']);
  });

  it('authwatch block is validated', () => {
    const base = header('aw') + 'detection:\n  sel:\n    f: x\n  condition: sel\n';
    expect(oneError(base + 'authwatch:\n  supress: 5m\n').code).toBe('RULE_BAD_EXTENSION');
    expect(oneError(base + 'authwatch:\n  suppress: forever\n').code).toBe('RULE_BAD_DURATION');
    expect(oneError(base + 'authwatch:\n  response:\n    - action: nuke\n').code).toBe('RULE_BAD_EXTENSION');
    const ok = compile(base + 'authwatch:\n  suppress: 5m\n  group_by: [token.fp]\n  response:\n    - action: revoke_token\n      ttl: 2h\n      approval: auto\n');
    expect(ok.errors).toEqual([]);
    expect(ok.ruleset.infos[0]).toMatchObject({ suppress_ms: 300_000, group_by: ['token.fp'], response: [{ action: 'revoke_token', ttl: '2h', approval: 'auto' }] });
  });
});

describe('loadRuleSet on a directory', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aw-rules-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const det = (id: string, extra = '') => `title: ${id}\nid: ${id}\nname: ${id}-name\ndescription: d\nlevel: high\n${extra}detection:\n  sel:\n    auth.result: revoked\n  condition: sel\n`;
  mkdirSync(join(dir, 'stable', 'nested'), { recursive: true });
  mkdirSync(join(dir, 'experimental'), { recursive: true });
  mkdirSync(join(dir, 'stable', 'r1.fixtures'), { recursive: true });
  mkdirSync(join(dir, 'tests'), { recursive: true });
  writeFileSync(join(dir, 'stable', 'r1.yml'), det('r1', 'status: experimental\n'));
  writeFileSync(join(dir, 'stable', 'nested', 'r2.yaml'), det('r2'));
  writeFileSync(join(dir, 'experimental', 'r3.yml'), det('r3', 'status: stable\n'));
  writeFileSync(join(dir, 'r4.yml'), det('r4', 'status: experimental\n'));
  writeFileSync(join(dir, 'r5.yml'), det('r5', 'status: experimental\nauthwatch:\n  maturity: stable\n'));
  writeFileSync(join(dir, 'stable', 'r1.fixtures', 'broken.yml'), 'not: [valid');
  writeFileSync(join(dir, 'tests', 'broken.yml'), 'not: [valid');
  writeFileSync(join(dir, 'README.md'), '# not a rule');

  it('walks recursively, skips *.fixtures and tests, and applies maturity precedence', () => {
    const r = loadRuleSet(dir);
    expect(r.errors).toEqual([]);
    // folder beats status (r1 stable, r3 experimental); authwatch.maturity beats status (r5)
    expect(r.ruleset.infos.map((i) => [i.id, i.file, i.maturity])).toEqual([
      ['r5', 'r5.yml', 'stable'],
      ['r2', 'stable/nested/r2.yaml', 'stable'],
      ['r1', 'stable/r1.yml', 'stable'],
    ]);
    expect(r.warnings.filter((w) => w.code === 'RULE_EXPERIMENTAL_SKIPPED').map((w) => w.rule).sort()).toEqual(['r3', 'r4']);
    const all = loadRuleSet(dir, { includeExperimental: true });
    expect(all.ruleset.infos.map((i) => i.id).sort()).toEqual(['r1', 'r2', 'r3', 'r4', 'r5']);
  });

  it('a missing directory is an error', () => {
    expect(loadRuleSet(join(dir, 'nope')).errors[0].code).toBe('RULE_DIR_UNREADABLE');
  });

  it('lintRules reports warnings with file and line', () => {
    writeFileSync(join(dir, 'stable', 'lint-me.yml'), 'title: x\nid: lint-me\nextra_field: 1\ndetection:\n  sel:\n    f: x\n  condition: sel\n');
    const l = lintRules(dir);
    rmSync(join(dir, 'stable', 'lint-me.yml'));
    expect(l.errors).toEqual([]);
    const mine = l.warnings.filter((w) => w.rule === 'lint-me').map((w) => [w.code, w.line]);
    expect(mine).toEqual(expect.arrayContaining([['RULE_UNKNOWN_FIELD', 3], ['RULE_MISSING_DESCRIPTION', 1], ['RULE_MISSING_LEVEL', 1]]));
    expect(l.rules.length).toBe(6);
  });
});
