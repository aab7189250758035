// The re-keyed rule stage without a broker: events routed by RuleRouter to N partitions, one
// engine per partition keeping only the (rule, group)s it owns, give exactly replay's alerts.
// The Kafka tests then show the same over real topics and worker processes.
import { describe, expect, it } from 'vitest';
import type { Alert } from '../../src/alerts/alert.js';
import { createIngestor } from '../../src/events/ingestor.js';
import { compileRoutePolicy } from '../../src/events/route-policy.js';
import { createEngine } from '../../src/rules/engine.js';
import { loadRuleSet } from '../../src/rules/rule-loader.js';
import { RuleRouter, UNKEYED_CLASS } from '../../src/sources/kafka/rule-router.js';
import { parseDuration } from '../../src/util/duration.js';
import { loadConfig } from '../../src/config/config.js';
import { FINGERPRINT_SECRET, kafkaTestConfig, longerMixedLines, project, replayAlerts, tempDir } from './kafka-helpers.js';

const cfg = kafkaTestConfig(['127.0.0.1:1']).config(tempDir());
const loaded = loadRuleSet(cfg.rules.dir, { includeExperimental: cfg.rules.include_experimental });
// the experimental pack adds a correlation over correlations (failures-then-success): the unkeyed class
const expCfg = loadConfig({ overrides: { data_dir: tempDir(), 'ingest.fingerprint_secret': FINGERPRINT_SECRET, 'rules.allowed_lateness': '24h', 'rules.include_experimental': true } });
const expLoaded = loadRuleSet(expCfg.rules.dir, { includeExperimental: true });

function partitioned(lines: readonly string[], partitions: number, ruleset = loaded.ruleset) {
  const ingestor = createIngestor({
    fingerprintSecret: Buffer.from(FINGERPRINT_SECRET),
    routePolicy: compileRoutePolicy(cfg.route_policy),
    maxLineBytes: cfg.ingest.max_line_bytes,
    inputFormat: cfg.ingest.input_format,
  });
  const router = new RuleRouter(ruleset, partitions);
  const opts = { allowedLatenessMs: parseDuration(cfg.rules.allowed_lateness), maxGroupKeys: cfg.rules.max_group_keys };
  const engines = Array.from({ length: partitions }, () => createEngine(ruleset, opts));
  const received = new Array<number>(partitions).fill(0);
  lines.forEach((line, i) => {
    const r = ingestor.ingestLine(line, { source: 'kafka', name: 'events', partition: 0, offset: String(i) });
    if (!r.ok) return;
    for (const p of router.targets(r.event).keys()) {
      engines[p].push(r.event);
      received[p]++;
    }
  });
  const alerts: Alert[] = [];
  const owners = new Set<number>();
  engines.forEach((e, p) => {
    e.flush();
    for (const a of e.drainAlerts()) {
      if (router.owner(a) !== p) continue;
      alerts.push(a);
      owners.add(p);
    }
  });
  return { alerts, owners, received };
}

describe('rule router (re-keyed rule stage)', () => {
  const lines = longerMixedLines(2);
  const expected = project(replayAlerts(lines, cfg));

  it.each([1, 3, 6, 16])('%i partitions give exactly replay alerts', (n) => {
    const { alerts, owners, received } = partitioned(lines, n);
    expect(expected.length).toBeGreaterThan(20);
    expect(project(alerts)).toEqual(expected);
    if (n >= 3) {
      // the work is spread: several partitions own alerts, none receives every event
      expect(owners.size).toBeGreaterThan(1);
      expect(Math.max(...received)).toBeLessThan(received.reduce((a, b) => a + b, 0));
    }
  });

  it('with a chained correlation (unkeyed class, one fixed partition) 6 partitions still give replay alerts', () => {
    const chained = expLoaded.ruleset.rules.filter((r) => r.kind === 'correlation' && r.sources.some((x) => expLoaded.ruleset.rules[x].kind === 'correlation'));
    expect(chained.length).toBeGreaterThan(0);
    const replayed = replayAlerts(lines, expCfg);
    // the chained rule fires on this stream, so its partition really is exercised
    expect(replayed.some((a) => chained.some((r) => r.info.id === a.rule.id))).toBe(true);
    const want = project(replayed);
    expect(project(partitioned(lines, 6, expLoaded.ruleset).alerts)).toEqual(want);
  });

  it('routes rules without group-by to one fixed partition, and is stable across instances', () => {
    const a = new RuleRouter(loaded.ruleset, 6);
    const b = new RuleRouter(loaded.ruleset, 6);
    expect(a.partitionOf('|[]')).toBe(b.partitionOf('|[]'));
    expect(a.partitionOf(UNKEYED_CLASS)).toBe(b.partitionOf(UNKEYED_CLASS));
    const rule = loaded.ruleset.rules.find((r) => r.info.group_by.length === 0);
    if (rule) expect(a.owner({ rule: { id: rule.info.id } as Alert['rule'], group: {} })).toBe(a.partitionOf('|[]'));
    // every key maps into range
    for (let i = 0; i < 200; i++) expect(a.partitionOf(`source.ip|["10.0.0.${i}"]`)).toBeLessThan(6);
  });
});
