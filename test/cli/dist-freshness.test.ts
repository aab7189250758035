// bin/authwatch.js runs the compiled dist/ only when it is a build of the current src/: the
// freshness check on a throwaway package tree, and the launcher itself choosing dist or src.
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, renameSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { ROOT } from '../support/cli.js';
import { STAMP_FILE, distIsFresh, sourceFingerprint } from '../../bin/dist-freshness.js';

let root: string;
const write = (rel: string, text: string) => {
  mkdirSync(join(root, rel, '..'), { recursive: true });
  writeFileSync(join(root, rel), text);
};
/** what scripts/build.js records after compiling */
const stamp = () => write(`dist/${STAMP_FILE}`, JSON.stringify({ fingerprint: sourceFingerprint(root) }));

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'aw-dist-fresh-'));
  write('package.json', '{ "type": "module" }');
  write('tsconfig.json', '{}');
  write('src/cli.ts', "const where: string = 'src';\nprocess.stdout.write(where);\n");
  write('src/store/migrations/001.sql', 'CREATE TABLE t (x);\n');
  write('dist/cli.js', "process.stdout.write('dist');\n");
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('distIsFresh', () => {
  it('is fresh right after a build and stays so while nothing changes', () => {
    stamp();
    expect(distIsFresh(root)).toBe(true);
    expect(distIsFresh(root)).toBe(true);
  });

  it('is stale without a stamp, with a broken stamp, or without dist/cli.js', () => {
    expect(distIsFresh(root)).toBe(false);
    write(`dist/${STAMP_FILE}`, '{not json');
    expect(distIsFresh(root)).toBe(false);
    stamp();
    rmSync(join(root, 'dist/cli.js'));
    expect(distIsFresh(root)).toBe(false);
  });

  it('is stale after a source file is edited', () => {
    stamp();
    write('src/cli.ts', "process.stdout.write('edited since the build');\n");
    expect(distIsFresh(root)).toBe(false);
  });

  it('is stale after a non-TypeScript file the build copies is edited', () => {
    stamp();
    write('src/store/migrations/001.sql', 'CREATE TABLE t (x, y);\n');
    expect(distIsFresh(root)).toBe(false);
  });

  it('is stale after a file is added, removed or renamed', () => {
    stamp();
    write('src/store/new-module.ts', 'export {};\n');
    expect(distIsFresh(root)).toBe(false);
    stamp();
    rmSync(join(root, 'src/store/new-module.ts'));
    expect(distIsFresh(root)).toBe(false);
    stamp();
    renameSync(join(root, 'src/store/migrations/001.sql'), join(root, 'src/store/migrations/002.sql'));
    expect(distIsFresh(root)).toBe(false);
  });

  it('is stale when an edit keeps the size and sets the old mtime back (cp -p, touch -d)', () => {
    const file = join(root, 'src/cli.ts');
    const before = statSync(file);
    stamp();
    write('src/cli.ts', "const where: string = 'SRC';\nprocess.stdout.write(where);\n");
    expect(statSync(file).size).toBe(before.size);
      utimesSync(file, before.atimeMs / 1000, before.mtimeMs / 1000);
    expect(Math.abs(statSync(file).mtimeMs - before.mtimeMs)).toBeLessThan(1);
    expect(distIsFresh(root)).toBe(false);
  });

  it('is stale after tsconfig.json changes (it shapes the emitted code)', () => {
    stamp();
    write('tsconfig.json', '{ "compilerOptions": {} }');
    expect(distIsFresh(root)).toBe(false);
  });
});

describe('bin/authwatch.js', () => {
  // the real launcher in the throwaway tree; tsx comes from the project's node_modules
  const launch = () => {
    const r = spawnSync(process.execPath, [join(root, 'bin/authwatch.js')], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    return r.stdout;
  };
  beforeEach(() => {
    mkdirSync(join(root, 'bin'));
    copyFileSync(join(ROOT, 'bin/authwatch.js'), join(root, 'bin/authwatch.js'));
    copyFileSync(join(ROOT, 'bin/dist-freshness.js'), join(root, 'bin/dist-freshness.js'));
    symlinkSync(join(ROOT, 'node_modules'), join(root, 'node_modules'));
  });

  it('runs dist/ when it is fresh and the sources (through tsx) as soon as they change', () => {
    expect(launch()).toBe('src');
    stamp();
    expect(launch()).toBe('dist');
    write('src/cli.ts', "const where: string = 'src, edited';\nprocess.stdout.write(where);\n");
    expect(launch()).toBe('src, edited');
  });

  it('runs the bundle of a fresh dist/ when the build made one, and neither once the sources change', () => {
    write('dist/bundle/cli.js', "process.stdout.write('bundle');\n");
    stamp();
    expect(launch()).toBe('bundle');
    write('src/cli.ts', "const where: string = 'src again';\nprocess.stdout.write(where);\n");
    expect(launch()).toBe('src again');
  });
});
