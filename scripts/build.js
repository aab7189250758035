// `npm run build` (and `prepare`, which npm runs on `npm install` / `npm ci` in a checkout):
// compiles src/ to dist/ with tsc -p tsconfig.build.json, copies the non-TypeScript files that
// src code loads from next to itself (store migrations: new URL('./migrations/', import.meta.url)),
// and writes the stamp bin/authwatch.js compares with src/ to decide that dist/ is current.
//
//   node scripts/build.js              exit code = tsc's (type errors fail the build)
//   node scripts/build.js --prepare    never fails the install: on any problem it says why on
//                                      stderr and leaves no stamp, so the CLI runs src/ through tsx
//
// Type errors do not stop the emit (tsc's default): the emitted JS is what tsx would run from
// the same source, so it is stamped and used; `npm run build` still exits non-zero on them.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { STAMP_FILE, sourceFingerprint } from '../bin/dist-freshness.js';
import { bundleDist } from './bundle.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const prepare = process.argv.includes('--prepare');
const say = (s) => process.stderr.write(`build: ${s}\n`);

function giveUp(why) {
  say(why);
  if (prepare) {
    say('dist/ not built; `authwatch` runs the TypeScript sources through tsx (slower start-up)');
    process.exit(0);
  }
  process.exit(1);
}

let tsc;
try {
  // typescript's package exports hide bin/; its package.json is exported and names the bin
  const pkgJson = createRequire(import.meta.url).resolve('typescript/package.json');
  tsc = join(dirname(pkgJson), JSON.parse(readFileSync(pkgJson, 'utf8')).bin.tsc);
} catch {
  giveUp('typescript is not installed (a production-only install?)');
}

// Fingerprint first: anything edited while tsc runs is newer than the stamp, so it counts as stale.
const fingerprint = sourceFingerprint(root);
const stampPath = join(root, 'dist', STAMP_FILE);
rmSync(stampPath, { force: true }); // an interrupted build must not leave an old stamp behind

const t0 = Date.now();
const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { cwd: root, stdio: 'inherit' });
if (r.error) giveUp(`tsc did not run: ${r.error.message}`);
if (!existsSync(join(root, 'dist', 'cli.js'))) giveUp(`tsc emitted no dist/cli.js (exit ${r.status})`);

// Every non-.ts file under src/ goes to the same place under dist/, so a module that locates
// a file relative to itself finds it from either tree.
let copied = 0;
const copyAssets = (dir) => {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) copyAssets(p);
    else if (!e.name.endsWith('.ts')) {
      const to = join(root, 'dist', relative(join(root, 'src'), p));
      mkdirSync(dirname(to), { recursive: true });
      copyFileSync(p, to);
      copied++;
    }
  }
};
copyAssets(join(root, 'src'));

// dist/bundle/: the same code in a few files, for a faster start (scripts/bundle.js)
const bundled = await bundleDist(root, say);

writeFileSync(stampPath, JSON.stringify({ builtAt: new Date().toISOString(), tscExit: r.status, fingerprint }, null, 1) + '\n');
say(`dist/ built in ${Date.now() - t0} ms (${copied} asset files copied, ${bundled})${r.status ? `; tsc reported type errors (exit ${r.status})` : ''}`);
process.exit(prepare ? 0 : (r.status ?? 1));
