// Scores the peer comparison run by run-peers.sh: reads each tool's output and /usr/bin/time
// report from OUT, compares the IPs each tool alerted on with the planted bursts, and writes
// OUT/peers.md plus a BENCH_RESULT line (authwatch's throughput as a multiple of each peer's).
//
//   node --import tsx bench/peers/compare.ts bench/out/peers
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { table, fmt, fmtRatio } from '../lib/markdown.js';
import { figureWithBaseline, reportResult, type Figure } from '../lib/result.js';
import type { PlantedBurst } from '../lib/datagen.js';

const OUT = process.argv[2] ?? 'bench/out/peers';

export interface TimeReport {
  wallS: number;
  maxRssMB: number;
  userS: number;
  sysS: number;
}

/** Parses `/usr/bin/time -v` output. */
export function parseTimeV(text: string): TimeReport | null {
  const wall = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)/.exec(text);
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(text);
  const user = /User time \(seconds\): ([\d.]+)/.exec(text);
  const sys = /System time \(seconds\): ([\d.]+)/.exec(text);
  if (!wall || !rss) return null;
  const parts = wall[1].split(':').map(Number);
  const wallS = parts.reduce((acc, p) => acc * 60 + p, 0);
  return { wallS, maxRssMB: Number(rss[1]) / 1024, userS: Number(user?.[1] ?? 0), sysS: Number(sys?.[1] ?? 0) };
}

export interface Score {
  found: number;
  missed: number;
  falseAlerts: number;
  nearMissAlerts: number;
  foundIps: Set<string>;
}

export function score(alertIps: Iterable<string>, planted: readonly PlantedBurst[]): Score {
  const bursts = new Set(planted.filter((p) => p.kind === 'burst').map((p) => p.ip));
  const near = new Set(planted.filter((p) => p.kind === 'near-miss').map((p) => p.ip));
  const ips = new Set(alertIps);
  const foundIps = new Set([...ips].filter((ip) => bursts.has(ip)));
  const falseIps = [...ips].filter((ip) => !bursts.has(ip));
  return { found: foundIps.size, missed: bursts.size - foundIps.size, falseAlerts: falseIps.length, nearMissAlerts: falseIps.filter((ip) => near.has(ip)).length, foundIps };
}

interface ToolRun {
  key: string;
  tool: string;
  what: string;
  time: TimeReport | null;
  alerts: Set<string> | null; // null: the tool does not raise alerts (regex filter only)
  extra: string;
  failed: string | null;
}

const read = (f: string) => (existsSync(join(OUT, f)) ? readFileSync(join(OUT, f), 'utf8') : null);
const failedReason = (key: string) => read(`${key}.failed`)?.trim() || null;
const timeOf = (key: string) => {
  const t = read(`${key}-time.txt`);
  return t ? parseTimeV(t) : null;
};

function main(): void {
  const plantedDoc = JSON.parse(read('planted.json') ?? 'null') as { lines: number; lines401: number; planted: PlantedBurst[] } | null;
  if (!plantedDoc) throw new Error(`${OUT}/planted.json missing: run bench/peers/run-peers.sh`);
  const { lines, planted } = plantedDoc;
  const versions = (read('versions.txt') ?? '').trim().split('\n').filter(Boolean).join('; ');
  const runs: ToolRun[] = [];

  // fail2ban-regex: matched lines and speed, no bans
  {
    const out = read('fail2ban-regex.txt') ?? '';
    const m = /Lines: (\d+) lines, (\d+) ignored, (\d+) matched, (\d+) missed/.exec(out);
    const failed = failedReason('fail2ban-regex') ?? (m ? null : out ? 'fail2ban-regex printed no summary' : 'not run');
    runs.push({
      key: 'fail2ban-regex', tool: 'fail2ban 1.0 `fail2ban-regex`', what: 'regex filter only (matched lines, no jail logic)', time: timeOf('fail2ban-regex'),
      alerts: null, extra: m ? `${m[3]} of ${plantedDoc.lines401} 401 lines matched` : '', failed,
    });
  }
  // fail2ban jail logic replayed offline
  {
    let alerts: Set<string> | null = null;
    let extra = '';
    let failed = failedReason('fail2ban-jail');
    try {
      const j = JSON.parse(read('fail2ban-jail.json') ?? '') as { banned: string[]; failures: number };
      alerts = new Set(j.banned);
      extra = `${j.failures} failures counted`;
    } catch {
      failed ??= 'jail_replay.py printed no result';
    }
    runs.push({ key: 'fail2ban-jail', tool: 'fail2ban 1.0 jail logic', what: 'FileFilter + FailManager, maxretry=20 findtime=60 (jail_replay.py)', time: timeOf('fail2ban-jail'), alerts, extra, failed });
  }
  for (const p of ['lean', 'stock'] as const) {
    const key = `crowdsec-${p}`;
    if (!existsSync(join(OUT, `${key}-alerts.json`)) && !existsSync(join(OUT, `${key}.failed`))) continue;
    let alerts: Set<string> | null = null;
    let failed = failedReason(key);
    try {
      const j = JSON.parse(read(`${key}-alerts.json`) ?? '') as { ip: string; scenario: string }[];
      alerts = new Set(j.filter((a) => a.scenario === 'authwatch-bench/http-401-burst').map((a) => a.ip));
    } catch {
      failed ??= 'no alerts file';
    }
    runs.push({
      key, tool: 'CrowdSec 1.4 (`crowdsec -dsn`)',
      what: p === 'stock' ? 'stock hub parsers (nginx-logs, dateparse-enrich) + 401 leaky bucket (cap 19, 3 s)' : 'minimal 401 parser + 401 leaky bucket (cap 19, 3 s)',
      time: timeOf(key), alerts, extra: '', failed,
    });
  }
  // authwatch
  {
    let alerts: Set<string> | null = null;
    let failed = failedReason('authwatch');
    const text = read('authwatch-alerts.ndjson');
    if (text !== null && !failed) {
      alerts = new Set();
      for (const l of text.split('\n')) {
        if (!l.trim()) continue;
        const a = JSON.parse(l) as { rule?: { name?: string }; group?: Record<string, unknown> };
        if (a.rule?.name === 'oauth-401-burst' && typeof a.group?.['source.ip'] === 'string') alerts.add(a.group['source.ip']);
      }
    } else failed ??= 'not run';
    runs.push({ key: 'authwatch', tool: 'authwatch `replay --input-format nginx`', what: 'oauth-401-burst only (≥ 20 in 60 s, sliding, event time)', time: timeOf('authwatch'), alerts, extra: '', failed });
  }

  const aw = runs.find((r) => r.key === 'authwatch')!;
  const awRate = aw.time && !aw.failed ? lines / aw.time.wallS : null;
  const awScore = aw.alerts ? score(aw.alerts, planted) : null;
  const rows = runs.map((r) => {
    if (r.failed || !r.time) return [r.tool, r.what, '–', '–', '–', '–', '–', '–', '–', `not measured: ${r.failed ?? 'no /usr/bin/time report'}`];
    const lps = lines / r.time.wallS;
    const s = r.alerts ? score(r.alerts, planted) : null;
    const multiple = r.key !== 'authwatch' && awRate ? fmtRatio(awRate / lps) : '–';
    let note = r.extra;
    if (s && awScore && r.key !== 'authwatch') {
      const missedByAw = [...s.foundIps].filter((ip) => !awScore.foundIps.has(ip));
      note = [note, missedByAw.length ? `authwatch missed ${missedByAw.length} it found: ${missedByAw.slice(0, 5).join(', ')}` : 'authwatch found every burst it found'].filter(Boolean).join('; ');
    }
    return [r.tool, r.what, fmt(lps), fmt(r.time.wallS), fmt(r.time.maxRssMB), s ? s.found : 'n/a', s ? s.missed : 'n/a', s ? `${s.falseAlerts} (${s.nearMissAlerts} near misses)` : 'n/a', multiple, note];
  });

  const nBursts = planted.filter((p) => p.kind === 'burst').length;
  const nNear = planted.filter((p) => p.kind === 'near-miss').length;
  const md = [
    `One generated NGINX combined access log, **${lines.toLocaleString('en-US')} lines** (seeded; \`bench/peers/gen-nginx-log.ts\`), ` +
      `${plantedDoc.lines401.toLocaleString('en-US')} of them 401. Planted: **${nBursts} bursts** (one IP each, ≥ 20 responses 401 within 60 s: ` +
      `most 20–60 within 5–40 s, every fifth exactly 20 spread over 55 s) and **${nNear} near misses** (exactly 19 within 20–58 s). ` +
      'Background clients never reach 20 in 60 s. Each tool ran once on the same file, one after the other, under `/usr/bin/time -v`: ' +
      'lines/s is lines ÷ wall time of the whole process (start-up included), memory is its peak RSS.',
    '',
    table(['tool', 'what ran', 'lines/s', 'wall s', 'peak RSS MB', 'bursts found', 'missed', 'false alerts', 'authwatch ×', 'notes'], rows),
    '',
    `Packages: ${versions || 'unknown'}. fail2ban has no offline replay for jails (a running jail re-times or ignores old lines), so ` +
      '`bench/peers/fail2ban/jail_replay.py` drives fail2ban\'s own FileFilter and FailManager on the log\'s timestamps ' +
      '(as `fail2ban-regex` does, with `checkFindTime` off) and records bans in fail2ban\'s DummyJail. Its FailManager estimates ' +
      'the count over findtime from the rate (it is not an exact sliding window). CrowdSec ran in time-machine mode ' +
      '(`crowdsec -dsn file://… -type nginx -no-capi`) with the parsers shipped offline in Debian\'s package ' +
      '(`/usr/share/crowdsec/hub`); the hub has no 401-count scenario, so `bench/peers/crowdsec/http-401-burst.yaml` is ours ' +
      '(a leaky bucket of capacity 19 leaking every 3 s: it cannot see a burst of exactly 20 spread evenly over a minute). ' +
      'Alerts were read from its SQLite database.',
  ].join('\n');
  writeFileSync(join(OUT, 'peers.md'), md + '\n');
  process.stderr.write(md + '\n');

  const figures: Figure[] = [];
  const notMeasured: { metric: string; reason: string }[] = [];
  if (awRate && awScore) {
    figures.push({ metric: 'authwatch lines/s (CLI, oauth-401-burst)', value: awRate, unit: 'lines/s', note: `found ${awScore.found}/${nBursts}, false ${awScore.falseAlerts}` });
    for (const r of runs) {
      if (r.key === 'authwatch') continue;
      const metric = `authwatch vs ${r.key}`;
      if (r.failed || !r.time) {
        notMeasured.push({ metric, reason: r.failed ?? 'no time report' });
        continue;
      }
      figures.push(
        figureWithBaseline({ metric, value: awRate, unit: 'lines/s' }, { metric: `${r.key} lines/s`, value: lines / r.time.wallS, unit: 'lines/s' }, {
          aim: r.key.startsWith('crowdsec') ? '≥ 100×' : r.key === 'fail2ban-jail' ? '≥ 3×' : undefined,
        }),
      );
    }
  } else notMeasured.push({ metric: 'authwatch vs peers', reason: aw.failed ?? 'authwatch did not run' });
  reportResult({ name: 'peers', conditions: { lines, bursts: nBursts, 'near misses': nNear }, figures, notMeasured });
}

// run only as a script, so tests can import the scoring functions
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
