// Baseline process (`node bench/lib/bare-parse.mjs FILE [json|nginx]`) for the end-to-end CLI
// figures: reads a file the way a line-oriented tool must (stream, split on newlines) and does
// the bare minimum per line: JSON.parse (mode `json`, the default) or a regex split of an NGINX
// combined line (mode `nginx`). Prints the number of lines handled.
//
// Plain JavaScript run by plain `node`, because that is how `authwatch` starts when dist/ is
// built (bin/authwatch.js → dist/cli.js, no tsx): the two processes pay the same start-up.
// The per-line work is the same as jsonParseBaseline / nginxRegexBaseline in measure.ts (the
// in-process baselines); keep them in step.
import { createReadStream } from 'node:fs';

const NGINX_SPLIT = /^(\S+) \S+ \S+ \[([^\]]+)\] "(\S+) (\S+) [^"]*" (\d{3}) (\d+|-) "[^"]*" "([^"]*)"/;
const perLine = {
  json(lines) {
    let n = 0;
    for (let i = 0; i < lines.length; i++) n += JSON.parse(lines[i]).time ? 1 : 0;
    return n;
  },
  nginx(lines) {
    let n = 0;
    for (let i = 0; i < lines.length; i++) {
      const m = NGINX_SPLIT.exec(lines[i]);
      if (m && m[5] === '401') n++;
    }
    return n;
  },
};

const [file, mode = 'json'] = process.argv.slice(2);
const run = perLine[mode];
if (!file || !run) {
  process.stderr.write('usage: node bench/lib/bare-parse.mjs FILE [json|nginx]\n');
  process.exit(2);
}
let rest = '';
let lines = 0;
let check = 0;
for await (const chunk of createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
  const parts = (rest + chunk).split('\n');
  rest = parts.pop() ?? '';
  const batch = parts.filter((l) => l.length > 0);
  check += run(batch);
  lines += batch.length;
}
if (rest) {
  check += run([rest]);
  lines++;
}
process.stdout.write(`${lines} ${check}\n`);
