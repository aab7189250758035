// Facts about the machine and the moment a benchmark ran, printed beside every figure.
import { readFileSync } from 'node:fs';
import { cpus, totalmem, loadavg, release, platform, arch } from 'node:os';
import { execFileSync } from 'node:child_process';

export interface MachineFacts {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  node: string;
  os: string;
  loadAvg: [number, number, number];
  gitCommit: string;
  gitDirty: boolean;
  date: string;
}

function cpuModel(): string {
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) return m[1].trim();
  } catch {
    // not Linux: fall back to what Node knows
  }
  return cpus()[0]?.model ?? 'unknown';
}

function git(args: string[], cwd: string): string {
  try {
    return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
}

export function machineFacts(cwd = process.cwd()): MachineFacts {
  const la = loadavg();
  return {
    cpuModel: cpuModel(),
    cores: cpus().length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    os: `${platform()} ${release()} ${arch()}`,
    loadAvg: [la[0], la[1], la[2]].map((x) => Math.round(x * 100) / 100) as [number, number, number],
    gitCommit: git(['rev-parse', '--short=12', 'HEAD'], cwd) || 'unknown',
    gitDirty: git(['status', '--porcelain', '--untracked-files=no'], cwd) !== '',
    date: new Date().toISOString(),
  };
}

export function currentLoadAvg(): [number, number, number] {
  const la = loadavg();
  return [la[0], la[1], la[2]].map((x) => Math.round(x * 100) / 100) as [number, number, number];
}
