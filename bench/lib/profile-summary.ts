// Summarises a V8 .cpuprofile (from `node --cpu-prof`) into self time per function and per
// source file, so docs/performance.md can say where the time goes without a flame-graph viewer.
//
//   node --import tsx bench/lib/profile-summary.ts FILE.cpuprofile [--top 25]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: Node[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileRow {
  name: string;
  selfMs: number;
  share: number;
}

export function summariseProfile(p: Profile, root = process.cwd()): { byFunction: ProfileRow[]; byFile: ProfileRow[]; totalMs: number } {
  const selfUs = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) selfUs.set(p.samples[i], (selfUs.get(p.samples[i]) ?? 0) + (p.timeDeltas[i] ?? 0));
  const byFn = new Map<string, number>();
  const byFile = new Map<string, number>();
  let total = 0;
  for (const n of p.nodes) {
    const us = selfUs.get(n.id) ?? 0;
    if (!us) continue;
    total += us;
    const url = n.callFrame.url.replace(/^file:\/\//, '').replace(root + '/', '');
    const file = url || `(${n.callFrame.functionName || 'native'})`;
    const fn = `${n.callFrame.functionName || '(anonymous)'} ${url ? `${url}:${n.callFrame.lineNumber + 1}` : ''}`.trim();
    byFn.set(fn, (byFn.get(fn) ?? 0) + us);
    byFile.set(file, (byFile.get(file) ?? 0) + us);
  }
  const rows = (m: Map<string, number>) =>
    [...m.entries()].sort((a, b) => b[1] - a[1]).map(([name, us]) => ({ name, selfMs: us / 1000, share: us / total }));
  return { byFunction: rows(byFn), byFile: rows(byFile), totalMs: total / 1000 };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '25' } } });
  const p = JSON.parse(readFileSync(positionals[0], 'utf8')) as Profile;
  const s = summariseProfile(p);
  const top = Number(values.top);
  const line = (r: ProfileRow) => `| ${(r.share * 100).toFixed(1)}% | ${r.selfMs.toFixed(0)} | \`${r.name.replace(/\|/g, '\\|')}\` |`;
  process.stdout.write(`total sampled: ${s.totalMs.toFixed(0)} ms\n\nBy file (self time):\n\n| share | ms | file |\n|---|---|---|\n${s.byFile.slice(0, top).map(line).join('\n')}\n\nBy function (self time):\n\n| share | ms | function |\n|---|---|---|\n${s.byFunction.slice(0, top).map(line).join('\n')}\n`);
}
