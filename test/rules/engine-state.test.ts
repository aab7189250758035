// Event time, lateness, bounded state, snapshot/restore and hot reload.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Alert } from '../../src/alerts/alert.js';
import type { AwEvent } from '../../src/events/event.js';
import { createEngine } from '../../src/rules/engine.js';
import { compileOk, ev, OPTS, runEngine, seededTraffic, STATE_RULES } from './helpers.js';

const S = 1000;
const rs = () => compileOk(STATE_RULES).ruleset;

const stream = seededTraffic;

describe('event time and lateness', () => {
  it('any arrival order within the allowed lateness gives the same alerts as time order', () => {
    const lateness = 10 * S;
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1e9 }), fc.array(fc.double({ min: 0, max: 0.999, noNaN: true }), { minLength: 120, maxLength: 120 }), (seed, jitter) => {
        const events = stream(120, seed);
        const inOrder = runEngine(createEngine(rs(), { ...OPTS, allowedLatenessMs: lateness }), events);
        // arrival key t + j with j < lateness: no event arrives after the watermark passed it
        const shuffled = events
          .map((e, i) => ({ e, k: Date.parse(e.time) + jitter[i] * lateness }))
          .sort((a, b) => a.k - b.k)
          .map((x) => x.e);
        const engine = createEngine(rs(), { ...OPTS, allowedLatenessMs: lateness });
        const outOfOrder = runEngine(engine, shuffled);
        expect(engine.stats().lateEvents).toBe(0);
        expect(outOfOrder).toEqual(inOrder);
        expect(inOrder.length).toBeGreaterThan(0);
      }),
      { numRuns: 40 },
    );
  });

  it('events are held until the watermark passes them; advanceTo releases them', () => {
    const e = createEngine(rs(), { ...OPTS, allowedLatenessMs: 30 * S });
    const r = (ms: number) => ev(ms, { auth: { result: 'revoked' }, source: { ip: '1.1.1.1' } });
    e.push(r(0));
    expect(e.drainAlerts()).toEqual([]);
    expect(e.stats().buffered).toBe(1);
    e.advanceTo(Date.parse(r(29 * S).time));
    expect(e.drainAlerts()).toEqual([]);
    e.advanceTo(Date.parse(r(30 * S).time));
    expect(e.drainAlerts()).toHaveLength(1);
    expect(e.stats().buffered).toBe(0);
  });

  it('an event older than the watermark is counted late and still evaluated', () => {
    const e = createEngine(rs(), { ...OPTS, allowedLatenessMs: 0 });
    const r = (ms: number, ip: string) => ev(ms, { auth: { result: 'revoked' }, source: { ip } });
    e.push(r(10 * S, 'a'));
    e.push(r(5 * S, 'b'));
    e.flush();
    expect(e.stats().lateEvents).toBe(1);
    expect(e.drainAlerts().map((a) => a.group['source.ip']).sort()).toEqual(['a', 'b']);
  });
});

describe('bounded state', () => {
  it('caps group keys, evicting the least recently updated, and counts evictions', () => {
    const e = createEngine(rs(), { allowedLatenessMs: 0, maxGroupKeys: 100 });
    for (let i = 0; i < 250; i++) e.push(ev(i, { http: { status: 401, route: '/x' }, source: { ip: `198.51.100.${i}` } }));
    e.flush();
    const st = e.stats();
    expect(st.groupKeys).toBe(100);
    // 250 burst keys + 1 spread key under a cap of 100
    expect(st.evictions.capacity).toBe(151);
    // the most recent key survived: two more events from it complete a burst
    e.push(ev(300, { http: { status: 401 }, source: { ip: '198.51.100.249' } }));
    e.push(ev(301, { http: { status: 401 }, source: { ip: '198.51.100.249' } }));
    e.flush();
    expect(e.drainAlerts().map((a) => a.rule.id)).toContain('burst');
  });

  it('caps open suppression windows too', () => {
    const e = createEngine(rs(), { allowedLatenessMs: 0, maxGroupKeys: 100 });
    for (let i = 0; i < 150; i++) e.push(ev(i, { auth: { result: 'revoked' }, source: { ip: `203.0.113.${i}` } }));
    e.flush();
    expect(e.drainAlerts()).toHaveLength(150);
    expect(e.stats()).toMatchObject({ openAlerts: 100, evictions: { capacity: 50 } });
  });

  it('windows expire as event time moves on', () => {
    const e = createEngine(rs(), { allowedLatenessMs: 0, maxGroupKeys: 1000 });
    for (let i = 0; i < 10; i++) e.push(ev(i, { http: { status: 401, route: '/x' }, source: { ip: `ip${i}` } }));
    expect(e.stats().groupKeys).toBe(11);
    e.push(ev(25 * S, { http: { status: 200 } }));
    expect(e.stats()).toMatchObject({ groupKeys: 1, evictions: { expired: 10, capacity: 0 } });
    e.push(ev(31 * S, { http: { status: 200 } }));
    expect(e.stats()).toMatchObject({ groupKeys: 0, evictions: { expired: 11 } });
  });
});

describe('snapshot / restore', () => {
  const sortById = (xs: Alert[]) => [...xs].sort((x, y) => (x.id < y.id ? -1 : 1));

  it('restoring mid-stream (through JSON) gives identical final alerts', () => {
    const events = stream(400, 7);
    const whole = runEngine(createEngine(rs(), OPTS), events);
    expect(whole.length).toBeGreaterThan(3);
    for (const cut of [1, 137, 250, 399]) {
      const a = createEngine(rs(), OPTS);
      const byId = new Map<string, Alert>();
      for (const x of events.slice(0, cut)) {
        a.push(x);
        for (const al of a.drainAlerts()) byId.set(al.id, al);
      }
      const snap = JSON.parse(JSON.stringify(a.snapshot()));
      const b = createEngine(rs(), OPTS);
      b.restore(snap);
      expect(b.stats()).toEqual(a.stats());
      for (const al of runEngine(b, events.slice(cut))) byId.set(al.id, al);
      expect(sortById([...byId.values()])).toEqual(whole);
    }
  });

  it('refuses a snapshot from another rule set', () => {
    const other = compileOk(STATE_RULES.replace('gte: 3', 'gte: 4')).ruleset;
    const snap = createEngine(rs(), OPTS).snapshot();
    expect(() => createEngine(other, OPTS).restore(snap)).toThrow(/different rule set/);
  });

  it('hot reload keeps window state of unchanged rules only', () => {
    const old = createEngine(rs(), { ...OPTS, allowedLatenessMs: 0 });
    const e401 = (ms: number, ip = '1.1.1.1', route = '/x') => ev(ms, { http: { status: 401, route }, source: { ip } });
    old.push(e401(0));
    old.push(e401(1, '2.2.2.2', '/y'));
    old.push(e401(2));
    const changed = compileOk(STATE_RULES.replace('condition: {field: source.ip, gte: 2}', 'condition: {field: source.ip, gte: 3}')).ruleset;
    const next = createEngine(changed, { ...OPTS, allowedLatenessMs: 0 }, old);
    next.push(e401(3));
    next.push(e401(4, '3.3.3.3', '/x'));
    next.push(e401(5, '4.4.4.4', '/x'));
    next.flush();
    const alerts = next.drainAlerts();
    // burst kept its two earlier events (the third completes it, count 3, then 3.3.3.3/4.4.4.4 are other keys);
    // spread restarted empty: 1.1.1.1 (t=3), 3.3.3.3, 4.4.4.4 → 3 distinct IPs on /x
    expect(alerts.map((a) => [a.rule.id, a.count]).sort()).toEqual([['burst', 3], ['spread', 3]]);
  });
});
