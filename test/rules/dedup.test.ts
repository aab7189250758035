// De-duplication by event id: the same event delivered twice is evaluated once, within a bounded
// event-time horizon and a bounded count; the remembered ids travel with snapshots.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Alert } from '../../src/alerts/alert.js';
import type { AwEvent } from '../../src/events/event.js';
import { createIngestor } from '../../src/events/ingestor.js';
import { compileRoutePolicy } from '../../src/events/route-policy.js';
import { Replay } from '../../src/replay.js';
import { createEngine } from '../../src/rules/engine.js';
import { loadRuleSet } from '../../src/rules/rule-loader.js';
import type { RuleEngine } from '../../src/rules/types.js';
import { compileOk, ev, OPTS, runEngine, STATE_RULES, T0 } from './helpers.js';

const S = 1000;
const rs = () => compileOk(STATE_RULES).ruleset;
// horizon of STATE_RULES: max(20 s, 30 s, 15 s) + lateness
const LATENESS = 10 * S;

const e401 = (t: number, ip: string, route = '/r') => ev(t, { source: { ip }, http: { status: 401, route } });
const revoked = (t: number, ip: string) => ev(t, { source: { ip }, auth: { result: 'revoked' } });

function traffic(): AwEvent[] {
  const out: AwEvent[] = [];
  for (let i = 0; i < 40; i++) out.push(i % 5 === 0 ? revoked(i * 700, `10.0.0.${i % 3}`) : e401(i * 700, `10.0.0.${i % 4}`, `/r${i % 2}`));
  return out;
}

const summary = (alerts: Alert[]) => alerts.map((a) => ({ id: a.id, count: a.count, first: a.first_seen, last: a.last_seen, ids: a.evidence.event_ids }));

function pushAll(engine: RuleEngine, events: AwEvent[], into: Map<string, Alert>): void {
  for (const e of events) {
    engine.push(e);
    for (const a of engine.drainAlerts()) into.set(a.id, a);
  }
}
function finish(engine: RuleEngine, into: Map<string, Alert>): Alert[] {
  engine.flush();
  for (const a of engine.drainAlerts()) into.set(a.id, a);
  return [...into.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
}

describe('de-duplication by event id', () => {
  it('25 copies of one event in one batch count once', () => {
    const one = revoked(0, '10.0.0.9');
    const engine = createEngine(rs(), { ...OPTS, allowedLatenessMs: LATENESS });
    const alerts = runEngine(engine, Array.from({ length: 25 }, () => ({ ...one })));
    expect(alerts.map((a) => [a.rule.id, a.count, a.evidence.event_ids])).toEqual([['revoked', 1, [one.id]]]);
    expect(engine.stats()).toMatchObject({ duplicateEvents: 24, matchesByRule: { revoked: 1 } });
  });

  it('a copy in a later batch, after its alert was drained, does not grow the alert or a window', () => {
    const engine = createEngine(rs(), { ...OPTS, allowedLatenessMs: LATENESS });
    const base = [e401(0, '10.0.0.1'), e401(1 * S, '10.0.0.1')];
    const seen = new Map<string, Alert>();
    pushAll(engine, base, seen);
    pushAll(engine, [e401(2 * S, '10.0.0.2')], seen);
    // the two 401s again: without de-duplication the burst (gte 3 per IP) would fire for 10.0.0.1
    pushAll(engine, base.map((e) => ({ ...e })), seen);
    const alerts = finish(engine, seen);
    expect(alerts.filter((a) => a.rule.id === 'burst')).toEqual([]);
    expect(alerts.filter((a) => a.rule.id === 'spread').map((a) => a.count)).toEqual([3]);
    expect(engine.stats()).toMatchObject({ duplicateEvents: 2, matchesByRule: { 'http-401': 3 } });
  });

  it('copies arriving out of order, interleaved with the originals, give the alerts of the originals alone', () => {
    const events = traffic();
    const once = runEngine(createEngine(rs(), { ...OPTS, allowedLatenessMs: LATENESS }), events);
    expect(once.length).toBeGreaterThan(2);
    // every event twice; the copy of event i arrives among the events up to 10 positions later or earlier
    const arrivals = events.flatMap((e, i) => [{ e, k: i }, { e: { ...e }, k: i + ((i * 7) % 21) - 10 }]).sort((a, b) => a.k - b.k);
    const engine = createEngine(rs(), { ...OPTS, allowedLatenessMs: LATENESS });
    const twice = runEngine(engine, arrivals.map((a) => a.e));
    expect(summary(twice)).toEqual(summary(once));
    expect(engine.stats().duplicateEvents).toBe(events.length);
    expect(engine.stats().lateEvents).toBe(0);
  });

  it('remembers ids across snapshot and restore', () => {
    const events = traffic();
    const once = runEngine(createEngine(rs(), { ...OPTS, allowedLatenessMs: LATENESS }), events);
    const half = 20;
    const first = createEngine(rs(), { ...OPTS, allowedLatenessMs: LATENESS });
    const seen = new Map<string, Alert>();
    pushAll(first, events.slice(0, half), seen);
    const snap = JSON.parse(JSON.stringify(first.snapshot()));
    const second = createEngine(rs(), { ...OPTS, allowedLatenessMs: LATENESS });
    second.restore(snap);
    expect(second.stats().eventIds).toBe(first.stats().eventIds);
    // a redelivery after the crash: the last few events before the snapshot come again
    pushAll(second, events.slice(half - 5).map((e) => ({ ...e })), seen);
    const alerts = finish(second, seen);
    expect(summary(alerts)).toEqual(summary(once));
    expect(second.stats().duplicateEvents).toBe(5);
  });

  it('remembers only events that matched a rule', () => {
    const engine = createEngine(rs(), { ...OPTS, allowedLatenessMs: LATENESS });
    const quiet = ev(0, { http: { status: 200 } });
    for (let i = 0; i < 3; i++) engine.push({ ...quiet });
    expect(engine.stats()).toMatchObject({ eventIds: 0, duplicateEvents: 0 });
    engine.push(e401(0, '10.0.0.1'));
    expect(engine.stats().eventIds).toBe(1);
  });

  it('forgets ids older than the horizon (longest timespan or suppression + lateness) behind the newest event', () => {
    const engine = createEngine(rs(), { ...OPTS, allowedLatenessMs: LATENESS });
    const old = e401(0, '10.0.0.1');
    engine.push(old);
    engine.push(e401(40 * S, '10.0.0.2')); // 40 s = horizon (30 s + 10 s): still remembered
    expect(engine.stats()).toMatchObject({ eventIds: 2, eventIdEvictions: { expired: 0, capacity: 0 } });
    engine.push(e401(40 * S + 1, '10.0.0.3'));
    expect(engine.stats()).toMatchObject({ eventIds: 2, eventIdEvictions: { expired: 1, capacity: 0 } });
    engine.push({ ...old }); // far behind the watermark: evaluated as a late event, not recognised
    expect(engine.stats()).toMatchObject({ duplicateEvents: 0, lateEvents: 1 });
  });

  it('keeps exactly the ids inside the horizon over a long stream (against a brute-force list)', () => {
    const engine = createEngine(rs(), { ...OPTS, allowedLatenessMs: LATENESS, maxEventIds: 2500 });
    const pushed: { id: string; t: number }[] = [];
    for (let i = 0; i < 6000; i++) {
      const t = i * 13; // 6000 events over 78 s, horizon 40 s: the ring wraps and grows
      const e = e401(t, `10.1.${i % 200}.${i % 7}`);
      engine.push(e);
      pushed.push({ id: e.id, t });
      if (i % 997 === 0) engine.push({ ...e }); // and a few copies
    }
    const newest = pushed[pushed.length - 1].t;
    const expect_ = pushed.filter((p) => p.t >= newest - 40 * S).slice(-2500);
    const snap = (engine.snapshot().state as { seen: { ids: [string, number][] } }).seen.ids;
    expect(snap.map(([id]) => id)).toEqual(expect_.map((p) => p.id));
    expect(snap.map(([, t]) => t)).toEqual(expect_.map((p) => T0 + p.t));
    expect(engine.stats()).toMatchObject({ eventIds: expect_.length, duplicateEvents: 7 });
  });

  it('holds at most maxEventIds ids, forgetting the oldest first; 0 turns de-duplication off', () => {
    const engine = createEngine(rs(), { ...OPTS, allowedLatenessMs: LATENESS, maxEventIds: 3 });
    const evs = [0, 1, 2, 3, 4].map((i) => e401(i * S, `10.0.0.${i}`));
    for (const e of evs) engine.push(e);
    expect(engine.stats()).toMatchObject({ eventIds: 3, eventIdEvictions: { expired: 0, capacity: 2 } });
    engine.push({ ...evs[4] });
    expect(engine.stats().duplicateEvents).toBe(1);

    const off = createEngine(rs(), { ...OPTS, allowedLatenessMs: LATENESS, maxEventIds: 0 });
    const one = revoked(0, '10.0.0.9');
    const alerts = runEngine(off, [one, { ...one }]);
    expect(alerts.map((a) => a.count)).toEqual([2]);
    expect(off.stats()).toMatchObject({ eventIds: 0, duplicateEvents: 0 });
  });
});

describe('re-sending a whole file', () => {
  const ROOT = resolve(import.meta.dirname, '..', '..');
  const { ruleset, errors } = loadRuleSet(resolve(ROOT, 'rules'), { includeExperimental: true });
  // the mixed fixture without producer ids: the ingestor derives each id from the content
  const lines = readFileSync(resolve(ROOT, 'fixtures', 'mixed', 'events.ndjson'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => {
      try {
        const o = JSON.parse(l) as Record<string, unknown>;
        delete o.id;
        return JSON.stringify(o);
      } catch {
        return l; // the fixture's deliberately broken lines stay broken
      }
    });

  function replay(copies: number, maxEventIds?: number) {
    const ingestor = createIngestor({ fingerprintSecret: Buffer.from('dedup-test-secret-0123456789abcdef'), routePolicy: compileRoutePolicy({ routes: [] }), inputFormat: 'auto', maxLineBytes: 65536 });
    const engine = createEngine(ruleset, { allowedLatenessMs: 30_000, maxGroupKeys: 100_000, ...(maxEventIds === undefined ? {} : { maxEventIds }) });
    const alerts: Alert[] = [];
    const r = new Replay({ ingestor, engine, emit: (a) => alerts.push(a) });
    for (let c = 0; c < copies; c++) for (let i = 0; i < lines.length; i += 500) r.ingestLines(lines.slice(i, i + 500), { source: 'file', name: `copy-${c}` }, i + 1);
    r.finish();
    return { alerts: alerts.map((a) => ({ id: a.id, rule: a.rule.id, count: a.count, first: a.first_seen, last: a.last_seen })).sort((a, b) => (a.id < b.id ? -1 : 1)), stats: engine.stats() };
  }

  it('gives the same alerts twice as once (shipped pack, content-derived ids)', () => {
    expect(errors).toEqual([]);
    const once = replay(1);
    expect(once.alerts.length).toBeGreaterThan(5);
    const twice = replay(2);
    expect(twice.alerts).toEqual(once.alerts);
    expect(twice.stats.duplicateEvents).toBeGreaterThan(1000);
    // and the check has teeth: without de-duplication the second copy changes the alerts
    expect(replay(2, 0).alerts).not.toEqual(once.alerts);
  });
});
