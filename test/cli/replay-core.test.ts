// The replay core (src/replay.ts) with the real ingestor and engine: alerts are written once,
// as soon as the watermark closes their suppression window, not only at the end of input.
import { describe, it, expect } from 'vitest';
import { resolve } from 'node:path';
import type { Alert } from '../../src/alerts/alert.js';
import { createIngestor } from '../../src/events/ingestor.js';
import { compileRoutePolicy } from '../../src/events/route-policy.js';
import { loadRuleSet } from '../../src/rules/rule-loader.js';
import { createEngine } from '../../src/rules/engine.js';
import { Replay, formatSummary } from '../../src/replay.js';

const RULES = resolve(import.meta.dirname, '..', '..', 'rules');
const T0 = Date.parse('2026-05-01T12:00:00.000Z');

function setup() {
  const { ruleset, errors } = loadRuleSet(RULES, { includeExperimental: true });
  expect(errors).toEqual([]);
  const ingestor = createIngestor({ fingerprintSecret: Buffer.from('replay-core-test-secret-0123456789'), routePolicy: compileRoutePolicy({ routes: [] }), inputFormat: 'auto', maxLineBytes: 65536 });
  const engine = createEngine(ruleset, { allowedLatenessMs: 30_000, maxGroupKeys: 100_000 });
  const emitted: { alert: Alert; atBatch: number }[] = [];
  let batch = 0;
  const replay = new Replay({ ingestor, engine, emit: (alert) => emitted.push({ alert, atBatch: batch }) });
  const feed = (lines: string[]) => {
    batch++;
    replay.ingestLines(lines, { source: 'file', name: 'mem' }, 1);
  };
  return { replay, emitted, feed, batch: () => batch };
}
const revoked = (sec: number, fp: string) => JSON.stringify({
  time: new Date(T0 + sec * 1000).toISOString(), observer: { type: 'gateway', name: 'edge-1' },
  source: { ip: '203.0.113.5' }, http: { method: 'GET', route: '/api/v1/me', status: 401 }, auth: { result: 'revoked' },
  token: { fp },
});
const FP_A = 'tfp_AAAAAAAAAAAAAAAAAAAAAA';
const FP_B = 'tfp_BBBBBBBBBBBBBBBBBBBBBB';

describe('Replay', () => {
  it('writes an alert once its suppression window is behind the watermark, before the input ends', () => {
    const { replay, emitted, feed } = setup();
    feed([revoked(0, FP_A), revoked(60, FP_A)]);
    expect(emitted).toHaveLength(0); // its window (10 m) is still open: the count may grow
    feed([revoked(700, FP_B)]); // watermark 670 s > last_seen 60 s + 10 m suppression: A is final
    expect(emitted.map((e) => [e.alert.group['token.fp'], e.alert.count, e.atBatch])).toEqual([[FP_A, 2, 2]]);
    feed([revoked(1000, FP_B)]); // B's window is still open (700 + 600 > 970)
    expect(emitted).toHaveLength(1);
    const summary = replay.finish();
    expect(emitted.map((e) => e.alert.group['token.fp']).sort()).toEqual([FP_A, FP_B]);
    expect(emitted.find((e) => e.alert.group['token.fp'] === FP_B)!.alert.count).toBe(2);
    expect(summary).toMatchObject({ linesRead: 4, accepted: 4, rejected: 0, alerts: 2, alertsByRule: { 'revoked-token-reuse': 2 }, lateUpdates: 0 });
  });

  it('never writes an alert twice: a match later than the lateness is counted, not re-emitted', () => {
    const { replay, emitted, feed } = setup();
    feed([revoked(0, FP_A)]);
    feed([revoked(2000, FP_B)]); // watermark far past A's window: A is written
    expect(emitted.map((e) => e.alert.group['token.fp'])).toEqual([FP_A]);
    feed([revoked(30, FP_A)]); // 30 min late: the engine still evaluates it, A's alert grows
    const summary = replay.finish();
    expect(emitted.filter((e) => e.alert.group['token.fp'] === FP_A)).toHaveLength(1);
    expect(summary.lateEvents).toBe(1);
    expect(summary.lateUpdates).toBe(1);
    expect(formatSummary(summary)).toContain('alert updates after the alert was written (late events): 1');
  });

  it('counts and samples rejected lines by reason', () => {
    const { replay, feed } = setup();
    feed(['{nope', '[]', revoked(0, FP_A), '{"time":"x"}']);
    const s = replay.finish();
    expect(s.rejected).toBe(3);
    expect(s.rejectedByReason).toMatchObject({ malformed_json: 1, not_an_object: 1 });
    expect(s.rejectionSamples.map((r) => r.origin.line)).toEqual([1, 2, 4]);
    expect(formatSummary(s)).toMatch(/mem:1 malformed_json: /);
  });
});
