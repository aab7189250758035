// Small builders for rule-engine tests: inline YAML rules, events, and a runner that returns
// the final state of each alert.
import type { Alert } from '../../src/alerts/alert.js';
import type { AwEvent } from '../../src/events/event.js';
import { createEngine } from '../../src/rules/engine.js';
import { compileRuleSet, type CompileResult, type CompiledDetection } from '../../src/rules/rule-compiler.js';
import type { EngineOptions, RuleEngine } from '../../src/rules/types.js';

export const T0 = Date.parse('2026-01-01T00:00:00.000Z');

let seq = 0;
/** An event at T0 + offset ms (ids sort in creation order unless given). */
export function ev(offsetMs: number, fields: Record<string, unknown> = {}): AwEvent {
  seq++;
  return {
    id: `ev-${String(seq).padStart(6, '0')}`,
    time: new Date(T0 + offsetMs).toISOString(),
    observer: { type: 'gateway', name: 'edge-1' },
    auth: { result: 'ok' },
    ...fields,
  } as AwEvent;
}

export function compile(text: string, opts = {}): CompileResult {
  return compileRuleSet([{ file: 'test.yml', text }], opts);
}

export function compileOk(text: string, opts = {}): CompileResult {
  const r = compile(text, opts);
  if (r.errors.length) throw new Error('unexpected load errors: ' + JSON.stringify(r.errors));
  return r;
}

/** A detection rule around the given `detection:` body (indented YAML). */
export function detectionRule(body: string, extra = ''): string {
  return `title: t\nid: rule-under-test\nlevel: high\ndescription: d\ndetection:\n${body
    .split('\n')
    .map((l) => '  ' + l)
    .join('\n')}\n${extra}`;
}

/** A matcher for one detection body, for modifier/condition conformance tests. */
export function matcher(body: string): (e: Record<string, unknown>) => boolean {
  const r = compileOk(detectionRule(body));
  const d = r.ruleset.rules[0] as CompiledDetection;
  return (e) => d.match(e);
}

export const OPTS: EngineOptions = { allowedLatenessMs: 30_000, maxGroupKeys: 10_000 };

/** Push events, flush, and return the latest state of every alert, sorted by id. */
export function runEngine(engine: RuleEngine, events: AwEvent[]): Alert[] {
  const byId = new Map<string, Alert>();
  for (const e of events) {
    engine.push(e);
    for (const a of engine.drainAlerts()) byId.set(a.id, a);
  }
  engine.flush();
  for (const a of engine.drainAlerts()) byId.set(a.id, a);
  return [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
}

export function run(text: string, events: AwEvent[], opts: Partial<EngineOptions> = {}): Alert[] {
  const r = compileOk(text, { includeExperimental: true });
  return runEngine(createEngine(r.ruleset, { ...OPTS, ...opts }), events);
}

/** A small pack shared by the engine-state and de-duplication tests: a 401 base rule, an
 * event_count burst by source.ip, a value_count spread by route, and a suppressed single-event rule. */
export const STATE_RULES = `title: 401
id: base-401
name: http-401
description: d
level: low
detection:
  sel:
    http.status: 401
  condition: sel
---
title: burst
id: burst
description: d
level: high
correlation:
  type: event_count
  rules: [http-401]
  group-by: [source.ip]
  timespan: 20s
  condition: {gte: 3}
---
title: spread
id: spread
description: d
level: high
correlation:
  type: value_count
  rules: [http-401]
  group-by: [http.route]
  timespan: 30s
  condition: {field: source.ip, gte: 2}
---
title: revoked
id: revoked
description: d
level: high
detection:
  sel:
    auth.result: revoked
  condition: sel
authwatch:
  group_by: [source.ip]
  suppress: 15s
`;

/**
 * Deterministic pseudo-random traffic over four IPs and three routes (60% 401s, 10% revoked),
 * one event every 0–3 s; `disorderMs` moves each event back by up to that much (arrival out of
 * time order, within the lateness).
 */
export function seededTraffic(n: number, seed: number, disorderMs = 0): AwEvent[] {
  let x = seed >>> 0 || 1;
  const rnd = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const out: AwEvent[] = [];
  let t = 0;
  for (let i = 0; i < n; i++) {
    t += Math.floor(rnd() * 3000);
    const at = disorderMs > 0 ? Math.max(0, t - Math.floor(rnd() * disorderMs)) : t;
    const ip = `10.0.0.${Math.floor(rnd() * 4)}`;
    const r = rnd();
    out.push(ev(at, { source: { ip }, http: { status: r < 0.6 ? 401 : 200, route: `/r${Math.floor(rnd() * 3)}` }, auth: { result: r > 0.9 ? 'revoked' : 'ok' } }));
  }
  return out;
}
