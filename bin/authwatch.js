#!/usr/bin/env node
// Runs the TypeScript sources directly through tsx, so `npx authwatch ...` works in a
// checkout right after `npm install`, with no build step.
import { register } from 'tsx/esm/api';
register();
await import('../src/cli.ts');
