// Byte-identical lines within one input stream are distinct events (an NGINX combined line has a
// one-second clock and no request id), while a stream sent again is still recognised as the same
// events. Proven on the numbering itself, the pipeline, the real HTTP API and the real CLI.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RepeatedContentIds } from '../../src/events/repeated-content.js';
import { createIngestor } from '../../src/events/ingestor.js';
import { compileRoutePolicy } from '../../src/events/route-policy.js';
import { loadRuleSet } from '../../src/rules/rule-loader.js';
import { createEngine } from '../../src/rules/engine.js';
import { Pipeline } from '../../src/pipeline.js';
import type { Alert } from '../../src/alerts/alert.js';
import { getJson, startService, type TestService } from '../auth/harness.js';
import { ROOT, runCli } from '../support/cli.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const timeLocal = (ms: number) => {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
};
/** One failing token request, as curl in a loop would log it: the same line every time within the second. */
const sameLine = (ms: number, ip = '203.0.113.9') => `${ip} - - [${timeLocal(ms)}] "POST /oauth/token HTTP/1.1" 401 52 "-" "curl/8.5.0"`;

describe('RepeatedContentIds', () => {
  const T1 = '2026-11-26T10:00:00.000Z';
  it('keeps the first id, numbers the n-th repetition <id>.<n>, and numbers a replayed stream the same way', () => {
    const seq = ['a', 'b', 'a', 'a', 'c', 'b'];
    const run = () => {
      const r = new RepeatedContentIds();
      return seq.map((id) => r.occurrence(id, T1));
    };
    expect(run()).toEqual(['a', 'b', 'a.2', 'a.3', 'c', 'b.2']);
    expect(run()).toEqual(run());
  });

  it('gives distinct ids to every occurrence when times interleave (out-of-order lines) within the recent times', () => {
    const r = new RepeatedContentIds();
    const out: string[] = [];
    // 8 event times, 30 ids each, every id 4 times, all interleaved
    for (let k = 0; k < 4; k++) for (let i = 0; i < 30; i++) for (let t = 0; t < 8; t++) out.push(r.occurrence(`ev_${t}_${i}`, `2026-11-26T10:00:0${t}.000Z`));
    expect(new Set(out).size).toBe(4 * 30 * 8);
  });

  it('remembers the last 8 event times: a repetition whose time left them starts counting again', () => {
    const r = new RepeatedContentIds();
    expect(r.occurrence('x', T1)).toBe('x');
    for (let t = 1; t <= 8; t++) r.occurrence(`other-${t}`, `2026-11-26T10:00:0${t}.000Z`);
    expect(r.occurrence('x', T1)).toBe('x');
    const r2 = new RepeatedContentIds();
    r2.occurrence('x', T1);
    for (let t = 1; t <= 7; t++) r2.occurrence(`other-${t}`, `2026-11-26T10:00:0${t}.000Z`);
    expect(r2.occurrence('x', T1)).toBe('x.2');
  });
});

describe('the pipeline: identical lines count, a re-sent stream does not', () => {
  const { ruleset, errors } = loadRuleSet(resolve(ROOT, 'rules', 'stable'));
  const t0 = Date.UTC(2026, 10, 26, 10, 0, 0);

  function pipeline() {
    const ingestor = createIngestor({ fingerprintSecret: Buffer.from('repeat-test-secret-0123456789abcdef'), routePolicy: compileRoutePolicy({ routes: [] }), inputFormat: 'auto', maxLineBytes: 65536 });
    const engine = createEngine(ruleset, { allowedLatenessMs: 1000, maxGroupKeys: 10_000 });
    const alerts: Alert[] = [];
    const p = new Pipeline({ ingestor, engine, alerts: { saveAlerts: (a) => alerts.push(...a) }, rejects: { saveRejections: () => {} } });
    const burst = () => {
      p.finish();
      const last = new Map<string, Alert>();
      for (const a of alerts) if (a.rule.name === 'oauth-401-burst') last.set(a.id, a);
      return [...last.values()].map((a) => a.count);
    };
    return { p, engine, burst };
  }

  it('25 identical 401 lines in one second are 25 events: the burst rule (≥ 20 in 60 s) fires with count 25', () => {
    expect(errors).toEqual([]);
    const { p, burst } = pipeline();
    p.ingestLines(Array.from({ length: 25 }, () => sameLine(t0)), { source: 'http', name: 'edge' });
    expect(burst()).toEqual([25]);
  });

  it('the same body posted twice (a retry) is recognised as duplicates', () => {
    const { p, engine, burst } = pipeline();
    const body = Array.from({ length: 25 }, () => sameLine(t0));
    p.ingestLines(body, { source: 'http', name: 'edge' });
    p.ingestLines(body, { source: 'http', name: 'edge' });
    expect(burst()).toEqual([25]);
    expect(engine.stats().duplicateEvents).toBe(25);
  });

  it('a stream ingested in several batches numbers across them when the batches share its numbering', () => {
    const { p, burst } = pipeline();
    const stream = new RepeatedContentIds();
    for (let b = 0; b < 5; b++) p.ingestLines(Array.from({ length: 5 }, () => sameLine(t0)), { source: 'file', name: 'access.log' }, b * 5 + 1, stream);
    expect(burst()).toEqual([25]);
  });

  it('numbers only events a rule matches: identical matching lines get <id>.<n>, identical unmatched lines keep their id', () => {
    const seen: string[] = [];
    const ingestor = createIngestor({ fingerprintSecret: Buffer.from('repeat-test-secret-0123456789abcdef'), routePolicy: compileRoutePolicy({ routes: [] }), inputFormat: 'auto', maxLineBytes: 65536 });
    const engine = createEngine(ruleset, { allowedLatenessMs: 1000, maxGroupKeys: 10_000 });
    const p = new Pipeline({ ingestor, engine, alerts: { saveAlerts: () => {} }, rejects: { saveRejections: () => {} }, onEvent: (e) => seen.push(e.id) });
    const ok = sameLine(t0).replace('" 401 ', '" 200 ');
    expect(ok).not.toBe(sameLine(t0));
    p.ingestLines([sameLine(t0), ok, sameLine(t0), ok, sameLine(t0)], { source: 'file', name: 'access.log' });
    const [a1, b1, a2, b2, a3] = seen;
    expect([a2, a3]).toEqual([`${a1}.2`, `${a1}.3`]); // the 401 line matches the burst's base rule
    expect(b2).toBe(b1); // a 200 matches no stable rule: its id is never read again
    expect(engine.stats().duplicateEvents).toBe(0);
  });

  it('never numbers producer ids: the same producer id 25 times is one event, 25 producer ids are 25', () => {
    const line = (id: string) => JSON.stringify({ id, time: new Date(t0).toISOString(), observer: { type: 'gateway', name: 'edge' }, source: { ip: '203.0.113.9' }, http: { method: 'POST', route: '/oauth/token', status: 401 }, auth: { result: 'bad_signature', scheme: 'bearer' } });
    const same = pipeline();
    expect(same.p.ingestLines(Array.from({ length: 25 }, () => line('gw-req-1')), { source: 'http', name: 'edge' }).accepted).toBe(25);
    expect(same.burst()).toEqual([]);
    expect(same.engine.stats().duplicateEvents).toBe(24);
    const distinct = pipeline();
    expect(distinct.p.ingestLines(Array.from({ length: 25 }, (_, i) => line(`gw-req-${i}`)), { source: 'http', name: 'edge' }).accepted).toBe(25);
    expect(distinct.burst()).toEqual([25]);
  });
});

describe('over the real HTTP API', () => {
  let svc: TestService;
  let token: string;
  beforeAll(async () => {
    svc = await startService();
    token = await svc.mint(['events:write', 'alerts:read']);
  });
  afterAll(async () => {
    await svc?.close();
  });

  it('a POST of 25 identical NGINX lines raises the burst with count 25; posting it again changes nothing', async () => {
    const t = Date.now() + 3_600_000;
    const body = Array.from({ length: 25 }, () => sameLine(t, '198.51.100.77')).join('\n') + '\n';
    const post = () => getJson(svc.url + '/v1/events', { method: 'POST', headers: { 'content-type': 'text/plain', authorization: `Bearer ${token}` }, body });
    const first = await post();
    expect(first.status).toBe(200);
    expect(first.body.accepted).toBe(25);
    expect((await post()).body.accepted).toBe(25);
    svc.app.pipeline.tick(t + 600_000);
    const alerts = svc.app.store.listAlerts({ rule: 'oauth-401-burst' }, 10).items.filter((a) => a.group['source.ip'] === '198.51.100.77');
    expect(alerts.map((a) => a.count)).toEqual([25]);
  });
});

describe('through the real CLI (authwatch replay)', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'aw-repeat-'));
  const rules = join(tmp, 'rules');
  const log = join(tmp, 'access.log');
  beforeAll(() => {
    const t = Date.UTC(2026, 10, 26, 10, 0, 0);
    // a burst made of identical lines (within one second) and, before it, ordinary traffic
    const lines = [...Array.from({ length: 30 }, (_, i) => sameLine(t - 120_000 + i * 1000, `192.0.2.${i}`)), ...Array.from({ length: 25 }, () => sameLine(t))];
    writeFileSync(log, lines.join('\n') + '\n');
    mkdirSync(rules);
    copyFileSync(resolve(ROOT, 'rules', 'stable', 'oauth-401-burst.yml'), join(rules, 'oauth-401-burst.yml'));
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  const counts = (stdout: string) => stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Alert).map((a) => [a.group['source.ip'], a.count]);

  for (const workers of ['0', '1']) {
    it(`--workers ${workers}: the identical-line burst is found with every line counted`, async () => {
      const r = await runCli(['replay', '--workers', workers, '--input-format', 'nginx', '--rules', rules, log], { dataDir: join(tmp, `data-${workers}`) });
      expect(r.code).toBe(0);
      expect(counts(r.stdout)).toEqual([['203.0.113.9', 25]]);
    });
  }

  it('the same file given twice is the same events twice: duplicates, not a bigger burst', async () => {
    const r = await runCli(['replay', '--input-format', 'nginx', '--rules', rules, log, log], { dataDir: join(tmp, 'data-twice') });
    expect(r.code).toBe(0);
    expect(counts(r.stdout)).toEqual([['203.0.113.9', 25]]);
    expect(r.stderr).toContain('110 accepted');
  });
});
