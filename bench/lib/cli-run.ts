// Runs a command end to end for the CLI figures: wall time, peak RSS (from /usr/bin/time -v
// when installed) and stdout line count (alerts for `authwatch replay`).
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface CliRun {
  ok: boolean;
  code: number | null;
  wallMs: number;
  maxRssMB: number | null;
  stdoutLines: number;
  stdoutSample: string[];
  stderrTail: string;
}

const TIME = '/usr/bin/time';

export function runCli(cmd: string, args: string[], opts: { cwd?: string; keepStdout?: (line: string) => void } = {}): Promise<CliRun> {
  const dir = mkdtempSync(join(tmpdir(), 'aw-bench-time-'));
  const timeFile = join(dir, 'time.txt');
  const useTime = existsSync(TIME);
  const [c, a] = useTime ? [TIME, ['-v', '-o', timeFile, cmd, ...args]] : [cmd, args];
  const t0 = process.hrtime.bigint();
  return new Promise((resolveP) => {
    const child = spawn(c, a, { cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let lines = 0;
    let rest = '';
    const sample: string[] = [];
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      const parts = (rest + d).split('\n');
      rest = parts.pop() ?? '';
      for (const p of parts) {
        if (!p) continue;
        lines++;
        if (sample.length < 3) sample.push(p);
        opts.keepStdout?.(p);
      }
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err = (err + d).slice(-4000)));
    child.on('close', (code) => {
      if (rest) {
        lines++;
        opts.keepStdout?.(rest);
      }
      const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
      let maxRssMB: number | null = null;
      if (useTime && existsSync(timeFile)) {
        const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(readFileSync(timeFile, 'utf8'));
        if (m) maxRssMB = Number(m[1]) / 1024;
        // time(1) reports the command's own exit status; a non-zero one is in "Exit status"
      }
      rmSync(dir, { recursive: true, force: true });
      resolveP({ ok: code === 0, code, wallMs, maxRssMB, stdoutLines: lines, stdoutSample: sample, stderrTail: err.trim().split('\n').slice(-3).join(' / ') });
    });
  });
}
