// Crash safety: a real worker process is SIGKILLed at random moments while it consumes, at least
// ten times; after the restarts its store holds exactly the alerts of an uninterrupted run (replay):
// none lost, none counted twice, same ids, counts, first/last seen. The alerts topic agrees.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kafkaBrokers } from '../support/env.js';
import { openStore } from '../../src/store/store.js';
import {
  committedTotal, createTopics, kafkaTestConfig, longerMixedLines, materialiseAlerts, produceLines, project,
  readTopic, replayAlerts, seeded, spawnWorker, storeAlerts, tempDir, waitUntil,
} from './kafka-helpers.js';

const brokers = kafkaBrokers();
const KILLS = 10;
const SEED = Number(process.env.AUTHWATCH_TEST_SEED ?? 20261126);

describe.skipIf(!brokers)('kafka worker crash safety', () => {
  it(`SIGKILL ${KILLS} times while consuming loses and duplicates nothing`, async () => {
    const t = kafkaTestConfig(brokers!);
    const base = tempDir();
    const dataDir = join(base, 'data');
    const cfgFile = t.writeConfigFile(base);
    const cfg = t.config(dataDir);
    const lines = longerMixedLines(2);
    const expected = project(replayAlerts(lines, cfg));
    expect(expected.length).toBeGreaterThan(30);
    await createTopics(brokers!, [{ topic: cfg.kafka.topics.events, partitions: 3 }]);
    await produceLines(brokers!, cfg.kafka.topics.events, lines);

    const rnd = seeded(SEED);
    const progress: number[] = [];
    for (let k = 0; k < KILLS; k++) {
      const w = spawnWorker(cfgFile, dataDir);
      const ready = await Promise.race([w.ready, new Promise<boolean>((r) => setTimeout(() => r(false), 60_000))]);
      expect(ready, `worker ${k} did not start: ${w.stderr()}`).toBe(true);
      // a random moment: during the group join, the catch-up, a transaction or a snapshot
      await new Promise((r) => setTimeout(r, 300 + rnd() * 4000));
      w.child.kill('SIGKILL');
      await w.exited;
      progress.push(await committedTotal(brokers!, cfg.kafka.group_id, cfg.kafka.topics.events));
    }
    // the kills landed while there was still input to consume
    expect(progress.some((p) => p < lines.length), `committed after each kill: ${progress.join(',')}`).toBe(true);

    const last = spawnWorker(cfgFile, dataDir);
    expect(await last.ready, last.stderr()).toBe(true);
    const store = openStore(join(dataDir, 'authwatch.db'));
    try {
      await waitUntil(() => JSON.stringify(project(storeAlerts(store))) === JSON.stringify(expected), 120_000, 500);
      expect(project(storeAlerts(store)), `committed after each kill: ${progress.join(',')}`).toEqual(expected);
    } finally {
      last.child.kill('SIGTERM');
      expect(await last.exited).toBe(0);
      store.close();
    }
    const published = await readTopic(brokers!, cfg.kafka.topics.alerts);
    expect(project(materialiseAlerts(published, base))).toEqual(expected);
  }, 300_000);
});
