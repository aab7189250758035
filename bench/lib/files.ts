// Generated input files live in bench/out/ (git-ignored) and are reused across runs when the
// same generator arguments produced them (the name carries the arguments).
import { createWriteStream, existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH_OUT = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'out');

export async function ensureFile(name: string, lines: () => Iterable<string>): Promise<string> {
  const file = resolve(BENCH_OUT, name);
  if (existsSync(file) && statSync(file).size > 0) return file;
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  const ws = createWriteStream(tmp);
  let buf: string[] = [];
  for (const l of lines()) {
    buf.push(l);
    if (buf.length === 10_000) {
      if (!ws.write(buf.join('\n') + '\n')) await new Promise((r) => ws.once('drain', r));
      buf = [];
    }
  }
  if (buf.length) ws.write(buf.join('\n') + '\n');
  await new Promise<void>((r, j) => ws.end((e?: Error | null) => (e ? j(e) : r())));
  renameSync(tmp, file);
  return file;
}
