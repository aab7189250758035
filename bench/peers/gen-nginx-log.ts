// Writes the ONE NGINX combined access log every tool in the peer comparison reads, plus the
// ground truth: which IPs got a planted 401 burst (≥ 20 in 60 s) and which a near miss (19).
//
//   node --import tsx bench/peers/gen-nginx-log.ts --lines 1500000 --out bench/out/peers
//
// Deterministic (seeded): the same arguments give the same bytes.
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { accessLog, nginxCombined, BASE_TIME_MS } from '../lib/datagen.js';

const { values } = parseArgs({
  options: {
    lines: { type: 'string', default: '1500000' },
    out: { type: 'string', default: 'bench/out/peers' },
    seed: { type: 'string', default: '7' },
    bursts: { type: 'string', default: '40' },
    'near-misses': { type: 'string', default: '20' },
  },
});

const dir = resolve(values.out);
mkdirSync(dir, { recursive: true });
const lines = Number(values.lines);
const { records, planted } = accessLog(lines, {
  seed: Number(values.seed),
  bursts: Number(values.bursts),
  nearMisses: Number(values['near-misses']),
});
const file = resolve(dir, 'access.log');
const ws = createWriteStream(file);
let buf: string[] = [];
let n = 0;
let n401 = 0;
for (const rec of records) {
  buf.push(nginxCombined(rec));
  n++;
  if (rec.status === 401) n401++;
  if (buf.length === 10_000) {
    if (!ws.write(buf.join('\n') + '\n')) await new Promise((r) => ws.once('drain', r));
    buf = [];
  }
}
if (buf.length) ws.write(buf.join('\n') + '\n');
await new Promise<void>((r, j) => ws.end((e?: Error | null) => (e ? j(e) : r())));
writeFileSync(
  resolve(dir, 'planted.json'),
  JSON.stringify({ lines: n, lines401: n401, startEpoch: BASE_TIME_MS / 1000, seed: Number(values.seed), rule: '>= 20 responses 401 from one IP within 60 s', planted }, null, 1),
);
process.stderr.write(`wrote ${file}: ${n} lines, ${planted.filter((p) => p.kind === 'burst').length} bursts, ${planted.filter((p) => p.kind === 'near-miss').length} near misses\n`);
