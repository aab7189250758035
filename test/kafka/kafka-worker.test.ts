// The Kafka path on a real broker: the worker gives exactly the alerts replay gives, on its own
// store and on the alerts topic (materialised the way an API node does).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kafkaBrokers } from '../support/env.js';
import { createLogger } from '../../src/observability/logger.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { startKafka } from '../../src/sources/kafka/start-kafka.js';
import { openStore } from '../../src/store/store.js';
import { createTopics, kafkaTestConfig, materialiseAlerts, mixedLines, produceLines, project, readTopic, replayAlerts, storeAlerts, tempDir, waitUntil } from './kafka-helpers.js';

const brokers = kafkaBrokers();

describe.skipIf(!brokers)('kafka worker on a real broker', () => {
  it('a mixed event stream produced to the topic gives exactly the alerts replay gives', async () => {
    const t = kafkaTestConfig(brokers!);
    const dir = tempDir();
    const cfg = t.config(dir);
    const lines = mixedLines();
    const expected = project(replayAlerts(lines, cfg));
    expect(expected.length).toBeGreaterThan(10);

    await createTopics(brokers!, [{ topic: cfg.kafka.topics.events, partitions: 3 }]);
    await produceLines(brokers!, cfg.kafka.topics.events, lines);

    const store = openStore(join(dir, 'authwatch.db'));
    const { stop } = await startKafka({ config: cfg, store, metrics: createMetrics(), logger: createLogger({ level: 'warn' }) });
    try {
      await waitUntil(() => JSON.stringify(project(storeAlerts(store))) === JSON.stringify(expected), 90_000);
      expect(project(storeAlerts(store))).toEqual(expected);
    } finally {
      await stop();
    }
    // the alerts topic is the record other nodes build their view from
    const published = await readTopic(brokers!, cfg.kafka.topics.alerts);
    expect(project(materialiseAlerts(published, dir))).toEqual(expected);
    store.close();
  }, 180_000);
});
