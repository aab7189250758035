// Every API node materialises the alerts and actions topics into its own store (brief, "Kafka
// contract"): two `serve` nodes (createApp + listen) with separate data dirs share the events
// topic through the consumer group, so each raises only part of the alerts — and yet both
// nodes' GET /v1/alerts list every alert, exactly replay's.
import { describe, expect, it } from 'vitest';
import { kafkaBrokers } from '../support/env.js';
import { createApp, type App } from '../../src/app.js';
import type { Alert } from '../../src/alerts/alert.js';
import { mintAccessToken } from '../../src/delivery/auth/dev-issuer.js';
import { createLogger } from '../../src/observability/logger.js';
import { createTopics, kafkaTestConfig, mixedLines, produceLines, project, replayAlerts, storeAlerts, tempDir, waitUntil } from './kafka-helpers.js';

const brokers = kafkaBrokers();

async function apiAlerts(app: App): Promise<Alert[]> {
  const token = await mintAccessToken(app.auth.devIssuer!, { issuer: app.auth.issuer(), audience: app.config.auth.audience, scopes: ['alerts:read'], ttlMs: 600_000, clientId: 'view-test' });
  const out: Alert[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < 100; i++) {
    const res = await fetch(`${app.url}/v1/alerts?limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { items: Alert[]; next_cursor: string | null };
    out.push(...body.items);
    cursor = body.next_cursor;
    if (!cursor) break;
  }
  return out;
}

describe.skipIf(!brokers)('every API node serves every alert (topic materialiser)', () => {
  it('two serve nodes with separate stores list the same alerts, equal to replay', async () => {
    const t = kafkaTestConfig(brokers!);
    const cfgs = [0, 1].map(() => {
      const c = t.config(tempDir());
      c.http.port = 0; // ephemeral, loopback
      return c;
    });
    const lines = mixedLines();
    const expected = project(replayAlerts(lines, cfgs[0]));
    expect(expected.length).toBeGreaterThan(10);
    await createTopics(brokers!, [{ topic: cfgs[0].kafka.topics.events, partitions: 3 }]);
    const apps: App[] = [];
    try {
      for (const c of cfgs) {
        const app = await createApp(c, { logger: createLogger({ level: 'warn' }) });
        apps.push(app);
        await app.listen();
      }
      await produceLines(brokers!, cfgs[0].kafka.topics.events, lines);
      await waitUntil(async () => {
        for (const app of apps) if (JSON.stringify(project(await apiAlerts(app))) !== JSON.stringify(expected)) return false;
        return true;
      }, 150_000, 1000);
      for (const app of apps) expect(project(await apiAlerts(app))).toEqual(expected);
      // the proposed actions came over too: each node's action ids equal (raised on one, mirrored on the other)
      const ids = apps.map((a) => a.store.listActions({}, 500).items.map((x) => `${x.id}:${x.status}`).sort());
      expect(ids[0].length).toBeGreaterThan(0);
      expect(ids[1]).toEqual(ids[0]);
      // and the store itself holds them (the view is the node's SQLite file)
      expect(project(storeAlerts(apps[1].store))).toEqual(expected);
    } finally {
      for (const app of apps) await app.close();
    }
  }, 240_000);
});
