#!/usr/bin/env node
// The `authwatch` command. Runs the compiled dist/cli.js when dist/ is a build of the current
// src/ (`npm run build`, run by npm itself on install through `prepare`), else the TypeScript
// sources through tsx, so a checkout works right after an edit with no build step and never
// runs stale code. The check costs about a millisecond; tsx costs ~1 s of compiling per start.
import { fileURLToPath } from 'node:url';
import { distIsFresh } from './dist-freshness.js';

const root = fileURLToPath(new URL('..', import.meta.url));
if (distIsFresh(root)) {
  await import('../dist/cli.js');
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli.ts');
}
