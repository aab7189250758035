// Baseline process (`bare-parse.ts FILE [json|nginx]`) for the end-to-end CLI figures: reads a file the way a line-oriented tool
// must (stream, split on newlines) and does the bare minimum per line: JSON.parse
// (mode `json`, the default) or a regex split of an NGINX combined line (mode `nginx`). Prints the
// number of lines handled. Started exactly like the CLI (node + tsx), so start-up cost matches.
import { createReadStream } from 'node:fs';
import { jsonParseBaseline, nginxRegexBaseline } from './measure.js';

const [file, mode = 'json'] = process.argv.slice(2);
const baseline = mode === 'nginx' ? nginxRegexBaseline : jsonParseBaseline;
let rest = '';
let lines = 0;
let check = 0;
for await (const chunk of createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
  const parts = (rest + chunk).split('\n');
  rest = parts.pop() ?? '';
  const batch = parts.filter((l) => l.length > 0);
  check += baseline.run(batch);
  lines += batch.length;
}
if (rest) {
  check += baseline.run([rest]);
  lines++;
}
process.stdout.write(`${lines} ${check}\n`);
