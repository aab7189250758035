// Copies of a rule (same detection, or same correlation window with another threshold) share
// matching and window state inside the engine; that must be invisible: the same alerts as each
// rule set run on its own, and snapshots (v2 stores a shared window once; v1 still loads).
import { describe, expect, it } from 'vitest';
import type { Alert } from '../../src/alerts/alert.js';
import type { AwEvent } from '../../src/events/event.js';
import { createEngine, type EngineState } from '../../src/rules/engine.js';
import { compileOk, ev, OPTS, runEngine, seededTraffic, STATE_RULES } from './helpers.js';

const S = 1000;

/** The state-test pack again under other ids/names and thresholds (what people do with real packs). */
function copyOf(text: string, suffix: string, thresholds: [number, number]): string {
  return text
    .replace(/^(id|name): (.*)$/gm, `$1: $2${suffix}`)
    .replace('rules: [http-401]', `rules: [http-401${suffix}]`)
    .replace('rules: [http-401]', `rules: [http-401${suffix}]`)
    .replace('gte: 3}', `gte: ${thresholds[0]}}`)
    .replace('gte: 2}', `gte: ${thresholds[1]}}`);
}

const COPY_A = copyOf(STATE_RULES, '-a', [4, 2]);
const COPY_B = copyOf(STATE_RULES, '-b', [3, 3]);
const PACK = [STATE_RULES, COPY_A, COPY_B].join('---\n');

const stream = (n: number, seed: number): AwEvent[] => seededTraffic(n, seed, 5 * S);

const sortById = (xs: Alert[]) => [...xs].sort((x, y) => (x.id < y.id ? -1 : 1));
const alone = (text: string, events: AwEvent[]) => runEngine(createEngine(compileOk(text).ruleset, OPTS), events);

describe('rules that are copies share work', () => {
  it('gives the same alerts as each copy running alone, and holds one window state for the copies', () => {
    const events = stream(500, 11);
    const engine = createEngine(compileOk(PACK).ruleset, OPTS);
    const together = runEngine(engine, events);
    const separately = sortById([STATE_RULES, COPY_A, COPY_B].flatMap((t) => alone(t, events)));
    expect(separately.length).toBeGreaterThan(10);
    // the thresholds differ, so the copies' alerts differ
    expect(new Set(separately.map((a) => `${a.rule.name.replace(/-[ab]$/, '')}:${a.count}`)).size).toBeGreaterThan(3);
    expect(together).toEqual(separately);

    const single = createEngine(compileOk(STATE_RULES).ruleset, OPTS);
    runEngine(single, events);
    expect(engine.stats().groupKeys).toBe(single.stats().groupKeys);
    const m = engine.stats().matchesByRule;
    expect(m['http-401-a']).toBe(m['http-401']);
    expect(m['burst-b']).toBeGreaterThan(0);
  });

  it('restores mid-stream from a v2 snapshot (shared windows stored once) and from a v1-shaped one', () => {
    const rs = () => compileOk(PACK).ruleset;
    const events = stream(400, 5);
    const whole = runEngine(createEngine(rs(), OPTS), events);
    for (const cut of [120, 300]) {
      const a = createEngine(rs(), OPTS);
      const byId = new Map<string, Alert>();
      for (const x of events.slice(0, cut)) {
        a.push(x);
        for (const al of a.drainAlerts()) byId.set(al.id, al);
      }
      const snap = JSON.parse(JSON.stringify(a.snapshot())) as { rulesetHash: string; state: EngineState };
      expect(snap.state.v).toBe(2);
      const sharer = snap.state.rules.find((r) => r.id === 'burst-a')!;
      expect(sharer.windowsOf).toBe('burst');
      expect(sharer.windows).toEqual([]);
      expect(snap.state.rules.find((r) => r.id === 'burst')!.windows.length).toBeGreaterThan(0);

      // v1: every correlation carried its own copy of its windows
      const v1 = structuredClone(snap);
      v1.state.v = 1;
      for (const r of v1.state.rules) {
        if (r.windowsOf === undefined) continue;
        r.windows = structuredClone(v1.state.rules.find((x) => x.id === r.windowsOf)!.windows);
        delete r.windowsOf;
      }
      for (const s of [snap, v1]) {
        const b = createEngine(rs(), OPTS);
        b.restore(s);
        expect(b.stats()).toEqual(a.stats());
        const got = new Map(byId);
        for (const al of runEngine(b, events.slice(cut))) got.set(al.id, al);
        expect(sortById([...got.values()])).toEqual(whole);
      }
    }
  });

  it('does not share a window between correlations whose sources are different matches', () => {
    const other = STATE_RULES.replace('http.status: 401', 'http.status: 403');
    const pack = [STATE_RULES, copyOf(other, '-x', [3, 2])].join('---\n');
    const events = stream(300, 3).map((e, i) => (i % 2 ? e : { ...e, http: { ...(e as { http: object }).http, status: 403 } }) as AwEvent);
    const together = runEngine(createEngine(compileOk(pack).ruleset, OPTS), events);
    expect(together).toEqual(sortById([...alone(STATE_RULES, events), ...alone(copyOf(other, '-x', [3, 2]), events)]));
    expect(together.some((a) => a.rule.name === 'burst-x')).toBe(true);
  });
});
