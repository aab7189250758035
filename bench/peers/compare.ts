// Scores the peer comparison run by run-peers.sh: reads each round's output and /usr/bin/time
// report from OUT, compares the IPs each tool alerted on with the planted bursts, and writes
// OUT/peers.md plus a BENCH_RESULT line (authwatch's throughput as a multiple of each peer's).
// The machine is shared and noisy, so the tools run in rounds (every tool once per round) and
// the multiple is taken per round (the peer's wall time ÷ authwatch's in the same round) and
// reported as the median of those per-round ratios with their min–max.
//
//   node --import tsx bench/peers/compare.ts bench/out/peers
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { table, fmt, fmtRatio } from '../lib/markdown.js';
import { figureWithBaseline, reportResult, type Figure } from '../lib/result.js';
import { summarize, type Summary } from '../lib/stats.js';
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

/**
 * authwatch's throughput as a multiple of a peer's, one ratio per round both ran in: the
 * peer's wall time ÷ authwatch's wall time of the SAME round (same file, so the ratio of
 * lines/s). Pairing by round cancels what the machine did during that round; a median of
 * these is not the ratio of the two medians.
 */
export function perRoundRatios(awWallS: ReadonlyMap<number, number>, peerWallS: ReadonlyMap<number, number>): { round: number; ratio: number }[] {
  const out: { round: number; ratio: number }[] = [];
  for (const [round, peer] of [...peerWallS].sort((a, b) => a[0] - b[0])) {
    const aw = awWallS.get(round);
    if (aw !== undefined && aw > 0) out.push({ round, ratio: peer / aw });
  }
  return out;
}

/** True when every round alerted on the same set of IPs (same input: they should). */
export function roundsAgree(alertSets: readonly ReadonlySet<string>[]): boolean {
  const [first, ...rest] = alertSets;
  return rest.every((s) => s.size === first.size && [...s].every((ip) => first.has(ip)));
}

/** "median (min–max)" of a per-round summary; just the value when only one round ran. */
export function fmtSpread(s: Summary, f: (n: number) => string = fmt): string {
  return s.runs > 1 ? `${f(s.median)} (${fmt(s.min)}–${fmt(s.max)})` : f(s.median);
}

interface RoundResult {
  round: number;
  time: TimeReport;
  alerts: Set<string> | null; // null: the tool does not raise alerts (regex filter only)
  extra: string;
}

interface ToolRuns {
  key: string;
  tool: string;
  what: string;
  rounds: RoundResult[];
  /** rounds that were meant to run but gave no usable result, with why */
  problems: string[];
  /** why the tool has no result at all */
  failed: string | null;
}

const read = (f: string) => (existsSync(join(OUT, f)) ? readFileSync(join(OUT, f), 'utf8') : null);

/**
 * Reads rounds 1..n of one tool. `parse` turns a round's output into alerts/extra or throws
 * with the reason. A `<key>.failed` naming a round ("round 3: ...") drops that round (run-peers.sh
 * stops running the tool after it); one without a round means the tool never ran.
 */
function collect(key: string, tool: string, what: string, n: number, parse: (round: number) => { alerts: Set<string> | null; extra: string }): ToolRuns {
  const t: ToolRuns = { key, tool, what, rounds: [], problems: [], failed: null };
  const failedText = read(`${key}.failed`)?.trim() || null;
  const failedRound = failedText ? Number(/^round (\d+):/.exec(failedText)?.[1] ?? 0) : null;
  if (failedText && !failedRound) {
    t.failed = failedText;
    return t;
  }
  for (let r = 1; r <= n; r++) {
    if (failedRound !== null && r >= failedRound) {
      if (r === failedRound) t.problems.push(failedText!);
      break;
    }
    const timeText = read(`${key}-time-${r}.txt`);
    const time = timeText ? parseTimeV(timeText) : null;
    if (!time) {
      t.problems.push(`round ${r}: no /usr/bin/time report`);
      continue;
    }
    try {
      t.rounds.push({ round: r, time, ...parse(r) });
    } catch (e) {
      t.problems.push(`round ${r}: ${(e as Error).message}`);
    }
  }
  if (t.rounds.length === 0) t.failed = t.problems.join('; ') || 'not run';
  return t;
}

/** Number of rounds run-peers.sh ran (rounds.json), else what the time reports show. */
function roundCounts(): { runs: number; stockRuns: number } {
  const doc = JSON.parse(read('rounds.json') ?? 'null') as { runs: number; stockRuns: number } | null;
  if (doc) return doc;
  const highest = (key: string) => Math.max(0, ...readdirSync(OUT).map((f) => Number(new RegExp(`^${key}-time-(\\d+)\\.txt$`).exec(f)?.[1] ?? 0)));
  return { runs: highest('authwatch'), stockRuns: highest('crowdsec-stock') };
}

function main(): void {
  const plantedDoc = JSON.parse(read('planted.json') ?? 'null') as { lines: number; lines401: number; planted: PlantedBurst[] } | null;
  if (!plantedDoc) throw new Error(`${OUT}/planted.json missing: run bench/peers/run-peers.sh`);
  const { lines, planted } = plantedDoc;
  const { runs: nRounds, stockRuns } = roundCounts();
  const versions = (read('versions.txt') ?? '').trim().split('\n').filter(Boolean).join('; ');
  const tools: ToolRuns[] = [];

  // fail2ban-regex: matched lines and speed, no bans
  tools.push(
    collect('fail2ban-regex', 'fail2ban 1.0 `fail2ban-regex`', 'regex filter only (matched lines, no jail logic)', nRounds, (r) => {
      const m = /Lines: (\d+) lines, (\d+) ignored, (\d+) matched, (\d+) missed/.exec(read(`fail2ban-regex-${r}.txt`) ?? '');
      if (!m) throw new Error('fail2ban-regex printed no summary');
      return { alerts: null, extra: `${m[3]} of ${plantedDoc.lines401} 401 lines matched` };
    }),
  );
  // fail2ban jail logic replayed offline
  tools.push(
    collect('fail2ban-jail', 'fail2ban 1.0 jail logic', 'FileFilter + FailManager, maxretry=20 findtime=60 (jail_replay.py)', nRounds, (r) => {
      let j: { banned: string[]; failures: number };
      try {
        j = JSON.parse(read(`fail2ban-jail-${r}.json`) ?? '') as typeof j;
      } catch {
        throw new Error('jail_replay.py printed no result');
      }
      return { alerts: new Set(j.banned), extra: `${j.failures} failures counted` };
    }),
  );
  for (const p of ['lean', 'stock'] as const) {
    const key = `crowdsec-${p}`;
    const n = p === 'stock' ? Math.min(stockRuns, nRounds) : nRounds;
    if (!existsSync(join(OUT, `${key}-time-1.txt`)) && !existsSync(join(OUT, `${key}.failed`))) continue;
    tools.push(
      collect(
        key, 'CrowdSec 1.4 (`crowdsec -dsn`)',
        p === 'stock' ? 'stock hub parsers (nginx-logs, dateparse-enrich) + 401 leaky bucket (cap 19, 3 s)' : 'minimal 401 parser + 401 leaky bucket (cap 19, 3 s)',
        n,
        (r) => {
          let j: { ip: string; scenario: string }[];
          try {
            j = JSON.parse(read(`${key}-alerts-${r}.json`) ?? '') as typeof j;
          } catch {
            throw new Error('no alerts file');
          }
          return { alerts: new Set(j.filter((a) => a.scenario === 'authwatch-bench/http-401-burst').map((a) => a.ip)), extra: '' };
        },
      ),
    );
  }
  // authwatch
  tools.push(
    collect('authwatch', 'authwatch `replay --input-format nginx`', 'oauth-401-burst only (≥ 20 in 60 s, sliding, event time)', nRounds, (r) => {
      const text = read(`authwatch-alerts-${r}.ndjson`);
      if (text === null) throw new Error('no alerts file');
      const alerts = new Set<string>();
      for (const l of text.split('\n')) {
        if (!l.trim()) continue;
        const a = JSON.parse(l) as { rule?: { name?: string }; group?: Record<string, unknown> };
        if (a.rule?.name === 'oauth-401-burst' && typeof a.group?.['source.ip'] === 'string') alerts.add(a.group['source.ip']);
      }
      return { alerts, extra: '' };
    }),
  );

  const wallByRound = (t: ToolRuns) => new Map(t.rounds.map((r) => [r.round, r.time.wallS]));
  const aw = tools.find((t) => t.key === 'authwatch')!;
  const awWalls = wallByRound(aw);
  const awLps = aw.failed ? null : summarize(aw.rounds.map((r) => lines / r.time.wallS));
  const scoresOf = (t: ToolRuns) => t.rounds.flatMap((r) => (r.alerts ? [score(r.alerts, planted)] : []));
  const awScores = scoresOf(aw);
  // the bursts authwatch found in EVERY round: a peer's find that authwatch missed in any round counts
  const awFoundAlways = new Set([...(awScores[0]?.foundIps ?? [])].filter((ip) => awScores.every((s) => s.foundIps.has(ip))));
  let disagreement = false;

  const rows = tools.map((t) => {
    if (t.failed) return [t.tool, t.what, '–', '–', '–', '–', '–', '–', '–', '–', `not measured: ${t.failed}`];
    const lps = summarize(t.rounds.map((r) => lines / r.time.wallS));
    const wall = summarize(t.rounds.map((r) => r.time.wallS));
    const rss = Math.max(...t.rounds.map((r) => r.time.maxRssMB));
    const ratios = t.key !== 'authwatch' ? perRoundRatios(awWalls, wallByRound(t)) : [];
    const scores = scoresOf(t);
    const notes: string[] = [];
    const extras = [...new Set(t.rounds.map((r) => r.extra).filter(Boolean))];
    if (extras.length) notes.push(extras.join(' / '));
    // one cell per score column: a single value, or each round's when the rounds differ in it
    const agree = roundsAgree(t.rounds.flatMap((r) => (r.alerts ? [r.alerts] : [])));
    const cell = (f: (s: Score) => string) => {
      if (scores.length === 0) return 'n/a';
      const perRound = scores.map(f);
      return new Set(perRound).size === 1 ? perRound[0] : perRound.join(' / ');
    };
    if (!agree) {
      disagreement = true;
      notes.push(`**rounds alerted on different IPs** (values per round ${t.rounds.map((r) => r.round).join(', ')})`);
    }
    if (scores.length && awScores.length && t.key !== 'authwatch') {
      const missedByAw = [...new Set(scores.flatMap((s) => [...s.foundIps]))].filter((ip) => !awFoundAlways.has(ip));
      notes.push(missedByAw.length ? `authwatch missed ${missedByAw.length} it found: ${missedByAw.slice(0, 5).join(', ')}` : 'authwatch found every burst it found');
    }
    if (t.rounds.length < (t.key === 'crowdsec-stock' ? Math.min(stockRuns, nRounds) : nRounds) || t.problems.length) notes.push(`${t.rounds.length} usable round(s): ${t.problems.join('; ')}`);
    if (t.key !== 'authwatch' && ratios.length < t.rounds.length) notes.push(`authwatch × from ${ratios.length} round(s) where both ran`);
    return [
      t.tool, t.what, t.rounds.length, fmtSpread(lps), fmtSpread(wall), fmt(rss),
      cell((s) => String(s.found)), cell((s) => String(s.missed)), cell((s) => `${s.falseAlerts} (${s.nearMissAlerts} near misses)`),
      ratios.length ? fmtSpread(summarize(ratios.map((x) => x.ratio)), fmtRatio) : '–',
      notes.join('; '),
    ];
  });

  const nBursts = planted.filter((p) => p.kind === 'burst').length;
  const nNear = planted.filter((p) => p.kind === 'near-miss').length;
  // rounds that ran CrowdSec's stock parsers (0 when they did not run at all)
  const stockRounds = tools.some((t) => t.key === 'crowdsec-stock') ? Math.min(stockRuns, nRounds) : 0;
  const stockNote = stockRounds
    ? ` CrowdSec with its stock parsers is slow (about 2 ms a line here), so it ran in ${stockRounds === 1 ? 'round 1' : `the first ${stockRounds} rounds`} only (\`PEERS_STOCK_RUNS\`), last in its round.`
    : '';
  const label: Record<string, string> = { 'fail2ban-regex': 'fail2ban-regex', 'fail2ban-jail': 'fail2ban jail', 'crowdsec-lean': 'CrowdSec lean', authwatch: 'authwatch' };
  // tools that never started (not installed) are not part of a round
  const inRoundOrder = tools.filter((t) => label[t.key] && (t.rounds.length || t.problems.length)).map((t) => label[t.key]).join(', ');
  // the raw pairs behind the medians, so a reader can see which round was slow for whom
  const measured = tools.filter((t) => !t.failed);
  const perRound = Array.from({ length: nRounds }, (_, i) => [
    i + 1,
    ...measured.map((t) => fmt(t.rounds.find((r) => r.round === i + 1)?.time.wallS)),
  ]);
  const md = [
    `One generated NGINX combined access log, **${lines.toLocaleString('en-US')} lines** (seeded; \`bench/peers/gen-nginx-log.ts\`), ` +
      `${plantedDoc.lines401.toLocaleString('en-US')} of them 401. Planted: **${nBursts} bursts** (one IP each, ≥ 20 responses 401 within 60 s: ` +
      `most 20–60 within 5–40 s, every fifth exactly 20 spread over 55 s) and **${nNear} near misses** (exactly 19 within 20–58 s). ` +
      `Background clients never reach 20 in 60 s. The tools ran in **${nRounds} round${nRounds === 1 ? '' : 's'}** (\`PEERS_RUNS\`) on the same file, ` +
      `each under \`/usr/bin/time -v\`; a round runs every tool once, one after the other (${inRoundOrder}), ` +
      `so a slow patch of this shared machine hits all tools of that round alike.${stockNote} ` +
      'lines/s is lines ÷ wall time of the whole process (start-up included) and wall s its wall time: median over the rounds, min–max in brackets; ' +
      'peak RSS is the largest of the rounds. **authwatch ×** is taken per round — the peer\'s wall time ÷ authwatch\'s in the same round — and shown ' +
      'as the median of those per-round ratios (min–max in brackets), which is not the ratio of the two median columns. ' +
      (disagreement
        ? 'Alerts were scored per round; **some rounds alerted on different IPs** (see the notes; same input, so this should not happen).'
        : 'Alerts were scored per round and every round of a tool alerted on the same IPs.'),
    '',
    table(['tool', 'what ran', 'rounds', 'lines/s', 'wall s', 'peak RSS MB', 'bursts found', 'missed', 'false alerts', 'authwatch ×', 'notes'], rows),
    '',
    'Wall time (s) of each tool in each round (– : not run or no usable result in that round):',
    '',
    table(['round', ...measured.map((t) => t.key)], perRound),
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
  if (awLps && awScores.length) {
    const s0 = awScores[0];
    figures.push({
      metric: 'authwatch lines/s (CLI, oauth-401-burst)', value: awLps.median, unit: 'lines/s',
      note: `median of ${awLps.runs} round(s) (${fmt(awLps.min)}–${fmt(awLps.max)}); found ${s0.found}/${nBursts}, false ${s0.falseAlerts}${disagreement ? '; rounds disagree on alerts' : ''}`,
    });
    for (const t of tools) {
      if (t.key === 'authwatch') continue;
      const metric = `authwatch vs ${t.key}`;
      const ratios = t.failed ? [] : perRoundRatios(awWalls, wallByRound(t));
      if (t.failed || ratios.length === 0) {
        notMeasured.push({ metric, reason: t.failed ?? 'no round in which both authwatch and the peer ran' });
        continue;
      }
      const r = summarize(ratios.map((x) => x.ratio));
      const peerLps = summarize(t.rounds.map((x) => lines / x.time.wallS));
      figures.push({
        ...figureWithBaseline({ metric, value: awLps.median, unit: 'lines/s' }, { metric: `${t.key} lines/s`, value: peerLps.median, unit: 'lines/s' }, {
          aim: t.key.startsWith('crowdsec') ? '≥ 100×' : t.key === 'fail2ban-jail' ? '≥ 3×' : undefined,
          note: `ratio: median of ${r.runs} per-round ratio(s) (${fmt(r.min)}–${fmt(r.max)}), not value ÷ baseline`,
        }),
        // the same-round pairing, not the ratio of the medians (see perRoundRatios)
        ratio: r.median,
      });
    }
  } else notMeasured.push({ metric: 'authwatch vs peers', reason: aw.failed ?? 'authwatch did not run' });
  reportResult({ name: 'peers', conditions: { lines, bursts: nBursts, 'near misses': nNear, rounds: nRounds, 'crowdsec stock rounds': stockRounds }, figures, notMeasured });
}

// run only as a script, so tests can import the scoring functions
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
