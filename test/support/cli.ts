// Runs the real `authwatch` command (bin/authwatch.js) as a child process, as a user would.
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '..', '..');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `dataDir` isolates the fingerprint key; logs are silenced; `stdin` is piped when given. */
export function runCli(args: string[], opts: { dataDir: string; stdin?: string }): Promise<CliRun> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'authwatch.js'), ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, AUTHWATCH_DATA_DIR: opts.dataDir, AUTHWATCH_LOG_LEVEL: 'silent' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', rej);
    child.on('close', (code) => res({ code, stdout, stderr }));
    child.stdin.end(opts.stdin);
  });
}
