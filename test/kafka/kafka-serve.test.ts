// `authwatch serve` with brokers configured also consumes: the composition root starts the
// Kafka worker on the app's store, and stops it on close.
import { describe, expect, it } from 'vitest';
import { kafkaBrokers } from '../support/env.js';
import { createApp } from '../../src/app.js';
import { createLogger } from '../../src/observability/logger.js';
import { createTopics, kafkaTestConfig, mixedLines, produceLines, project, replayAlerts, storeAlerts, tempDir, waitUntil } from './kafka-helpers.js';

const brokers = kafkaBrokers();

describe.skipIf(!brokers)('serve with Kafka', () => {
  it('consumes the events topic into the API store', async () => {
    const t = kafkaTestConfig(brokers!);
    const dir = tempDir();
    const cfg = t.config(dir);
    cfg.http.port = 0; // ephemeral, loopback (the default host)
    const lines = mixedLines();
    const expected = project(replayAlerts(lines, cfg));
    await createTopics(brokers!, [{ topic: cfg.kafka.topics.events, partitions: 3 }]);
    await produceLines(brokers!, cfg.kafka.topics.events, lines);
    const app = await createApp(cfg, { logger: createLogger({ level: 'warn' }) });
    try {
      await app.listen();
      await waitUntil(() => JSON.stringify(project(storeAlerts(app.store))) === JSON.stringify(expected), 90_000, 500);
      expect(project(storeAlerts(app.store))).toEqual(expected);
    } finally {
      await app.close();
    }
  }, 180_000);
});
