#!/usr/bin/env node
// `npm run bench`: runs the TypeScript suite orchestrator (bench/run.ts) through tsx, passing
// its arguments on (e.g. `npm run bench -- --runs 5 --full`).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const suite = fileURLToPath(new URL('../bench/run.ts', import.meta.url));
const r = spawnSync(process.execPath, ['--import', 'tsx', suite, ...process.argv.slice(2)], { stdio: 'inherit' });
process.exitCode = r.status ?? 1;
