// Runs a command end to end for the CLI figures: wall time, peak RSS (from /usr/bin/time -v
// when installed) and stdout line count (alerts for `authwatch replay`). Also: making sure the
// CLI starts the way an installed one does (compiled dist/), and measuring start-up alone.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { distIsFresh } from '../../bin/dist-freshness.js';

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

/**
 * bin/authwatch.js runs dist/ only when it is a build of the current src/ (else tsx, ~1 s more
 * per start). Users get dist/ from `npm install` (prepare); a checkout under edit may not have
 * it, so build it here. Returns how the CLI will start, for the figures' conditions.
 */
export function ensureDistBuilt(root: string): string {
  if (!distIsFresh(root)) {
    process.stderr.write('bench: dist/ is missing or older than src/: building it (npm run build)\n');
    spawnSync(process.execPath, [join(root, 'scripts/build.js'), '--prepare'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  }
  return distIsFresh(root) ? 'node on compiled dist/' : 'tsx on src/ (dist/ could not be built)';
}

/** Median wall time (ms) of `runs` runs of a command with output discarded. */
export async function startupMs(cmd: string[], runs: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    await new Promise<void>((res, rej) => {
      const child = spawn(cmd[0], cmd.slice(1), { stdio: 'ignore' });
      child.on('error', rej);
      child.on('close', (code) => (code === 0 ? res() : rej(new Error(`${cmd.join(' ')} exited with ${code}`))));
    });
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}
