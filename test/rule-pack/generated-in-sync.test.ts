// The committed fixture files are what their generators write (deterministic, seeded): a hand
// edit of a generated file, or a generator change without regenerating, fails here.
import { describe, it, expect, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve, relative } from 'node:path';
import { tmpdir } from 'node:os';

const ROOT = resolve(import.meta.dirname, '..', '..');
const tmp = mkdtempSync(join(tmpdir(), 'aw-gen-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function filesUnder(dir: string, keep: (rel: string) => boolean): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (keep(relative(dir, p))) out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

describe('generated fixtures are in sync with their generators', { timeout: 90_000 }, () => {
  it('fixtures/mixed: generate.ts reproduces events, expected alerts and plan byte for byte', () => {
    const out = join(tmp, 'mixed');
    execFileSync(process.execPath, ['--import', 'tsx', join(ROOT, 'fixtures', 'mixed', 'generate.ts'), out], { cwd: ROOT });
    for (const f of ['events.ndjson', 'expected-alerts.ndjson', 'plan.json']) {
      expect(readFileSync(join(out, f), 'utf8'), f).toBe(readFileSync(join(ROOT, 'fixtures', 'mixed', f), 'utf8'));
    }
  });

  it('rules/**/*.fixtures: author-fixtures.ts reproduces every case', () => {
    const out = join(tmp, 'rules');
    execFileSync(process.execPath, ['--import', 'tsx', join(ROOT, 'test', 'rule-pack', 'author-fixtures.ts'), out], { cwd: ROOT });
    const isFixture = (rel: string) => rel.includes('.fixtures/');
    const generated = filesUnder(out, isFixture);
    expect(generated.length).toBeGreaterThan(100);
    // hand-written cases may sit beside them (new rules); every generated one must match
    for (const f of generated) expect(readFileSync(join(out, f), 'utf8'), f).toBe(readFileSync(join(ROOT, 'rules', f), 'utf8'));
  });
});
