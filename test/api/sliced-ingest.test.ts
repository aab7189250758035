// HTTP ingest runs a body through the pipeline in slices (sliced-ingest.ts): the same verdicts,
// line numbers and alerts as one call over the whole body, while other work gets the event loop
// between slices.
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Alert } from '../../src/alerts/alert.js';
import { ingestSliced } from '../../src/delivery/api/sliced-ingest.js';
import { createIngestor } from '../../src/events/ingestor.js';
import { compileRoutePolicy } from '../../src/events/route-policy.js';
import { Pipeline } from '../../src/pipeline.js';
import { createEngine } from '../../src/rules/engine.js';
import { loadRuleSet } from '../../src/rules/rule-loader.js';
import { authwatchLines } from '../../bench/lib/datagen.js';
import { ROOT } from '../support/cli.js';

const { ruleset, errors } = loadRuleSet(resolve(ROOT, 'rules'));

function pipeline() {
  const ingestor = createIngestor({ fingerprintSecret: Buffer.from('sliced-test-secret-0123456789abcdef'), routePolicy: compileRoutePolicy({ routes: [] }), inputFormat: 'auto', maxLineBytes: 65536 });
  const engine = createEngine(ruleset, { allowedLatenessMs: 1000, maxGroupKeys: 100_000 });
  const alerts: Alert[] = [];
  const p = new Pipeline({ ingestor, engine, alerts: { saveAlerts: (a) => alerts.push(...structuredClone(a)) }, rejects: { saveRejections: () => {} } });
  return { p, alerts };
}

/** A realistic body: generated events (with 401 bursts), identical repeated lines, bad lines. */
function body(): string[] {
  const lines = [...authwatchLines(4000, { eventsPerSecond: 2000, burstEvery: 300 })];
  for (let i = 0; i < 30; i++) lines.splice(1000 + i, 0, lines[999]); // repeated content numbered across slices
  lines.splice(17, 0, 'not json');
  lines.splice(2500, 0, '{"time": "x"}');
  lines.push('');
  return lines;
}

describe('sliced HTTP ingest', () => {
  it('gives the verdicts, line numbers and alerts of one call over the whole body', async () => {
    expect(errors).toEqual([]);
    const lines = body();
    const whole = pipeline();
    const one = whole.p.ingestLines(lines, { source: 'http', name: 't' });
    whole.p.finish();
    const sliced = pipeline();
    const res = await ingestSliced(sliced.p, 'lines', lines, { source: 'http', name: 't' });
    sliced.p.finish();
    expect(res.accepted).toBe(one.accepted);
    expect(res.rejected.map((r) => [r.origin.line, r.reason])).toEqual(one.rejected.map((r) => [r.origin.line, r.reason]));
    expect(res.rejected.map((r) => r.origin.line)).toContain(18);
    expect(whole.alerts.length).toBeGreaterThan(0);
    // Slices may emit an alert's intermediate states (the store upserts them: larger count,
    // evidence merged); each alert's final state is the same.
    const final = (alerts: Alert[]) => {
      const m = new Map<string, Alert>();
      for (const a of alerts) m.set(a.id, a);
      return [...m.values()].map((a) => `${a.id} ${a.count} ${[...a.evidence.event_ids].sort().join(',')}`).sort();
    };
    expect(final(sliced.alerts)).toEqual(final(whole.alerts));
  });

  it('objects (a JSON array body) keep their index + 1 as the line', async () => {
    const objs = [...authwatchLines(100)].map((l) => JSON.parse(l) as unknown);
    objs.splice(40, 0, { nope: true });
    const res = await ingestSliced(pipeline().p, 'objects', objs, { source: 'http', name: 't' });
    expect(res.accepted).toBe(100);
    expect(res.rejected.map((r) => r.origin.line)).toEqual([41]);
  });

  it('lets other callbacks run while a large body is ingested', async () => {
    const lines = body();
    let ranDuring = false;
    let finished = false;
    const run = ingestSliced(pipeline().p, 'lines', lines, { source: 'http', name: 't' }).then(() => (finished = true));
    // queued after the ingest started: runs only if the ingest yields before it is done
    setImmediate(() => (ranDuring = !finished));
    await run;
    expect(ranDuring).toBe(true);
  });
});
