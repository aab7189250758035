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
    const lines = longerMixedLines(3);
    const expected = project(replayAlerts(lines, cfg));
    expect(expected.length).toBeGreaterThan(30);
    await createTopics(brokers!, [{ topic: cfg.kafka.topics.events, partitions: 3 }]);

    // The input arrives in slices while the worker runs: each incarnation gets a fresh slice
    // right after it starts consuming and is killed at a random moment within the next second.
    const slice = Math.ceil(lines.length / (KILLS + 1));
    const rnd = seeded(SEED);
    const progress: string[] = [];
    let produced = 0;
    let killedMidStream = 0;
    for (let k = 0; k < KILLS; k++) {
      const w = spawnWorker(cfgFile, dataDir);
      const ready = await Promise.race([w.ready, new Promise<boolean>((r) => setTimeout(() => r(false), 60_000))]);
      expect(ready, `worker ${k} did not start: ${w.stderr()}`).toBe(true);
      await produceLines(brokers!, cfg.kafka.topics.events, lines.slice(produced, produced + slice), 3, produced);
      produced = Math.min(lines.length, produced + slice);
      await new Promise((r) => setTimeout(r, rnd() * 1000));
      w.child.kill('SIGKILL');
      await w.exited;
      const committed = await committedTotal(brokers!, cfg.kafka.group_id, cfg.kafka.topics.events);
      if (committed < produced) killedMidStream++;
      progress.push(`${committed}/${produced}`);
    }
    await produceLines(brokers!, cfg.kafka.topics.events, lines.slice(produced), 3, produced);
    // the kills landed while there was input left to consume
    expect(killedMidStream, `committed/produced after each kill: ${progress.join(' ')}`).toBeGreaterThan(0);

    const last = spawnWorker(cfgFile, dataDir);
    expect(await last.ready, last.stderr()).toBe(true);
    const store = openStore(join(dataDir, 'authwatch.db'));
    try {
      await waitUntil(() => JSON.stringify(project(storeAlerts(store))) === JSON.stringify(expected), 120_000, 500);
      expect(project(storeAlerts(store)), `committed/produced after each kill: ${progress.join(' ')}`).toEqual(expected);
    } finally {
      last.child.kill('SIGTERM');
      expect(await last.exited).toBe(0);
      store.close();
    }
    const published = await readTopic(brokers!, cfg.kafka.topics.alerts);
    expect(project(materialiseAlerts(published, base))).toEqual(expected);
  }, 300_000);
});
