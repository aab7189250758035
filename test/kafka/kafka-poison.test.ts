// Poison messages reach the dead-letter topic with their reason and origin while the partition
// keeps moving; canary tokens in the input never reach any topic authwatch writes, nor its store.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kafkaBrokers } from '../support/env.js';
import { createLogger } from '../../src/observability/logger.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { startKafka } from '../../src/sources/kafka/start-kafka.js';
import { HEADER, internalTopics } from '../../src/sources/kafka/worker.js';
import { openStore } from '../../src/store/store.js';
import { REJECT_REASONS } from '../../src/events/ingest-types.js';
import { createTopics, expectedRouting, forwardedCopies, kafkaTestConfig, produceLines, readTopic, storeAlerts, tempDir, waitUntil, type ReadMessage } from './kafka-helpers.js';

const brokers = kafkaBrokers();

const b64u = (v: string | Buffer) => Buffer.from(v).toString('base64url');
/** a JWT-shaped canary minted here: unique, so any appearance downstream is a leak */
function mintCanary(): string {
  return [b64u(JSON.stringify({ alg: 'RS256', kid: 'k1', typ: 'JWT' })), b64u(JSON.stringify({ sub: 'canary', jti: randomBytes(8).toString('hex') })), b64u(randomBytes(32))].join('.');
}

function goodEvent(i: number, extra: Record<string, unknown> = {}): string {
  const ms = Date.UTC(2026, 2, 3, 9, 0, 0) + i * 1000;
  return JSON.stringify({
    id: `poison-good-${i}`,
    time: new Date(ms).toISOString(),
    observer: { type: 'gateway', name: 'edge-canary', env: 'test' },
    source: { ip: `198.51.100.${(i % 200) + 1}` },
    http: { method: 'GET', route: '/api/v1/orders/{id}', status: i % 3 === 0 ? 401 : 200 },
    auth: { result: i % 3 === 0 ? 'expired' : 'ok', scheme: 'bearer' },
    ...extra,
  });
}

describe.skipIf(!brokers)('kafka poison messages and canary tokens', () => {
  it('dead-letters every malformed message with reason and origin, processes every good one, leaks no token', async () => {
    const t = kafkaTestConfig(brokers!);
    const dir = tempDir();
    const cfg = t.config(dir);
    const canaryA = mintCanary();
    const canaryB = mintCanary();
    const canaryC = mintCanary();

    type Input = { value: string | Buffer; bad: string | null };
    const inputs: Input[] = [];
    const poison: Input[] = [
      { value: 'this is not json {', bad: 'malformed' },
      { value: '{"time":"2026-03-03T09:00:00Z","observer":{"type":"gateway","name":"x"}}', bad: 'schema' },
      { value: '[1,2,3]', bad: 'not_an_object' },
      { value: JSON.stringify({ id: 'big', pad: 'x'.repeat(70_000) }), bad: 'oversize' },
      { value: Buffer.from([0x7b, 0xff, 0xfe, 0x00, 0x22, 0x7d]), bad: 'binary' },
      { value: `{"auth":{"detail":"Bearer ${canaryC}"`, bad: 'malformed-with-token' },
      { value: JSON.stringify({ time: 'yesterday', observer: { type: 'api', name: 'x' }, auth: { result: 'ok' } }), bad: 'time' },
    ];
    for (let i = 0; i < 140; i++) {
      if (i === 10) inputs.push({ value: goodEvent(i, { auth: { result: 'ok', scheme: 'bearer', detail: `Authorization: Bearer ${canaryA}` } }), bad: null });
      else if (i === 11) inputs.push({ value: goodEvent(i, { http: { method: 'GET', route: '/cb', path: `/cb?access_token=${canaryB}&x=1`, status: 200 } }), bad: null });
      else inputs.push({ value: goodEvent(i), bad: null });
      if (i % 20 === 5) inputs.push(poison[(i / 20) | 0]);
    }
    const bad = inputs.filter((x) => x.bad);
    expect(bad.length).toBe(poison.length);

    await createTopics(brokers!, [{ topic: cfg.kafka.topics.events, partitions: 3 }]);
    const where = await produceLines(brokers!, cfg.kafka.topics.events, inputs.map((x) => x.value));
    const goodAt = new Set(inputs.flatMap((x, i) => (x.bad ? [] : [`${where[i].partition}:${where[i].offset}`])));
    const badAt = new Set(inputs.flatMap((x, i) => (x.bad ? [`${where[i].partition}:${where[i].offset}`] : [])));

    const expectedForwarded = [...expectedRouting(inputs.map((x) => x.value), cfg).values()].reduce((n, s) => n + s.size, 0);
    const store = openStore(join(dir, 'authwatch.db'));
    const { stop } = await startKafka({ config: cfg, store, metrics: createMetrics(), logger: createLogger({ level: 'warn' }) });
    let dlq: ReadMessage[] = [];
    let forwarded: ReadMessage[] = [];
    const rulesTopic = internalTopics(cfg.kafka).rules;
    try {
      await waitUntil(async () => {
        dlq = await readTopic(brokers!, cfg.kafka.topics.dlq, { transactional: true });
        forwarded = await readTopic(brokers!, rulesTopic, { transactional: true });
        return dlq.length >= bad.length && forwardedCopies(forwarded).length >= expectedForwarded && storeAlerts(store).some((a) => a.rule.name === 'ingest-unredacted-token');
      }, 90_000, 1000);
    } finally {
      await stop();
    }

    // every malformed message is dead-lettered once, with a reason and where it came from
    expect(dlq.length).toBe(bad.length);
    const dlqAt = new Set(dlq.map((m) => `${m.headers[HEADER.sourcePartition]}:${m.headers[HEADER.sourceOffset]}`));
    expect(dlqAt).toEqual(badAt);
    for (const m of dlq) {
      expect(m.headers[HEADER.sourceTopic]).toBe(cfg.kafka.topics.events);
      const body = JSON.parse(m.value) as { reason: string; message: string; origin: { partition: number; offset: string } };
      expect(body.reason).toBe(m.headers[HEADER.reason]);
      expect(REJECT_REASONS).toContain(body.reason);
      expect(`${body.origin.partition}:${body.origin.offset}`).toBe(`${m.headers[HEADER.sourcePartition]}:${m.headers[HEADER.sourceOffset]}`);
    }
    const reasons = new Set(dlq.map((m) => m.headers[HEADER.reason]));
    expect(reasons.size).toBeGreaterThanOrEqual(4);

    // every good event went on to the rule stage exactly once per rule partition that needs it
    // (re-keying: one copy per partition owning a (rule, group) it counts towards; none if no rule matches)
    const routing = expectedRouting(inputs.map((x) => x.value), cfg);
    const expectedCopies = inputs.flatMap((x, i) => (x.bad ? [] : [...routing.get(i)!].map((p) => `${where[i].partition}:${where[i].offset}@${p}`))).sort();
    expect(expectedCopies.length).toBeGreaterThanOrEqual(goodAt.size - 1); // nearly every good event here matches some rule
    const copies = forwardedCopies(forwarded);
    expect(copies.map((c) => `${c.at}@${c.partition}`).sort()).toEqual(expectedCopies);
    for (const c of copies) expect(goodAt.has(c.at)).toBe(true);
    // the copies travel bundled (one record per input batch and rule partition), not one record each
    expect(forwarded.length).toBeLessThan(copies.length);

    // the token-carrying events raised the unredacted-token alert, and no canary is anywhere downstream
    const alerts = storeAlerts(store);
    expect(alerts.some((a) => a.rule.name === 'ingest-unredacted-token' && a.group['observer.name'] === 'edge-canary')).toBe(true);
    store.close();
    const topics = [cfg.kafka.topics.alerts, cfg.kafka.topics.actions];
    const everything = [...dlq, ...forwarded];
    for (const topic of topics) everything.push(...(await readTopic(brokers!, topic)));
    const haystack = everything.map((m) => `${m.key}\n${m.value}\n${JSON.stringify(m.headers)}`).join('\n') + readFileSync(join(dir, 'authwatch.db')).toString('latin1');
    for (const canary of [canaryA, canaryB, canaryC]) {
      expect(haystack.includes(canary)).toBe(false);
      expect(haystack.includes(canary.split('.')[2])).toBe(false);
    }
  }, 180_000);
});
