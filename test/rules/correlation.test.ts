// Correlation semantics (Sigma correlation spec v2) at window edges, suppression, filters and
// the authwatch extensions. Windows are (t - timespan, t] on event time.
import { describe, expect, it } from 'vitest';
import { alertId, EVIDENCE_MAX_IDS, EVIDENCE_MAX_SAMPLES } from '../../src/alerts/alert.js';
import { createEngine } from '../../src/rules/engine.js';
import { compileOk, ev, OPTS, run, runEngine, T0 } from './helpers.js';

const iso = (ms: number) => new Date(T0 + ms).toISOString();
const S = 1000;

const base401 = `title: 401
id: base-401
name: http-401
description: d
level: low
detection:
  sel:
    http.status: 401
  condition: sel
`;
const burst = (extra = '', cond = 'gte: 3') => `${base401}---
title: 401 burst
id: burst-id
name: burst
description: d
level: high
correlation:
  type: event_count
  rules: [http-401]
  group-by: [source.ip]
  timespan: 60s
  condition: {${cond}}
${extra}`;
const e401 = (ms: number, ip = '203.0.113.7', extra: Record<string, unknown> = {}) => ev(ms, { http: { status: 401 }, source: { ip }, ...extra });

describe('event_count', () => {
  it('fires exactly at the threshold, with rule, group, count, times and id', () => {
    const alerts = run(burst(), [e401(0), e401(10 * S), e401(20 * S)]);
    expect(alerts).toHaveLength(1);
    const a = alerts[0];
    expect(a).toMatchObject({
      rule: { id: 'burst-id', name: 'burst', title: '401 burst', level: 'high' },
      group: { 'source.ip': '203.0.113.7' },
      count: 3,
      first_seen: iso(0),
      last_seen: iso(20 * S),
      status: 'open',
    });
    expect(a.id).toBe(alertId('burst-id', { 'source.ip': '203.0.113.7' }, iso(20 * S)));
    expect(a.evidence.event_ids).toHaveLength(3);
  });

  it('one below the threshold does not fire', () => {
    expect(run(burst(), [e401(0), e401(10 * S)])).toEqual([]);
  });

  it('an event exactly timespan after the first is outside its window', () => {
    expect(run(burst(), [e401(0), e401(30 * S), e401(60 * S)])).toEqual([]);
    expect(run(burst(), [e401(0), e401(30 * S), e401(60 * S - 1)])).toHaveLength(1);
  });

  it('groups by key; a missing group-by field groups as null', () => {
    const alerts = run(burst(), [
      e401(0, 'a'), e401(1, 'a'), e401(2, 'b'), e401(3, 'b'), e401(4, 'b'),
      ev(5, { http: { status: 401 } }), ev(6, { http: { status: 401 } }), ev(7, { http: { status: 401 } }),
    ]);
    expect(alerts.map((a) => a.group['source.ip']).sort()).toEqual(['b', null]);
  });

  it('ranges in the condition (gte and lte)', () => {
    const r = burst('', 'gte: 2, lte: 3');
    expect(run(r, [e401(0), e401(1)])).toHaveLength(1);
    expect(run(burst('', 'gt: 2'), [e401(0), e401(1)])).toEqual([]);
    expect(run(burst('', 'eq: 2'), [e401(0), e401(1)])).toHaveLength(1);
  });

  it('base rules of a correlation do not alert on their own unless generate: true', () => {
    const silent = run(burst(), [e401(0), e401(1), e401(2)]);
    expect(silent.map((a) => a.rule.name)).toEqual(['burst']);
    const gen = run(burst().replace('timespan: 60s', 'timespan: 60s\n  generate: true'), [e401(0), e401(1), e401(2)]);
    expect(gen.map((a) => a.rule.name).sort()).toEqual(['burst', 'http-401']);
    expect(gen.find((a) => a.rule.name === 'http-401')!.count).toBe(3);
  });
});

describe('suppression', () => {
  it('one alert per group per suppression window; count and last_seen grow; a new window opens after it', () => {
    // fires at 20s (window [20s, 80s)); 30s grows it; at 86s the count is 3 again → second alert
    const alerts = run(burst(), [e401(0), e401(10 * S), e401(20 * S), e401(30 * S), e401(85 * S), e401(86 * S), e401(87 * S)]);
    expect(alerts).toHaveLength(2);
    const [first, second] = [...alerts].sort((a, b) => a.first_seen.localeCompare(b.first_seen));
    expect(first).toMatchObject({ count: 4, first_seen: iso(0), last_seen: iso(30 * S) });
    expect(first.id).toBe(alertId('burst-id', { 'source.ip': '203.0.113.7' }, iso(20 * S)));
    expect(second).toMatchObject({ count: 4, first_seen: iso(30 * S), last_seen: iso(87 * S) });
    expect(second.id).toBe(alertId('burst-id', { 'source.ip': '203.0.113.7' }, iso(86 * S)));
  });

  it('authwatch.suppress overrides the default (timespan)', () => {
    const r = burst('authwatch:\n  suppress: 10m\n');
    const alerts = run(r, [e401(0), e401(10 * S), e401(20 * S), e401(85 * S), e401(86 * S), e401(87 * S)]);
    expect(alerts).toHaveLength(1);
    expect(alerts[0].count).toBe(6);
  });

  it('single-event rules: group_by, default 10m suppression, responses proposed', () => {
    const rule = `title: Revoked token reuse
id: rtr
name: revoked-token-reuse
description: d
level: critical
detection:
  sel:
    auth.result: revoked
  condition: sel
authwatch:
  group_by: [token.fp]
  response:
    - action: revoke_token
      ttl: 24h
      approval: auto
`;
    const r = (ms: number, fp?: string) => ev(ms, { auth: { result: 'revoked' }, ...(fp ? { token: { fp } } : {}) });
    const alerts = run(rule, [r(0, 'tfp_a'), r(60 * S, 'tfp_a'), r(2 * 60 * S, 'tfp_b'), r(9 * 60 * S, 'tfp_a'), r(10 * 60 * S, 'tfp_a'), r(11 * 60 * S), ev(12 * 60 * S)]);
    const key = (a: (typeof alerts)[number]) => `${a.group['token.fp']}@${a.first_seen}:${a.count}`;
    expect(alerts.map(key).sort()).toEqual([`null@${iso(11 * 60 * S)}:1`, `tfp_a@${iso(0)}:3`, `tfp_a@${iso(10 * 60 * S)}:1`, `tfp_b@${iso(2 * 60 * S)}:1`].sort());
    expect(alerts[0].proposed).toEqual([{ action: 'revoke_token', ttl: '24h', approval: 'auto' }]);
    expect(alerts[0].rule).toEqual({ id: 'rtr', name: 'revoked-token-reuse', title: 'Revoked token reuse', level: 'critical' });
  });

  it('evidence is capped', () => {
    const rule = 'title: t\nid: any\ndescription: d\nlevel: low\ndetection:\n  sel:\n    http.status: 401\n  condition: sel\n';
    const events = Array.from({ length: 150 }, (_, i) => e401(i));
    const [a] = run(rule, events);
    expect(a.count).toBe(150);
    expect(a.evidence.event_ids).toHaveLength(EVIDENCE_MAX_IDS);
    expect(a.evidence.event_ids[0]).toBe(events[0].id);
    expect(a.evidence.samples).toHaveLength(EVIDENCE_MAX_SAMPLES);
    expect(a.evidence.samples[0]).toEqual(events[0]);
  });
});

describe('value_count', () => {
  const rule = `title: scope
id: scope
name: scope
description: d
level: low
detection:
  sel:
    auth.result: insufficient_scope
  condition: sel
---
title: probing
id: probing
description: d
level: high
correlation:
  type: value_count
  rules: [scope]
  group-by: [token.client_id]
  timespan: 10m
  condition:
    field: http.route
    gte: 3
`;
  const s = (ms: number, route: string, client = 'c1') => ev(ms, { auth: { result: 'insufficient_scope' }, http: { route }, token: { client_id: client } });

  it('counts distinct values; repeats do not count; the alert count is events', () => {
    expect(run(rule, [s(0, '/a'), s(1, '/a'), s(2, '/b'), s(3, '/b'), s(4, '/a')])).toEqual([]);
    const alerts = run(rule, [s(0, '/a'), s(1, '/a'), s(2, '/b'), s(3, '/c')]);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ group: { 'token.client_id': 'c1' }, count: 4 });
  });

  it('values leave the window with their events', () => {
    expect(run(rule, [s(0, '/a'), s(5 * 60 * S, '/b'), s(10 * 60 * S, '/c')])).toEqual([]);
    expect(run(rule, [s(0, '/a'), s(5 * 60 * S, '/b'), s(10 * 60 * S - 1, '/c')])).toHaveLength(1);
  });

  it('distinct values per group', () => {
    expect(run(rule, [s(0, '/a', 'x'), s(1, '/b', 'y'), s(2, '/c', 'z')])).toEqual([]);
  });
});

const temporalRules = (type: string, extraCorr = '', fieldB = 'source.ip') => `title: A
id: rule-a
name: rule-a
description: d
level: low
detection:
  sel:
    auth.result: bad_signature
  condition: sel
---
title: B
id: rule-b
name: rule-b
description: d
level: low
detection:
  sel:
    auth.result: ok
    http.route: /admin
  condition: sel
---
title: seq
id: seq
description: d
level: high
correlation:
  type: ${type}
  rules: [rule-a, rule-b]
  group-by: [${fieldB === 'source.ip' ? 'source.ip' : 'ip'}]
  timespan: 10s
${extraCorr}`;
const A = (ms: number, ip = '1.1.1.1') => ev(ms, { auth: { result: 'bad_signature' }, source: { ip } });
const B = (ms: number, ip = '1.1.1.1', field = 'source') => ev(ms, { auth: { result: 'ok' }, http: { route: '/admin' }, [field]: { ip } });

describe('temporal', () => {
  it('all rules within the timespan, in any order', () => {
    expect(run(temporalRules('temporal'), [A(0), B(5 * S)])).toHaveLength(1);
    expect(run(temporalRules('temporal'), [B(0), A(5 * S)])).toHaveLength(1);
    expect(run(temporalRules('temporal'), [A(0), B(10 * S)])).toEqual([]);
    expect(run(temporalRules('temporal'), [A(0), A(1), B(5 * S, '2.2.2.2')])).toEqual([]);
    const [a] = run(temporalRules('temporal'), [A(0), A(1 * S), B(5 * S)]);
    expect(a.count).toBe(3);
  });

  it('temporal_ordered requires the listed order', () => {
    expect(run(temporalRules('temporal_ordered'), [A(0), B(5 * S)])).toHaveLength(1);
    expect(run(temporalRules('temporal_ordered'), [B(0), A(5 * S)])).toEqual([]);
    expect(run(temporalRules('temporal_ordered'), [B(0), A(1 * S), B(5 * S)])).toHaveLength(1);
    expect(run(temporalRules('temporal_ordered'), [A(0), B(10 * S)])).toEqual([]);
  });

  it('temporal_ordered: a later step with no earlier one holds no window; sequences still fire, counting their own events', () => {
    const engine = createEngine(compileOk(temporalRules('temporal_ordered')).ruleset, OPTS);
    // ordinary successes from 1,000 addresses: nothing to follow, so no group key is held for them
    expect(runEngine(engine, Array.from({ length: 1000 }, (_, i) => B(i, `10.9.${i >> 8}.${i & 255}`)))).toEqual([]);
    expect(engine.stats().groupKeys).toBe(0);
    const [a] = run(temporalRules('temporal_ordered'), [B(0), A(1 * S), B(5 * S)]);
    expect(a.count).toBe(2); // the success before the failure is not part of the sequence
    expect(a.evidence.event_ids).toHaveLength(2);
  });

  it('aliases map one group-by name to a different field per rule', () => {
    const r = temporalRules('temporal', '  aliases:\n    ip:\n      rule-a: source.ip\n      rule-b: client.ip\n', 'alias');
    const alerts = run(r, [A(0, '9.9.9.9'), B(2 * S, '9.9.9.9', 'client')]);
    expect(alerts).toHaveLength(1);
    expect(alerts[0].group).toEqual({ ip: '9.9.9.9' });
    expect(run(r, [A(0, '9.9.9.9'), B(2 * S, '8.8.8.8', 'client')])).toEqual([]);
  });
});

describe('chained correlations', () => {
  it('a correlation can count the alerts of another (one per suppression window)', () => {
    const chained = `${burst('', 'gte: 2')}---
title: repeated bursts
id: repeat
description: d
level: critical
correlation:
  type: event_count
  rules: [burst]
  group-by: [source.ip]
  timespan: 10m
  condition: {gte: 2}
`;
    // first burst fires at 1s (suppressed until 61s), second at 71s
    const events = [e401(0), e401(1 * S), e401(2 * S), e401(70 * S), e401(71 * S)];
    const alerts = run(chained, events);
    expect(alerts.map((a) => a.rule.id)).toEqual(['repeat']);
    expect(alerts[0].group).toEqual({ 'source.ip': '203.0.113.7' });
    expect(run(chained, events.slice(0, 3))).toEqual([]);
  });
});

describe('filters', () => {
  const filter = (rules: string, cond = 'not internal') => `---
title: internal networks
id: flt
filter:
  rules: ${rules}
  internal:
    source.ip|cidr: 10.0.0.0/8
  condition: ${cond}
`;
  it('a filter condition is ANDed to the rule (exclusions use "not selection")', () => {
    const r = burst() + filter('[base-401]');
    expect(run(r, [e401(0, '10.1.1.1'), e401(1, '10.1.1.1'), e401(2, '10.1.1.1')])).toEqual([]);
    expect(run(r, [e401(0, '8.8.8.8'), e401(1, '8.8.8.8'), e401(2, '8.8.8.8')])).toHaveLength(1);
  });

  it('rules may be named by name; "any" applies to every detection rule', () => {
    expect(run(burst() + filter('[http-401]'), [e401(0, '10.1.1.1'), e401(1, '10.1.1.1'), e401(2, '10.1.1.1')])).toEqual([]);
    expect(run(burst() + filter('any'), [e401(0, '10.1.1.1'), e401(1, '10.1.1.1'), e401(2, '10.1.1.1')])).toEqual([]);
  });
});
