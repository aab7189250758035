// The detection index (rules looked up by a constant field value) must never change results:
// the engine's match counts equal a brute-force evaluation of every rule on every event.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AwEvent } from '../../src/events/event.js';
import { createEngine } from '../../src/rules/engine.js';
import type { CompiledDetection } from '../../src/rules/rule-compiler.js';
import { compileOk, OPTS } from './helpers.js';

const rule = (id: string, det: string) => `title: ${id}\nid: ${id}\ndescription: d\nlevel: low\ndetection:\n${det.replace(/^/gm, '  ')}\n`;
const RULES = [
  rule('eq-result', 'sel:\n  auth.result: Revoked\ncondition: sel'),
  rule('or-fields', 'a:\n  auth.result: alg_not_allowed\nb:\n  token.alg: none\ncondition: a or b'),
  rule('list-of-maps', 'sel:\n  - auth.result: expired\n  - http.status: 401\ncondition: sel'),
  rule('number', 'sel:\n  http.status: [401, 403]\ncondition: sel'),
  rule('and-not', 'sel:\n  auth.result: ok\nf:\n  http.status: 200\ncondition: sel and not f'),
  rule('not-only', 'f:\n  auth.result: ok\ncondition: not f'),
  rule('array', 'sel:\n  token.scopes: ADMIN\ncondition: sel'),
  rule('cased', 'sel:\n  token.alg|cased: RS256\ncondition: sel'),
  rule('bool', 'sel:\n  redaction.applied: true\ncondition: sel'),
  rule('keywords', "kw:\n  - '*evil*'\ncondition: kw"),
  rule('wild', "sel:\n  auth.result: 'un*'\ncondition: sel"),
  rule('them', 'a:\n  auth.result: expired\nb:\n  auth.result: revoked\ncondition: 1 of them'),
  rule('all-of', 'a:\n  auth.result: expired\nb:\n  http.status: 401\ncondition: all of them'),
].join('---\n');

const eventArb = fc.record({
  result: fc.constantFrom('ok', 'OK', 'revoked', 'REVOKED', 'expired', 'alg_not_allowed', 'unknown_kid', 'unk'),
  status: fc.constantFrom(200, 401, '401', 403, 500, undefined),
  alg: fc.constantFrom('none', 'NONE', 'RS256', 'rs256', undefined),
  scopes: fc.option(fc.array(fc.constantFrom('read', 'admin', 'Admin', 'write'), { maxLength: 3 })),
  applied: fc.constantFrom(true, false, 'true', undefined),
  detail: fc.constantFrom('fine', 'very EVIL stuff', undefined),
});

describe('detection index', () => {
  it('gives the same matches as evaluating every rule', () => {
    const { ruleset } = compileOk(RULES);
    const dets = ruleset.rules.filter((r): r is CompiledDetection => r.kind === 'detection');
    expect(dets.filter((d) => d.eq !== null).length).toBeGreaterThanOrEqual(8);
    fc.assert(
      fc.property(fc.array(eventArb, { minLength: 1, maxLength: 60 }), (xs) => {
        const events = xs.map((x, i) => ({
          id: `e${i}`, time: new Date(Date.UTC(2026, 0, 1) + i).toISOString(), observer: { type: 'gateway', name: 'g' },
          auth: { result: x.result, ...(x.detail ? { detail: x.detail } : {}) },
          ...(x.status !== undefined ? { http: { status: x.status } } : {}),
          token: { ...(x.alg ? { alg: x.alg } : {}), ...(x.scopes ? { scopes: x.scopes } : {}) },
          ...(x.applied !== undefined ? { redaction: { applied: x.applied } } : {}),
        })) as unknown as AwEvent[];
        const engine = createEngine(ruleset, OPTS);
        for (const e of events) engine.push(e);
        engine.flush();
        const got = engine.stats().matchesByRule;
        for (const d of dets) expect(got[d.info.name], d.info.name).toBe(events.filter((e) => d.match(e)).length);
      }),
      { numRuns: 60 },
    );
  });
});
