// The rules-topic record format (rule-bundle.ts) without a broker: bundles round-trip their
// lines and input offsets, are cut below the size limit, and every rule partition gets the
// batch's watermark; and stage 1 → bundles → stage 2 (engines advanced by the markers) gives
// exactly replay's alerts.
import { describe, expect, it } from 'vitest';
import type { Alert } from '../../src/alerts/alert.js';
import { loadConfig } from '../../src/config/config.js';
import { createIngestor } from '../../src/events/ingestor.js';
import { compileRoutePolicy } from '../../src/events/route-policy.js';
import { createEngine } from '../../src/rules/engine.js';
import { loadRuleSet } from '../../src/rules/rule-loader.js';
import { BUNDLE_HEADER, BundleBuilder, MAX_BUNDLE_BYTES, bundleLines, bundleWatermark, type BundleRecord } from '../../src/sources/kafka/rule-bundle.js';
import { RuleRouter } from '../../src/sources/kafka/rule-router.js';
import { parseDuration } from '../../src/util/duration.js';
import { FINGERPRINT_SECRET, longerMixedLines, project, replayAlerts, seeded, tempDir } from './kafka-helpers.js';

const lines = (r: BundleRecord) => bundleLines(Buffer.from(r.value, 'utf8'));

describe('rule bundles', () => {
  it('round-trip lines and offsets per partition, in order, and give every partition the watermark', () => {
    const b = new BundleBuilder('events', 2);
    const rnd = seeded(5);
    const sent = new Map<number, Array<[string, string]>>();
    for (let i = 0; i < 300; i++) {
      const p = Math.floor(rnd() * 4); // partitions 4 and 5 get nothing
      const line = JSON.stringify({ n: i, text: 'x'.repeat(Math.floor(rnd() * 50)) });
      b.add(p, `k${p}`, line, String(1000 + i));
      sent.set(p, [...(sent.get(p) ?? []), [line, String(1000 + i)]]);
    }
    expect(b.copies).toBe(300);
    const records = b.records(6, 1_700_000_000_123);
    for (let p = 0; p < 6; p++) {
      const mine = records.filter((r) => r.partition === p);
      expect(mine.length).toBeGreaterThan(0);
      // the watermark rides on the partition's last record only
      expect(mine.map((r) => bundleWatermark(r.headers))).toEqual([...mine.slice(1).map(() => null), 1_700_000_000_123]);
      const got = mine.flatMap((r) => {
        const ls = lines(r);
        const offsets = ls.length ? r.headers[BUNDLE_HEADER.sourceOffsets].split(',') : [];
        expect(offsets.length).toBe(ls.length);
        expect(r.headers[BUNDLE_HEADER.sourcePartition]).toBe('2');
        return ls.map((l, i): [string, string] => [l, offsets[i]]);
      });
      expect(got).toEqual(sent.get(p) ?? []);
    }
    // without events there is no watermark and no marker record
    expect(new BundleBuilder('events', 0).records(6, null)).toEqual([]);
  });

  it('cuts a partition into records below the size limit', () => {
    const b = new BundleBuilder('events', 0);
    const big = JSON.stringify({ pad: 'y'.repeat(10_000) });
    for (let i = 0; i < 100; i++) b.add(1, 'k', big, String(i));
    const records = b.records(2, null);
    expect(records.filter((r) => r.partition === 1).length).toBeGreaterThan(3);
    for (const r of records) expect(Buffer.byteLength(r.value)).toBeLessThanOrEqual(MAX_BUNDLE_BYTES);
    expect(records.flatMap((r) => lines(r)).length).toBe(100);
  });

  it('reads a record of one event (the format before bundles) as a one-line bundle', () => {
    const one = JSON.stringify({ id: 'e1', time: '2026-11-26T00:00:00.000Z' });
    expect(bundleLines(Buffer.from(one))).toEqual([one]);
    expect(bundleLines(Buffer.alloc(0))).toEqual([]);
    expect(bundleLines(null)).toEqual([]);
  });

  // Stage 1 in input batches → bundles with watermarks → one engine per partition fed lines and
  // advanced by the markers, keeping owned alerts: replay's alerts, at a lateness short enough
  // that the markers (not only the partition's own events) move the engines' watermarks.
  it.each(['24h', '30s'])('stage 1 → bundles → stage 2 with watermarks equals replay (lateness %s)', (lateness) => {
    const cfg = loadConfig({ overrides: { data_dir: tempDir(), 'ingest.fingerprint_secret': FINGERPRINT_SECRET, 'rules.allowed_lateness': lateness } });
    const input = longerMixedLines(2);
    const ruleset = loadRuleSet(cfg.rules.dir, { includeExperimental: cfg.rules.include_experimental }).ruleset;
    const ingestor = createIngestor({ fingerprintSecret: Buffer.from(FINGERPRINT_SECRET), routePolicy: compileRoutePolicy(cfg.route_policy), maxLineBytes: cfg.ingest.max_line_bytes, inputFormat: cfg.ingest.input_format });
    const partitions = 6;
    const router = new RuleRouter(ruleset, partitions);
    const engines = Array.from({ length: partitions }, () => createEngine(ruleset, { allowedLatenessMs: parseDuration(lateness), maxGroupKeys: cfg.rules.max_group_keys }));
    let markers = 0;
    for (let start = 0; start < input.length; start += 97) {
      const b = new BundleBuilder('events', 0);
      let maxTime = -Infinity;
      input.slice(start, start + 97).forEach((line, i) => {
        const r = ingestor.ingestLine(line, { source: 'kafka', name: 'events', partition: 0, offset: String(start + i) });
        if (!r.ok) return;
        maxTime = Math.max(maxTime, Date.parse(r.event.time));
        for (const [p, key] of router.targets(r.event)) b.add(p, key, JSON.stringify(r.event), String(start + i));
      });
      for (const rec of b.records(partitions, Number.isFinite(maxTime) ? maxTime : null)) {
        for (const l of lines(rec)) engines[rec.partition].push(JSON.parse(l));
        const w = bundleWatermark(rec.headers);
        if (w !== null) {
          engines[rec.partition].advanceTo(w);
          markers++;
        }
      }
    }
    const alerts: Alert[] = [];
    engines.forEach((e, p) => {
      e.flush();
      for (const a of e.drainAlerts()) if (router.owner(a) === p) alerts.push(a);
    });
    expect(markers).toBeGreaterThan(partitions);
    const expected = project(replayAlerts(input, cfg));
    expect(expected.length).toBeGreaterThan(20);
    expect(project(alerts)).toEqual(expected);
  });
});
