// The benchmark suite's pieces, on tiny inputs: result convention, statistics, markdown,
// data generators (deterministic, with exact ground truth), rule variants, the script runner,
// the orchestrator and the peer scoring. No timing is asserted anywhere: speed is measured by
// `npm run bench`, not tested.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execFileSync } from 'node:child_process';
import { reportResult, parseResultLine, figureWithBaseline, RESULT_PREFIX, BenchResultError, type BenchResult } from '../../bench/lib/result.js';
import { summarize, median, percentile } from '../../bench/lib/stats.js';
import { table, fmt } from '../../bench/lib/markdown.js';
import { aggregate } from '../../bench/lib/aggregate.js';
import { renderReport } from '../../bench/lib/report.js';
import { machineFacts } from '../../bench/lib/machine.js';
import { authwatchLines, accessLog, nginxCombined, accessAsAuthwatch } from '../../bench/lib/datagen.js';
import { writeRuleVariants } from '../../bench/lib/rule-variants.js';
import { runScript } from '../../bench/lib/run-script.js';
import { parseTimeV, score, perRoundRatios, roundsAgree } from '../../bench/peers/compare.js';
import { loadRuleSet } from '../../src/rules/rule-loader.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'aw-bench-test-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const sample: BenchResult = {
  name: 'x',
  conditions: { events: 10, file: 'a.ndjson' },
  figures: [figureWithBaseline({ metric: 'events/s', value: 50, unit: 'events/s' }, { metric: 'bare JSON.parse', value: 100, unit: 'lines/s' }, { aim: 'ratio ≥ 0.5' })],
};

describe('BENCH_RESULT convention', () => {
  it('writes one line that parses back to the same result', () => {
    const chunks: string[] = [];
    const orig = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((c: string) => (chunks.push(c), true)) as typeof process.stdout.write;
    try {
      reportResult(sample);
    } finally {
      process.stdout.write = orig;
    }
    const out = chunks.join('');
    expect(out.startsWith(RESULT_PREFIX)).toBe(true);
    expect(out.trim().split('\n')).toHaveLength(1);
    expect(parseResultLine('progress...\n' + out)).toEqual(sample);
    expect(sample.figures[0].ratio).toBe(0.5);
  });

  it('finds nothing when the last line is not a result, and refuses a malformed one', () => {
    expect(parseResultLine(`${RESULT_PREFIX}{}\nlater text\n`)).toBeNull();
    expect(parseResultLine('')).toBeNull();
    expect(() => parseResultLine(`${RESULT_PREFIX}{not json`)).toThrow(BenchResultError);
    expect(() => parseResultLine(`${RESULT_PREFIX}{"name":"x","conditions":{},"figures":[{"metric":"m","value":"fast","unit":"u"}]}`)).toThrow(BenchResultError);
  });

  it('refuses to print a non-finite figure', () => {
    expect(() => reportResult({ ...sample, figures: [{ metric: 'm', value: Number.NaN, unit: 'u' }] })).toThrow();
  });
});

describe('statistics and markdown', () => {
  it('summarises runs with median, range and quartiles', () => {
    expect(summarize([5, 1, 3])).toEqual({ runs: 3, median: 3, min: 1, max: 5, q1: 2, q3: 4 });
    expect(median([1, 2, 3, 4])).toBe(2.5);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 99)).toBe(10);
    expect(() => summarize([])).toThrow(RangeError);
  });

  it('writes well-formed tables with escaped cells', () => {
    const t = table(['a', 'b'], [['x|y', 1], ['line\nbreak', null]]).split('\n');
    expect(t).toHaveLength(4);
    expect(t[1]).toBe('|---|---|');
    expect(t[2]).toBe('| x\\|y | 1 |');
    expect(t[3]).toBe('| line break |  |');
    expect(fmt(1234567)).toBe('1,230,000');
    expect(fmt(0.12345)).toBe('0.123');
    expect(fmt(Number.NaN)).toBe('–');
  });

  it('aggregates runs per figure, keeping per-run ratios', () => {
    const run = (v: number, b: number): BenchResult => ({ ...sample, figures: [figureWithBaseline({ metric: 'events/s', value: v, unit: 'events/s' }, { metric: 'base', value: b, unit: 'lines/s' })] });
    const a = aggregate([run(50, 100), run(90, 100), run(30, 120)]);
    expect(a.runs).toBe(3);
    expect(a.figures[0].value.median).toBe(50);
    expect(a.figures[0].baseline?.value.median).toBe(100);
    expect(a.figures[0].ratio?.median).toBe(0.5);
    expect(a.figures[0].ratio?.min).toBe(0.25);
  });

  it('renders the generated page with machine facts and "not measured" reasons', () => {
    const md = renderReport({
      machine: machineFacts(ROOT), loadAtEnd: [0, 0, 0], command: 'npm run bench', runsPerScript: 1, mode: 'test', durationS: 1, peers: { ok: false, reason: 'crowdsec missing' },
      entries: [
        { name: 'a', script: 'bench/a.ts', title: 'A', owner: 'x', outcome: { ok: true, aggregated: aggregate([sample]), failedRuns: [] } },
        { name: 'b', script: 'bench/b.ts', title: 'B', owner: 'y', outcome: { ok: false, reason: 'bench/b.ts does not exist yet' } },
      ],
    });
    expect(md.split('\n')[0]).toMatch(/^<!-- GENERATED by `npm run bench`/);
    expect(md).toContain('| cores |');
    expect(md).toContain('not measured: bench/b.ts does not exist yet');
    expect(md).toContain('**Not measured:** crowdsec missing');
    expect(md).toMatch(/\| A \| events\/s \| 50 events\/s \| 100 lines\/s \(bare JSON\.parse\) \| 0\.5× \|/);
  });
});

describe('data generators', () => {
  it('authwatch lines are deterministic per seed and carry the contract fields', () => {
    const a = [...authwatchLines(300, { seed: 3 })];
    expect([...authwatchLines(300, { seed: 3 })]).toEqual(a);
    expect([...authwatchLines(300, { seed: 4 })]).not.toEqual(a);
    for (const l of a) {
      const e = JSON.parse(l) as { time: string; observer: { type: string }; auth: { result: string } };
      expect(Number.isNaN(Date.parse(e.time))).toBe(false);
      expect(['gateway', 'api', 'idp']).toContain(e.observer.type);
      expect(typeof e.auth.result).toBe('string');
    }
  });

  it('the access log plants exactly the bursts it reports, and no background IP reaches 20 in 60 s', () => {
    const { records, planted } = accessLog(30_000, { seed: 9, bursts: 6, nearMisses: 4 });
    const by401 = new Map<string, number[]>();
    let n = 0;
    for (const r of records) {
      n++;
      expect(nginxCombined(r)).toMatch(/^\S+ - - \[\d\d\/\w{3}\/\d{4}:\d\d:\d\d:\d\d \+0000\] "\w+ \S+ HTTP\/1\.1" \d{3} \d+ "-" ".*"$/);
      if (n === 1) expect(JSON.parse(accessAsAuthwatch(r, 0)).source.ip).toBe(r.ip);
      if (r.status === 401) by401.set(r.ip, [...(by401.get(r.ip) ?? []), r.timeMs]);
    }
    expect(n).toBe(30_000);
    const maxIn60s = (ts: number[]) => {
      let best = 0;
      for (let i = 0, j = 0; i < ts.length; i++) {
        while (ts[i] - ts[j] >= 60_000) j++;
        best = Math.max(best, i - j + 1);
      }
      return best;
    };
    const bursts = new Set(planted.filter((p) => p.kind === 'burst').map((p) => p.ip));
    const near = new Set(planted.filter((p) => p.kind === 'near-miss').map((p) => p.ip));
    expect(bursts.size).toBe(6);
    expect(near.size).toBe(4);
    for (const [ip, ts] of by401) {
      const m = maxIn60s(ts);
      if (bursts.has(ip)) expect(m).toBeGreaterThanOrEqual(20);
      else if (near.has(ip)) expect(m).toBe(19);
      else expect(m).toBeLessThan(20);
    }
  });
});

describe('rule variants', () => {
  it('writes exactly N rules that the real loader accepts', () => {
    for (const n of [10, 23]) {
      const dir = join(tmp, `rules-${n}`);
      expect(writeRuleVariants(join(ROOT, 'rules'), dir, n)).toBe(n);
      const r = loadRuleSet(dir, { includeExperimental: true });
      expect(r.errors).toEqual([]);
      expect(r.ruleset.infos.length).toBe(n);
    }
  });
});

describe('script runner and orchestrator', () => {
  it('collects a result, and reports missing, failing and silent scripts with a reason', async () => {
    const good = join(tmp, 'good.ts');
    writeFileSync(good, `import { reportResult } from '${join(ROOT, 'bench/lib/result.ts')}';\nprocess.stdout.write('warming up\\n');\nreportResult(${JSON.stringify(sample)});\n`);
    const bad = join(tmp, 'bad.ts');
    writeFileSync(bad, `process.stderr.write('boom: engine missing\\n'); process.exit(3);\n`);
    const silent = join(tmp, 'silent.ts');
    writeFileSync(silent, `process.stdout.write('no result here\\n');\n`);
    const g = await runScript(good, { cwd: ROOT });
    expect(g.ok && g.result).toEqual(sample);
    const b = await runScript(bad, { cwd: ROOT });
    expect(b.ok).toBe(false);
    expect(!b.ok && b.reason).toMatch(/exited with 3: boom: engine missing/);
    const s = await runScript(silent, { cwd: ROOT });
    expect(!s.ok && s.reason).toMatch(/no BENCH_RESULT line/);
    const m = await runScript(join(tmp, 'nope.ts'), { cwd: ROOT });
    expect(!m.ok && m.reason).toMatch(/does not exist yet/);
  });

  it('`npm run bench -- --quick` runs the replay script on tiny inputs and writes a well-formed page', () => {
    const out = join(tmp, 'benchmarks.md');
    execFileSync(process.execPath, [join(ROOT, 'bin/run-bench.js'), '--quick', '--only', 'replay,not-a-bench', '--out', out], { cwd: ROOT, stdio: 'pipe', timeout: 120_000 });
    expect(existsSync(out)).toBe(true);
    const md = readFileSync(out, 'utf8');
    expect(md).toMatch(/^<!-- GENERATED/);
    for (const title of ['## Replay, authwatch NDJSON, whole default pack']) {
      const section = md.split(title)[1]?.split('\n## ')[0] ?? '';
      expect(section, title).not.toBe('');
      // either a figures table with a baseline column, or an explicit reason
      expect(/\| figure \| median \|/.test(section) || /\*\*Not measured:\*\*/.test(section)).toBe(true);
    }
    // every table row has as many cells as its header
    for (const block of md.split('\n\n')) {
      const rows = block.split('\n').filter((l) => l.startsWith('|'));
      if (rows.length < 2) continue;
      const cells = (l: string) => l.replace(/\\\|/g, '').split('|').length;
      for (const r of rows) expect(cells(r)).toBe(cells(rows[0]));
    }
  }, 180_000);
});

describe('peer scoring', () => {
  it('reads /usr/bin/time -v reports', () => {
    const t = parseTimeV('\tUser time (seconds): 1.50\n\tSystem time (seconds): 0.25\n\tElapsed (wall clock) time (h:mm:ss or m:ss): 1:02.50\n\tMaximum resident set size (kbytes): 20480\n');
    expect(t).toEqual({ wallS: 62.5, maxRssMB: 20, userS: 1.5, sysS: 0.25 });
    expect(parseTimeV('nothing')).toBeNull();
  });

  it('scores alerts against planted bursts: found, missed, false (near misses separately)', () => {
    const planted = [
      { ip: '198.18.0.1', kind: 'burst' as const, count: 20, firstMs: 0, lastMs: 1 },
      { ip: '198.18.0.2', kind: 'burst' as const, count: 30, firstMs: 0, lastMs: 1 },
      { ip: '198.19.0.1', kind: 'near-miss' as const, count: 19, firstMs: 0, lastMs: 1 },
    ];
    const s = score(['198.18.0.1', '198.19.0.1', '10.0.0.1'], planted);
    expect({ found: s.found, missed: s.missed, falseAlerts: s.falseAlerts, nearMissAlerts: s.nearMissAlerts }).toEqual({ found: 1, missed: 1, falseAlerts: 2, nearMissAlerts: 1 });
  });

  it("pairs authwatch and a peer by round: the peer's wall ÷ authwatch's, only rounds both ran in", () => {
    const aw = new Map([[1, 1], [2, 2], [3, 1.5]]);
    const peer = new Map([[2, 4], [1, 3], [4, 9]]);
    expect(perRoundRatios(aw, peer)).toEqual([{ round: 1, ratio: 3 }, { round: 2, ratio: 2 }]);
    expect(perRoundRatios(aw, new Map())).toEqual([]);
    expect(roundsAgree([new Set(['a', 'b']), new Set(['b', 'a'])])).toBe(true);
    expect(roundsAgree([new Set(['a', 'b']), new Set(['a'])])).toBe(false);
    expect(roundsAgree([new Set(['a']), new Set(['b'])])).toBe(false);
  });

  it('compare.ts on rounds: medians, per-round ratios in BENCH_RESULT, a failed round, a missing tool, disagreeing rounds', () => {
    const out = mkdtempSync(join(tmp, 'peers-'));
    const w = (f: string, text: string) => writeFileSync(join(out, f), text);
    const timeV = (wallS: number, rssKb: number) =>
      `\tUser time (seconds): 0.50\n\tSystem time (seconds): 0.10\n\tElapsed (wall clock) time (h:mm:ss or m:ss): 0:${wallS.toFixed(2).padStart(5, '0')}\n\tMaximum resident set size (kbytes): ${rssKb}\n`;
    const [b1, b2] = ['198.18.0.1', '198.18.0.2'];
    w('planted.json', JSON.stringify({ lines: 1000, lines401: 100, planted: [
      { ip: b1, kind: 'burst', count: 20, firstMs: 0, lastMs: 1 },
      { ip: b2, kind: 'burst', count: 30, firstMs: 0, lastMs: 1 },
      { ip: '198.19.0.1', kind: 'near-miss', count: 19, firstMs: 0, lastMs: 1 },
    ] }));
    w('rounds.json', JSON.stringify({ runs: 3, stockRuns: 1 }));
    const awAlert = (ip: string) => JSON.stringify({ rule: { name: 'oauth-401-burst' }, group: { 'source.ip': ip } });
    [1, 2, 1.5].forEach((wall, i) => {
      w(`authwatch-time-${i + 1}.txt`, timeV(wall, 102400));
      w(`authwatch-alerts-${i + 1}.ndjson`, `${awAlert(b1)}\n${awAlert(b2)}\n`);
      w(`fail2ban-regex-time-${i + 1}.txt`, timeV(2, 40960));
      w(`fail2ban-regex-${i + 1}.txt`, 'Lines: 1000 lines, 0 ignored, 100 matched, 900 missed\n');
    });
    // jail: round 2 bans one IP fewer (rounds disagree), round 3 failed
    w('fail2ban-jail-time-1.txt', timeV(3, 20480));
    w('fail2ban-jail-1.json', JSON.stringify({ banned: [b1, b2], failures: 100 }));
    w('fail2ban-jail-time-2.txt', timeV(4, 30720));
    w('fail2ban-jail-2.json', JSON.stringify({ banned: [b1], failures: 100 }));
    w('fail2ban-jail-time-3.txt', timeV(9, 20480));
    w('fail2ban-jail.failed', 'round 3: jail_replay.py failed: boom\n');
    w('crowdsec-lean.failed', 'crowdsec is not installed and could not be installed (see install.txt)\n');
    w('crowdsec-stock-time-1.txt', timeV(50, 153600));
    w('crowdsec-stock-alerts-1.json', JSON.stringify([{ ip: b1, scenario: 'authwatch-bench/http-401-burst' }]));

    const stdout = execFileSync(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/peers/compare.ts'), out], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 }).toString();
    const result = parseResultLine(stdout)!;
    expect(result.conditions).toMatchObject({ lines: 1000, rounds: 3, 'crowdsec stock rounds': 1 });
    const fig = (m: string) => result.figures.find((f) => f.metric === m)!;
    // authwatch: median of 1000/1, 1000/2, 1000/1.5 lines/s
    expect(fig('authwatch lines/s (CLI, oauth-401-burst)').value).toBeCloseTo(1000 / 1.5, 6);
    // jail: rounds 1 and 2 only (3 failed): ratios 3/1 and 4/2, median 2.5 — not the ratio of medians
    const jail = fig('authwatch vs fail2ban-jail');
    expect(jail.ratio).toBeCloseTo(2.5, 6);
    expect(jail.baseline!.value).toBeCloseTo((1000 / 3 + 1000 / 4) / 2, 6);
    expect(jail.value / jail.baseline!.value).not.toBeCloseTo(2.5, 2);
    expect(jail.aim).toBe('≥ 3×');
    // regex: 2/1, 2/2, 2/1.5
    expect(fig('authwatch vs fail2ban-regex').ratio).toBeCloseTo(4 / 3, 6);
    // stock CrowdSec: round 1 only, against authwatch's round 1
    expect(fig('authwatch vs crowdsec-stock').ratio).toBeCloseTo(50, 6);
    expect(fig('authwatch vs crowdsec-stock').aim).toBe('≥ 100×');
    expect(result.notMeasured).toEqual([{ metric: 'authwatch vs crowdsec-lean', reason: expect.stringContaining('not installed') }]);

    const md = readFileSync(join(out, 'peers.md'), 'utf8');
    expect(md).toContain('**3 rounds**');
    expect(md).toContain('ran in round 1 only');
    expect(md).toContain('one after the other (fail2ban-regex, fail2ban jail, authwatch)');
    expect(md).toMatch(/\| round \| fail2ban-regex \| fail2ban-jail \| crowdsec-stock \| authwatch \|\n\|[-|]+\|\n\| 1 \| 2 \| 3 \| 50 \| 1 \|\n\| 2 \| 2 \| 4 \| – \| 2 \|\n\| 3 \| 2 \| – \| – \| 1.5 \|/);
    expect(md).toContain('some rounds alerted on different IPs');
    const row = (start: string) => md.split('\n').find((l) => l.startsWith(`| ${start}`))!.split(' | ');
    const jailRow = row('fail2ban 1.0 jail logic');
    expect(jailRow[2]).toBe('2'); // usable rounds
    expect(jailRow[4]).toBe('3.5 (3–4)'); // wall s: median (min–max)
    expect(jailRow[5]).toBe('30'); // peak RSS: the largest round
    expect(jailRow[6]).toBe('2 / 1'); // bursts found, per round since the rounds disagree
    expect(jailRow[7]).toBe('0 / 1'); // missed
    expect(jailRow[8]).toBe('0 (0 near misses)'); // the same in both rounds: one value
    expect(jailRow[9]).toBe('2.5× (2–3)');
    expect(jailRow[10]).toContain('round 3: jail_replay.py failed: boom');
    expect(jailRow[10]).toContain('rounds alerted on different IPs');
    expect(md).toMatch(/\| CrowdSec 1\.4 \(`crowdsec -dsn`\) \| minimal 401 parser[^\n]*not measured: crowdsec is not installed/);
  });
});
