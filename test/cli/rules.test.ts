// `authwatch rules lint|test` as a user runs them: the real CLI in a child process.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, cpSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';

import { ROOT, runCli } from '../support/cli.js';
let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'aw-rules-cli-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const cli = (args: string[]) => runCli(args, { dataDir: join(tmp, 'data') });

describe('authwatch rules', { timeout: 90_000 }, () => {
  it('test: the shipped pack passes, one table row per rule file (default DIR from config)', async () => {
    const r = await cli(['rules', 'test']);
    expect(r.code).toBe(0);
    for (const name of ['oauth-401-burst', 'token-multi-ip', 'failures-then-success', 'healthcheck-scanner-allowlist']) {
      expect(r.stdout).toMatch(new RegExp(`^${name}\\s+\\d+/\\d+\\s+ok$`, 'm'));
    }
    expect(r.stdout).toMatch(/^(\d+)\/\1 rules, (\d+)\/\2 cases passed$/m);
  });

  it('lint: the shipped pack has no errors', async () => {
    const r = await cli(['rules', 'lint', join(ROOT, 'rules')]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/\d+ rules, 0 errors/);
  });

  it('lint: a broken rule exits 1 and names file, line, rule and code', async () => {
    const dir = join(tmp, 'broken');
    cpSync(join(ROOT, 'rules'), dir, { recursive: true });
    const f = join(dir, 'stable', 'jwks-fetch-failure.yml');
    const text = readFileSync(f, 'utf8').replace('    auth.result: jwks_unavailable', () => "    auth.result|re: '^(a+)+$'");
    writeFileSync(f, text);
    const line = text.split('\n').findIndex((l) => l.includes('auth.result|re')) + 1;
    const r = await cli(['rules', 'lint', dir]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`jwks-fetch-failure\\.yml:${line} (jwks-fetch-failure-base|baa3ff35-74df-4206-b8ad-d2d3ff17575d) RULE_UNSAFE_REGEX error: `));
  });

  it('test: a mismatching fixture and a rule without fixtures exit 1 with the reason', async () => {
    const dir = join(tmp, 'mismatch');
    cpSync(join(ROOT, 'rules'), dir, { recursive: true });
    writeFileSync(join(dir, 'stable', 'refresh-token-reuse.fixtures', 'fires-on-one.expected.ndjson'), '');
    rmSync(join(dir, 'stable', 'audience-mismatch.fixtures'), { recursive: true });
    const r = await cli(['rules', 'test', dir]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^refresh-token-reuse\s+2\/3\s+FAIL$/m);
    expect(r.stdout).toMatch(/^audience-mismatch\s+0\/0\s+FAIL \(no fixtures\)$/m);
    expect(r.stdout).toContain('unexpected alert {"count":1,"first_seen":"2026-03-02T10:00:00.000Z"');
  });

  it('usage errors exit 2', async () => {
    expect((await cli(['rules'])).code).toBe(2);
    expect((await cli(['rules', 'frobnicate'])).code).toBe(2);
    expect((await cli(['rules', 'lint', 'a', 'b'])).code).toBe(2);
  });
});
