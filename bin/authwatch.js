#!/usr/bin/env node
// The `authwatch` command. Runs the compiled dist/ (its bundle when built) when dist/ is a build of the current
// src/ (`npm run build`, run by npm itself on install through `prepare`), else the TypeScript
// sources through tsx, so a checkout works right after an edit with no build step and never
// runs stale code. The check costs a few ms; tsx costs ~1 s of compiling at every start.
//
// No V8 flags on purpose: a bigger young generation (--max-semi-space-size=32/64) saved at most
// ~2% CPU on a 200k-line replay (the engine keeps events for the allowed lateness, so they are
// promoted whatever its size) for +40-60 MB RSS, and --heap-growing-percent=50 cut peak RSS by
// 30% for +12% CPU. Neither is worth a second process or a shebang only some starts honour.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { distIsFresh } from './dist-freshness.js';

const root = fileURLToPath(new URL('..', import.meta.url));
if (distIsFresh(root)) {
  // dist/bundle/ (scripts/build.js) is the same code in a few files: a faster start
  if (existsSync(root + '/dist/bundle/cli.js')) await import('../dist/bundle/cli.js');
  else await import('../dist/cli.js');
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli.ts');
}
