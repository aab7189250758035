// Runs one bench script in its own Node process (TypeScript through tsx) and collects its
// BENCH_RESULT line. A script that is missing, exits non-zero, times out or prints no result
// is reported with the reason, never with a number.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { relative } from 'node:path';
import { parseResultLine, type BenchResult } from './result.js';

export type ScriptOutcome =
  | { ok: true; result: BenchResult; wallMs: number }
  | { ok: false; reason: string; wallMs: number };

export interface RunScriptOptions {
  args?: string[];
  /** extra flags for node itself, e.g. --expose-gc */
  nodeArgs?: string[];
  env?: Record<string, string>;
  timeoutMs?: number;
  cwd?: string;
  /** called with stderr chunks (progress) so a long suite shows it is alive */
  onStderr?: (chunk: string) => void;
}

export function runScript(script: string, opts: RunScriptOptions = {}): Promise<ScriptOutcome> {
  const started = Date.now();
  if (!existsSync(script)) return Promise.resolve({ ok: false, reason: `${relative(opts.cwd ?? process.cwd(), script)} does not exist yet`, wallMs: 0 });
  const isShell = script.endsWith('.sh');
  const cmd = isShell ? 'bash' : process.execPath;
  const args = isShell ? [script, ...(opts.args ?? [])] : [...(opts.nodeArgs ?? []), '--import', 'tsx', script, ...(opts.args ?? [])];
  return new Promise((resolveP) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderrTail = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      stdout += c;
      // keep only the tail: the result is the last line, and scripts may print a lot
      if (stdout.length > 1_000_000) stdout = stdout.slice(-500_000);
    });
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      stderrTail = (stderrTail + c).slice(-4000);
      opts.onStderr?.(c);
    });
    let timedOut = false;
    const timer = opts.timeoutMs
      ? setTimeout(() => {
          timedOut = true;
          child.kill('SIGTERM');
          setTimeout(() => child.kill('SIGKILL'), 5000).unref();
        }, opts.timeoutMs)
      : null;
    child.on('error', (err) => {
      if (timer) clearTimeout(timer);
      resolveP({ ok: false, reason: `could not start: ${err.message}`, wallMs: Date.now() - started });
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      const wallMs = Date.now() - started;
      if (timedOut) return resolveP({ ok: false, reason: `timed out after ${Math.round((opts.timeoutMs ?? 0) / 1000)} s`, wallMs });
      // the error message, not the stack frames under it
      const lastErr = stderrTail.trim().split('\n').filter((l) => l.trim() && !/^\s*at /.test(l)).slice(-3).join(' / ').slice(0, 400);
      if (code !== 0) return resolveP({ ok: false, reason: `exited with ${code ?? signal}${lastErr ? `: ${lastErr}` : ''}`, wallMs });
      try {
        const result = parseResultLine(stdout);
        if (!result) return resolveP({ ok: false, reason: `printed no BENCH_RESULT line${lastErr ? ` (stderr: ${lastErr})` : ''}`, wallMs });
        resolveP({ ok: true, result, wallMs });
      } catch (e) {
        resolveP({ ok: false, reason: (e as Error).message, wallMs });
      }
    });
  });
}
