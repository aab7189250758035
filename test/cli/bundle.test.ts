// dist/bundle/ (scripts/bundle.js) is what `authwatch` runs after a build: the same code as
// dist/ in a few files. Built here into a throwaway package tree from the compiled dist/, then
// run as a user would: replay with and without an ingest thread (same alerts as dist/cli.js),
// rules lint with the default rules directory, and serve with its migrations and page.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import Database from 'better-sqlite3';
import { ROOT } from '../support/cli.js';
import { mintJwt } from '../events/support/tokens.js';
// @ts-expect-error plain JS build script, no type declarations
import { bundleDist } from '../../scripts/bundle.js';

let pkg: string;
let note = '';
const env = (dataDir: string) => ({ PATH: process.env.PATH ?? '/usr/bin:/bin', AUTHWATCH_DATA_DIR: dataDir, AUTHWATCH_LOG_LEVEL: 'silent' });

beforeAll(async () => {
  // CI's install builds dist/; a checkout that never built it builds it now
  if (!existsSync(join(ROOT, 'dist', 'cli.js'))) spawnSync(process.execPath, [join(ROOT, 'scripts', 'build.js'), '--prepare'], { cwd: ROOT, stdio: 'ignore' });
  pkg = mkdtempSync(join(tmpdir(), 'aw-bundle-'));
  cpSync(join(ROOT, 'dist'), join(pkg, 'dist'), { recursive: true, filter: (src) => !src.startsWith(join(ROOT, 'dist', 'bundle')) });
  copyFileSync(join(ROOT, 'package.json'), join(pkg, 'package.json'));
  for (const d of ['node_modules', 'rules', 'src']) symlinkSync(join(ROOT, d), join(pkg, d));
  note = await bundleDist(pkg, (s: string) => (note += s));
}, 120_000);
afterAll(() => rmSync(pkg, { recursive: true, force: true }));

function run(entry: string, args: string[], dataDir: string) {
  return spawnSync(process.execPath, [entry, ...args], { cwd: pkg, env: env(dataDir), encoding: 'utf8', timeout: 60_000 });
}

describe('dist/bundle', { timeout: 120_000 }, () => {
  it('is built, with the ingest thread and the migrations beside cli.js', () => {
    expect(note).toMatch(/^bundle in \d+ ms$/);
    for (const f of ['cli.js', 'ingest-thread.js', 'migrations/001-core.sql']) expect(existsSync(join(pkg, 'dist', 'bundle', f)), f).toBe(true);
  });

  it('replays an NGINX log to the same alerts as dist/cli.js, with and without an ingest thread, and leaks no token', () => {
    const jwt = mintJwt();
    const lines: string[] = [];
    for (let i = 0; i < 25; i++) lines.push('203.0.113.9 - - [26/Nov/2026:10:00:01 +0000] "GET /api/v1/orders HTTP/1.1" 401 12 "-" "python-requests/2.32.3"');
    for (let i = 0; i < 30; i++) lines.push(`10.0.0.${i} - - [26/Nov/2026:10:00:${String(10 + i).padStart(2, '0')} +0000] "GET /api/v1/orders/${i}?access_token=${jwt} HTTP/1.1" 200 99 "-" "app/1.0"`);
    lines.push('not an nginx line');
    const log = join(pkg, 'access.log');
    writeFileSync(log, lines.join('\n') + '\n');
    const data = mkdtempSync(join(pkg, 'data-'));
    const args = ['replay', '--input-format', 'nginx', log];
    const reference = run(join(pkg, 'dist', 'cli.js'), [...args, '--workers', '0'], data);
    expect(reference.status, reference.stderr).toBe(0);
    expect(reference.stderr).toMatch(/56 read, 55 accepted, 1 rejected/); // the bad line is refused, the rest goes on
    expect(reference.stdout).toContain('oauth-401-burst');
    expect(reference.stdout).toContain('ingest-unredacted-token');
    for (const workers of ['0', '1']) {
      const r = run(join(pkg, 'dist', 'bundle', 'cli.js'), [...args, '--workers', workers], data);
      expect(r.status, r.stderr).toBe(reference.status);
      expect(r.stdout).toBe(reference.stdout);
      expect(r.stderr).toBe(reference.stderr);
      for (const piece of jwt.split('.')) expect(r.stdout + r.stderr).not.toContain(piece);
    }
  });

  it('lints the rules directory it finds from its own place (the package root)', () => {
    const r = run(join(pkg, 'dist', 'bundle', 'cli.js'), ['rules', 'lint'], mkdtempSync(join(pkg, 'data-')));
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/\d+ rules, 0 errors/);
  });

  it('serves: migrations applied, health and page answered', async () => {
    const data = mkdtempSync(join(pkg, 'data-'));
    const child = spawn(process.execPath, [join(pkg, 'dist', 'bundle', 'cli.js'), 'serve', '--port', '0', '--data', data], { cwd: pkg, env: env(data), stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const url = await new Promise<string>((res, rej) => {
        let out = '';
        const timer = setTimeout(() => rej(new Error(`no URL within 60 s: ${out}`)), 60_000);
        const take = (c: Buffer) => {
          out += c.toString();
          const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
          if (m) {
            clearTimeout(timer);
            res(m[1]);
          }
        };
        child.stdout.on('data', take);
        child.stderr.on('data', take);
        child.on('exit', (code) => rej(new Error(`serve exited ${code}: ${out}`)));
      });
      const health = await fetch(`${url}/healthz`);
      expect(health.status).toBe(200);
      const page = await fetch(`${url}/`);
      expect(page.status).toBe(200);
      expect(await page.text()).toMatch(/<html/i);
      const db = new Database(join(data, 'authwatch.db'), { readonly: true, fileMustExist: true });
      try {
        const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>;
        expect(tables.map((t) => t.name)).toEqual(expect.arrayContaining(['alerts']));
      } finally {
        db.close();
      }
    } finally {
      child.kill('SIGTERM');
    }
  });
});
