// A dispatcher process SIGKILLed mid-delivery loses nothing: after a restart every queued
// alert reaches the receiver at least once, and a repeated delivery carries the same
// webhook-id (the receiver's idempotency key), as Standard Webhooks' at-least-once asks.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/config.js';
import { WebhookOutbox } from '../../src/delivery/webhooks/outbox.js';
import { WebhookEnqueuer } from '../../src/delivery/webhooks/dispatcher.js';
import { startReceiver, TEST_SECRET, type Receiver } from './support/receiver.js';
import { makeAlert, tempDb } from './support/fixtures.js';

const CHILD = fileURLToPath(new URL('./support/dispatcher-child.ts', import.meta.url));
const children: ChildProcess[] = [];
let rec: Receiver | null = null;
afterEach(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await rec?.close();
});

function runChild(file: string, url: string): { child: ChildProcess; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, file, url, TEST_SECRET], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, exited };
}

describe('webhook delivery survives SIGKILL', () => {
  it('every alert is delivered at least once; duplicates share the webhook-id', async () => {
    let phase: 'first' | 'second' = 'first';
    let firstPhaseRequests = 0;
    let killNow: () => void = () => {};
    rec = await startReceiver(TEST_SECRET, () => {
      if (phase === 'second') return { status: 200 };
      firstPhaseRequests++;
      // answer a few, then hang the rest and have the parent kill the dispatcher mid-request
      if (firstPhaseRequests <= 6) return { status: 200 };
      killNow();
      return 'hang';
    });
    const { db, file } = tempDb();
    const cfg = configSchema.parse({ webhooks: { allow_private_targets: true, endpoints: [{ name: 'soar', url: rec.url, secret: TEST_SECRET }] } });
    const enqueuer = new WebhookEnqueuer(new WebhookOutbox(db), cfg.webhooks.endpoints, 'http://127.0.0.1:8080');
    const alerts = Array.from({ length: 30 }, (_, i) => makeAlert(i));
    db.transaction(() => enqueuer.alertsChanged(alerts.map((alert) => ({ alert, isNew: true }))))();
    db.close();

    const first = runChild(file, rec.url);
    const killed = new Promise<void>((r) => {
      killNow = () => {
        first.child.kill('SIGKILL');
        r();
      };
    });
    await killed;
    await first.exited;
    expect(first.child.signalCode).toBe('SIGKILL');
    const beforeRestart = rec.received.length;
    expect(beforeRestart).toBeGreaterThan(6);
    expect(beforeRestart).toBeLessThan(30 + 3);

    phase = 'second';
    const second = runChild(file, rec.url);
    expect(await second.exited).toBe(0);

    // every alert arrived, verified, at least once
    expect(rec.received.every((r) => r.verified)).toBe(true);
    const byAlert = new Map<string, Set<string>>();
    for (const r of rec.received) {
      const id = (r.payload.data as { id: string }).id;
      if (!byAlert.has(id)) byAlert.set(id, new Set());
      byAlert.get(id)!.add(r.id);
    }
    expect([...byAlert.keys()].sort()).toEqual(alerts.map((a) => a.id).sort());
    // a re-sent alert carries the same webhook-id as its first attempt
    for (const ids of byAlert.values()) expect(ids.size).toBe(1);
    // the requests that hung when the process died were sent again
    expect(rec.received.length).toBeGreaterThan(30);

    const check = new (await import('better-sqlite3')).default(file, { readonly: true });
    const states = check.prepare('SELECT state, COUNT(*) AS n FROM webhook_deliveries GROUP BY state').all();
    check.close();
    expect(states).toEqual([{ state: 'delivered', n: 30 }]);
  }, 120_000);
});
