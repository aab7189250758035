// Scale-out: three worker processes in one consumer group (each with its own data dir, as on
// three machines) give exactly the alerts one worker gives — read from the alerts topic, the
// record every API node materialises. Ingest is shared over the events partitions; each rule
// partition has one owner at a time and moves with its restart point (the state topic).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kafkaBrokers } from '../support/env.js';
import {
  committedTotal, createTopics, kafkaTestConfig, longerMixedLines, materialiseAlerts, produceLines, project, readTopic, replayAlerts,
  spawnWorker, tempDir, waitUntil, type SpawnedWorker,
} from './kafka-helpers.js';

const brokers = kafkaBrokers();

describe.skipIf(!brokers)('kafka scale-out', () => {
  it('three workers in one group give the same alerts as one', async () => {
    const t = kafkaTestConfig(brokers!);
    const base = tempDir();
    const cfgFile = t.writeConfigFile(base);
    const cfg = t.config(join(base, 'w0'));
    const lines = longerMixedLines(2);
    // one worker's alerts = replay's (kafka-worker.test.ts and the crash test hold the single-worker path to this)
    const expected = project(replayAlerts(lines, cfg));
    expect(expected.length).toBeGreaterThan(20);
    await createTopics(brokers!, [{ topic: cfg.kafka.topics.events, partitions: 3 }]);
    await produceLines(brokers!, cfg.kafka.topics.events, lines);

    const workers: SpawnedWorker[] = [0, 1, 2].map((i) => spawnWorker(cfgFile, join(base, `w${i}`)));
    try {
      for (const w of workers) expect(await w.ready, w.stderr()).toBe(true);
      let got: string[] = [];
      await waitUntil(async () => {
        got = project(materialiseAlerts(await readTopic(brokers!, cfg.kafka.topics.alerts), base));
        return JSON.stringify(got) === JSON.stringify(expected);
      }, 150_000, 2000);
      const diag = `committed ${await committedTotal(brokers!, cfg.kafka.group_id, cfg.kafka.topics.events)} of ${lines.length}; ` + workers.map((w, i) => `worker ${i}: ${w.stderr().split('\n').slice(-8).join('\n')}`).join('\n');
      expect(got, diag).toEqual(expected);
    } finally {
      for (const w of workers) w.child.kill('SIGTERM');
      const codes = await Promise.all(workers.map((w) => w.exited));
      expect(codes).toEqual([0, 0, 0]);
    }
  }, 300_000);
});
