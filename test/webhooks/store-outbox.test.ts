// The outbox is written by the store's own transaction: an alert and its deliveries commit
// together (and roll back together), action changes go out with the alert's rule filters.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/config.js';
import { openStore, type Store } from '../../src/store/store.js';
import { WebhookOutbox } from '../../src/delivery/webhooks/outbox.js';
import { WebhookDispatcher, WebhookEnqueuer, attachWebhooksToStore } from '../../src/delivery/webhooks/dispatcher.js';
import { startReceiver, TEST_SECRET, type Receiver } from './support/receiver.js';
import { makeAlert, memoryLogger } from './support/fixtures.js';

let store: Store | null = null;
let rec: Receiver | null = null;
afterEach(async () => {
  store?.db.close();
  await rec?.close();
});

describe('outbox in the store transaction', () => {
  it('alerts and approvals enqueue deliveries atomically, delivered through a real receiver', async () => {
    rec = await startReceiver(TEST_SECRET, () => ({ status: 200 }));
    store = openStore(join(mkdtempSync(join(tmpdir(), 'aw-wh-store-')), 'a.db'));
    const cfg = configSchema.parse({
      webhooks: { allow_private_targets: true, endpoints: [{ name: 'soar', url: rec.url, secret: TEST_SECRET, rules: ['oauth-401-burst'] }] },
    });
    const outbox = new WebhookOutbox(store.db);
    const enq = new WebhookEnqueuer(outbox, cfg.webhooks.endpoints, 'http://127.0.0.1:8080');
    const dispatcher = new WebhookDispatcher({ outbox, endpoints: cfg.webhooks.endpoints, allowPrivate: true, logger: memoryLogger().logger });
    attachWebhooksToStore(store, enq, dispatcher);

    const a = makeAlert(1, { proposed: [{ action: 'block_ip', ttl: '1h', approval: 'required' }] });
    const other = makeAlert(2, { rule: { id: 'x', name: 'other-rule', title: 'Other', level: 'high' } });
    store.saveAlerts([a, other]);
    // alert.created for the matching rule, plus action.changed (created, proposed)
    expect(outbox.counts().pending).toBe(2);
    const action = store.listActions({ alert: a.id }, 10).items[0];
    store.transitionAction(action.id, 'approve', 'test-analyst');
    store.saveAlerts([{ ...a, count: a.count + 5, last_seen: '2026-01-01T00:02:00.000Z' }]);
    expect(outbox.counts().pending).toBe(4);

    // a transaction that fails after the listener ran leaves no delivery behind
    const off = store.onAlertsChanged(() => {
      throw new Error('boom');
    });
    expect(() => store!.saveAlerts([makeAlert(3)])).toThrow('boom');
    off();
    expect(outbox.counts().pending).toBe(4);

    await dispatcher.runOnce();
    const got = rec.received.map((r) => `${r.payload.type}:${(r.payload.data as { status: string }).status}`).sort();
    expect(got).toEqual(['action.changed:active', 'action.changed:proposed', 'alert.created:open', 'alert.updated:open']);
    expect(rec.received.every((r) => r.verified)).toBe(true);
  });
});
