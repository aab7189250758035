// Scale-out: three worker processes in one consumer group (each with its own data dir, as on
// three machines) give exactly the alerts one worker gives — read from the alerts topic, the
// record every API node materialises. Ingest is shared over the events partitions; events are
// re-keyed over the rules topic's partitions (rule-router.ts), each with one owner at a time, so
// rule evaluation is spread too: more than one worker stores alerts.
import { join } from 'node:path';
import Database from 'better-sqlite3';
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

    const workers: SpawnedWorker[] = [0, 1, 2].map((i) => spawnWorker(cfgFile, join(base, `w${i}`)));
    let stopped = false;
    try {
      for (const w of workers) expect(await w.ready, w.stderr()).toBe(true);
      // produced once all three consume, so the rule partitions are already shared when work arrives
      await produceLines(brokers!, cfg.kafka.topics.events, lines);
      let got: string[] = [];
      await waitUntil(async () => {
        got = project(materialiseAlerts(await readTopic(brokers!, cfg.kafka.topics.alerts), base));
        return JSON.stringify(got) === JSON.stringify(expected);
      }, 150_000, 2000);
      const diag = `committed ${await committedTotal(brokers!, cfg.kafka.group_id, cfg.kafka.topics.events)} of ${lines.length}; ` + workers.map((w, i) => `worker ${i}: ${w.stderr().split('\n').slice(-8).join('\n')}`).join('\n');
      expect(got, diag).toEqual(expected);

      for (const w of workers) w.child.kill('SIGTERM');
      expect(await Promise.all(workers.map((w) => w.exited))).toEqual([0, 0, 0]);
      stopped = true;
      // each worker's own store: the rule partitions it owned (restart points) and the alerts it evaluated
      const perWorker = [0, 1, 2].map((i) => {
        const db = new Database(join(base, `w${i}`, 'authwatch.db'), { readonly: true });
        try {
          const partitions = db.prepare('SELECT partition FROM kafka_partition_state WHERE topic = ?').all(`${t.name}.internal.rules`) as Array<{ partition: number }>;
          const alerts = (db.prepare('SELECT COUNT(*) AS n FROM alerts').get() as { n: number }).n;
          return { partitions: partitions.map((r) => r.partition), alerts };
        } finally {
          db.close();
        }
      });
      const evaluating = perWorker.filter((w) => w.partitions.length > 0 && w.alerts > 0);
      expect(evaluating.length, JSON.stringify(perWorker)).toBeGreaterThan(1);
      // six rule partitions in all, every one owned (and snapshotted) by some worker
      expect(new Set(perWorker.flatMap((w) => w.partitions)).size, JSON.stringify(perWorker)).toBe(6);
    } finally {
      if (!stopped) {
        for (const w of workers) w.child.kill('SIGTERM');
        await Promise.all(workers.map((w) => w.exited));
      }
    }
  }, 300_000);
});
