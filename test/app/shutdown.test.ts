// Graceful shutdown flushes what is in flight: self-monitoring events still queued and events
// buffered in the engine's lateness window become alerts in the store before it closes.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/store.js';
import { startService } from '../auth/harness.js';

describe('graceful shutdown', () => {
  it('queued self-monitoring events and buffered engine state reach the store on close()', async () => {
    // a flush interval longer than the test, so the events are still queued when close() starts
    const svc = await startService({}, { selfMonitorIntervalMs: 600_000 });
    const dir = svc.dir;
    for (let i = 0; i < 22; i++) {
      const r = await fetch(svc.url + '/v1/rules', { headers: { authorization: 'Bearer not.a.jwt' } });
      expect(r.status).toBe(401);
    }
    // onResponse (which queues the event) runs as the response finishes: allow it a moment
    for (let i = 0; i < 100 && svc.app.selfMonitor.pending < 22; i++) await new Promise((r) => setTimeout(r, 20));
    expect(svc.app.selfMonitor.pending).toBe(22);
    await svc.app.close();
    expect(svc.app.store.db.open).toBe(false);
    const store = openStore(join(dir, 'authwatch.db'));
    try {
      const alerts = store.listAlerts({ rule: 'oauth-401-burst' }, 10).items;
      expect(alerts.map((a) => a.group['source.ip'])).toContain('127.0.0.1');
    } finally {
      store.close();
      await svc.close(); // idempotent; removes the temp dir
    }
  });
});
