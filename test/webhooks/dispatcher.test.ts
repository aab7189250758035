// Webhook delivery against a real receiver on loopback that verifies Standard Webhooks
// signatures: success, failing, hanging, throttling (429 + Retry-After) and gone (410)
// receivers, dead letters and replay. The clock is injected so backoff never sleeps.
import { afterEach, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/config.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { WebhookOutbox } from '../../src/delivery/webhooks/outbox.js';
import { WebhookDispatcher, WebhookEnqueuer } from '../../src/delivery/webhooks/dispatcher.js';
import { startReceiver, TEST_SECRET, type Receiver } from './support/receiver.js';
import { makeAlert, memoryLogger, tempDb } from './support/fixtures.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup(respond: Receiver['respond'], epOver: Record<string, unknown> = {}) {
  const rec = await startReceiver(TEST_SECRET, respond);
  cleanups.push(() => rec.close());
  const { db } = tempDb();
  cleanups.push(() => void db.close());
  const cfg = configSchema.parse({
    webhooks: { allow_private_targets: true, endpoints: [{ name: 'soar', url: rec.url, secret: TEST_SECRET, timeout: '10s', max_attempts: 4, ...epOver }] },
  });
  let clock = Date.parse('2026-03-01T10:00:00Z');
  const now = () => clock;
  const outbox = new WebhookOutbox(db);
  const enqueuer = new WebhookEnqueuer(outbox, cfg.webhooks.endpoints, 'https://authwatch.example', now);
  const metrics = createMetrics();
  const { logger, lines } = memoryLogger();
  const dispatcher = new WebhookDispatcher({ outbox, endpoints: cfg.webhooks.endpoints, allowPrivate: true, logger, metrics, now, random: () => 0.5 });
  cleanups.push(() => dispatcher.stop());
  return { rec, db, outbox, enqueuer, dispatcher, metrics, lines, advance: (ms: number) => (clock += ms), now };
}

describe('webhook dispatcher', () => {
  it('delivers signed, thin payloads that the standardwebhooks verifier accepts', async () => {
    const t = await setup(() => ({ status: 200 }));
    const a = makeAlert(1);
    t.db.transaction(() => t.enqueuer.alertsChanged([{ alert: a, isNew: true }]))();
    await t.dispatcher.runOnce();
    expect(t.rec.received).toHaveLength(1);
    const r = t.rec.received[0];
    expect(r.verified).toBe(true);
    expect(r.id).toMatch(/^msg_/);
    expect(r.payload.type).toBe('alert.created');
    expect(r.payload.data).toEqual({
      id: a.id,
      rule: a.rule,
      group: a.group,
      count: a.count,
      first_seen: a.first_seen,
      last_seen: a.last_seen,
      status: 'open',
      link: `https://authwatch.example/v1/alerts/${a.id}`,
    });
    expect(t.outbox.counts()).toEqual({ pending: 0, delivered: 1, dead: 0 });
    expect(await t.metrics.registry.getSingleMetricAsString('authwatch_webhook_deliveries_total')).toContain('outcome="delivered"} 1');
  });

  it('a wrong secret fails verification at the receiver (the check is real)', async () => {
    const t = await setup(() => ({ status: 200 }), { secret: 'whsec_' + Buffer.from('some-other-secret-value-xxxxxxxx').toString('base64') });
    t.db.transaction(() => t.enqueuer.alertsChanged([{ alert: makeAlert(2), isNew: true }]))();
    await t.dispatcher.runOnce();
    expect(t.rec.received).toHaveLength(1);
    expect(t.rec.received[0].verified).toBe(false);
  });

  it('retries a receiver that fails with 500 twice, then succeeds, with the same webhook-id', async () => {
    const t = await setup((n) => ({ status: n < 2 ? 500 : 200 }));
    t.db.transaction(() => t.enqueuer.alertsChanged([{ alert: makeAlert(3), isNew: true }]))();
    for (let i = 0; i < 5 && t.outbox.counts().pending > 0; i++) {
      await t.dispatcher.runOnce();
      t.advance(3_600_000);
    }
    expect(t.rec.received.map((r) => r.verified)).toEqual([true, true, true]);
    expect(new Set(t.rec.received.map((r) => r.id)).size).toBe(1);
    const [d] = t.outbox.list({ limit: 10 }).items;
    expect(d.state).toBe('delivered');
    expect(d.attempts).toBe(3);
  });

  it('backs off exponentially with full jitter between attempts', async () => {
    const t = await setup(() => ({ status: 503 }), { max_attempts: 5 });
    t.db.transaction(() => t.enqueuer.alertsChanged([{ alert: makeAlert(4), isNew: true }]))();
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      await t.dispatcher.runOnce();
      const d = t.outbox.list({ limit: 1 }).items[0];
      delays.push(Date.parse(d.next_attempt_at!) - t.now());
      t.advance(delays[i]);
    }
    // random() = 0.5 → half of base * 2^(attempt-1): 500, 1000, 2000, 4000 ms
    expect(delays).toEqual([500, 1000, 2000, 4000]);
  });

  it('dead-letters after max_attempts on a receiver that times out, and replays on demand', async () => {
    let healthy = false;
    const t = await setup(() => (healthy ? { status: 204 } : 'hang'), { max_attempts: 2, timeout: '300ms' });
    t.db.transaction(() => t.enqueuer.alertsChanged([{ alert: makeAlert(5), isNew: true }]))();
    await t.dispatcher.runOnce();
    t.advance(3_600_000);
    await t.dispatcher.runOnce();
    const dead = t.outbox.list({ state: 'dead', limit: 10 }).items;
    expect(dead).toHaveLength(1);
    expect(dead[0].attempts).toBe(2);
    expect(dead[0].last_error).toMatch(/timeout after 300ms/);
    expect(t.rec.received).toHaveLength(2);
    healthy = true;
    const replayed = t.outbox.replay(dead[0].id, t.now());
    expect(replayed.state).toBe('pending');
    await t.dispatcher.runOnce();
    expect(t.outbox.get(dead[0].id)!.state).toBe('delivered');
    expect(t.rec.received).toHaveLength(3);
    expect(new Set(t.rec.received.map((r) => r.id)).size).toBe(1);
  });

  it('honours 429 Retry-After in seconds and as an HTTP date', async () => {
    const t = await setup((n) =>
      n === 0
        ? { status: 429, headers: { 'retry-after': '120' } }
        : n === 1
          ? { status: 429, headers: { 'retry-after': new Date(Date.parse('2026-03-01T10:02:00Z') + 300_000).toUTCString() } }
          : { status: 200 },
    );
    t.db.transaction(() => t.enqueuer.alertsChanged([{ alert: makeAlert(6), isNew: true }]))();
    await t.dispatcher.runOnce();
    let d = t.outbox.list({ limit: 1 }).items[0];
    expect(Date.parse(d.next_attempt_at!) - t.now()).toBe(120_000);
    t.advance(119_000);
    await t.dispatcher.runOnce();
    expect(t.rec.received).toHaveLength(1); // not before Retry-After
    t.advance(1_000);
    await t.dispatcher.runOnce();
    d = t.outbox.list({ limit: 1 }).items[0];
    expect(t.rec.received).toHaveLength(2);
    expect(d.next_attempt_at).toBe('2026-03-01T10:07:00.000Z');
    t.advance(300_000);
    await t.dispatcher.runOnce();
    expect(t.outbox.get(d.id)!.state).toBe('delivered');
    expect(await t.metrics.registry.getSingleMetricAsString('authwatch_webhook_deliveries_total')).toContain('outcome="throttled"} 2');
  });

  it('stops on 410 Gone: the endpoint is disabled and its other deliveries dead-lettered', async () => {
    const t = await setup(() => ({ status: 410 }));
    t.db.transaction(() => t.enqueuer.alertsChanged([1, 2, 3].map((i) => ({ alert: makeAlert(10 + i), isNew: true }))))();
    await t.dispatcher.runOnce();
    expect(t.rec.received.length).toBeGreaterThanOrEqual(1);
    const seen = t.rec.received.length;
    t.advance(3_600_000);
    await t.dispatcher.runOnce();
    expect(t.rec.received).toHaveLength(seen); // no more attempts once gone
    expect(t.outbox.counts()).toEqual({ pending: 0, delivered: 0, dead: 3 });
    expect([...t.outbox.disabledEndpoints().keys()]).toEqual(['soar']);
    // replay re-enables the endpoint
    t.rec.respond = () => ({ status: 200 });
    const dead = t.outbox.list({ state: 'dead', limit: 10 }).items;
    t.outbox.replay(dead[0].id, t.now());
    expect(t.outbox.disabledEndpoints().size).toBe(0);
    await t.dispatcher.runOnce();
    expect(t.outbox.get(dead[0].id)!.state).toBe('delivered');
  });

  it('filters by rule, level and action type; coalesces unsent updates of one alert', async () => {
    const t = await setup(() => ({ status: 200 }), { levels: ['critical'], action_types: ['block_ip'] });
    const crit = makeAlert(20, {}, 'critical');
    t.db.transaction(() => {
      t.enqueuer.alertsChanged([{ alert: makeAlert(21, {}, 'low'), isNew: true }, { alert: crit, isNew: true }]);
      t.enqueuer.alertsChanged([{ alert: { ...crit, count: 40 }, isNew: false }]);
      t.enqueuer.alertsChanged([{ alert: { ...crit, count: 41 }, isNew: false }]);
    })();
    const action = { id: 'act_1', type: 'block_ip' as const, target: '203.0.113.9', ttl: '1h', status: 'active' as const, approval: 'required' as const, reason: 'r', alert: crit.id, created_at: 'x', updated_at: 'y', expires_at: null };
    t.db.transaction(() => {
      t.enqueuer.actionsChanged([{ action, previous: 'proposed' }], () => ({ id: crit.rule.id, name: crit.rule.name, level: 'critical' }));
      t.enqueuer.actionsChanged([{ action: { ...action, id: 'act_2', type: 'revoke_token', target: 'tfp_x' }, previous: null }]);
    })();
    await t.dispatcher.runOnce();
    const types = t.rec.received.map((r) => `${r.payload.type}:${(r.payload.data as { count?: number }).count ?? ''}`).sort();
    expect(types).toEqual(['action.changed:', 'alert.created:40', 'alert.updated:41']);
    const act = t.rec.received.find((r) => r.payload.type === 'action.changed')!;
    expect(act.payload.data).toMatchObject({ id: 'act_1', status: 'active', previous_status: 'proposed', type: 'block_ip' });
  });

  it('alerts born suppressed are not pushed', async () => {
    const t = await setup(() => ({ status: 200 }));
    t.db.transaction(() => t.enqueuer.alertsChanged([{ alert: makeAlert(50, { status: 'suppressed' }), isNew: true }]))();
    expect(t.outbox.counts()).toEqual({ pending: 0, delivered: 0, dead: 0 });
  });

  it('the same change enqueued twice is one delivery (deterministic webhook-id)', async () => {
    const t = await setup(() => ({ status: 200 }));
    const a = makeAlert(30);
    t.db.transaction(() => t.enqueuer.alertsChanged([{ alert: a, isNew: true }]))();
    t.db.transaction(() => t.enqueuer.alertsChanged([{ alert: a, isNew: true }]))();
    await t.dispatcher.runOnce();
    expect(t.rec.received).toHaveLength(1);
  });

  it('never puts raw tokens or evidence in a payload (canary)', async () => {
    const canary = 'eyJhbGciOiJIUzI1NiJ9.' + Buffer.from('{"canary":"CANARY-7f3a"}').toString('base64url') + '.c2lnbmF0dXJl';
    const t = await setup(() => ({ status: 200 }));
    const a = makeAlert(31, { evidence: { event_ids: ['e1'], samples: [{ auth: { detail: `Bearer ${canary}` } }] } });
    t.db.transaction(() => t.enqueuer.alertsChanged([{ alert: a, isNew: true }]))();
    await t.dispatcher.runOnce();
    expect(t.rec.received).toHaveLength(1);
    expect(t.rec.received[0].body).not.toContain(canary);
    expect(t.rec.received[0].body).not.toContain('CANARY');
    expect(t.lines.join('')).not.toContain(canary);
    expect(JSON.stringify(t.outbox.list({ limit: 10 }))).not.toContain(canary);
  });

  it('the running loop delivers without runOnce (timer-driven, stops cleanly)', async () => {
    const t = await setup(() => ({ status: 200 }));
    const real = new WebhookDispatcher({ outbox: t.outbox, endpoints: (t.dispatcher as unknown as { o: { endpoints: never } }).o.endpoints, allowPrivate: true, logger: memoryLogger().logger, pollMs: 20 });
    cleanups.push(() => real.stop());
    t.db.transaction(() => t.enqueuer.alertsChanged([{ alert: makeAlert(40), isNew: true }]))();
    real.start();
    for (let i = 0; i < 200 && t.rec.received.length === 0; i++) await new Promise((r) => setTimeout(r, 25));
    await real.stop();
    expect(t.rec.received).toHaveLength(1);
    expect(t.rec.received[0].verified).toBe(true);
  });
});
