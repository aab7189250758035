#!/usr/bin/env -S node --max-semi-space-size=32
// The `authwatch` command. Runs the compiled dist/cli.js when dist/ is a build of the current
// src/ (`npm run build`, run by npm itself on install through `prepare`), else the TypeScript
// sources through tsx, so a checkout works right after an edit with no build step and never
// runs stale code. The check costs a few ms; tsx costs ~1 s of compiling at every start.
//
// --max-semi-space-size=32 (young generation 64 MB instead of V8's 32 MB): replay allocates a
// parsed object per line and the engine keeps them for the allowed lateness, so with the default
// many survive two scavenges, get promoted and are then collected by costly old-generation GCs
// (docs/performance.md has the measurement). The flag must be on node's command line: V8 sizes
// the heap at start, and v8.setFlagsFromString() afterwards has no effect on it. The shebang
// passes it when authwatch is run as a command (npx authwatch, node_modules/.bin, PATH);
// `node bin/authwatch.js replay ...` without it re-executes itself once with it.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { distIsFresh } from './dist-freshness.js';

const GC_FLAG = '--max-semi-space-size=32';

if (process.argv[2] === 'replay' && !process.execArgv.some((a) => a.startsWith('--max-semi-space-size'))) {
  const child = spawn(process.execPath, [...process.execArgv, GC_FLAG, fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  // Ctrl-C reaches both processes (same process group): the child decides; a signal sent to
  // this process alone (kill PID) is passed on.
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
  child.on('error', (err) => {
    process.stderr.write(`authwatch: cannot start node: ${err.message}\n`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    } else process.exit(code ?? 1);
  });
} else {
  const root = fileURLToPath(new URL('..', import.meta.url));
  if (distIsFresh(root)) {
    await import('../dist/cli.js');
  } else {
    const { register } = await import('tsx/esm/api');
    register();
    await import('../src/cli.ts');
  }
}
