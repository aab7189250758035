// Retry timing: exponential backoff with full jitter stays within its bounds, and
// Retry-After parsing covers both RFC 9110 forms, bad values and the cap.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffDelay, MAX_RETRY_AFTER_MS, parseRetryAfter } from '../../src/delivery/webhooks/backoff.js';
import { WebhookOutbox } from '../../src/delivery/webhooks/outbox.js';
import { WebhookDispatcher, WebhookEnqueuer } from '../../src/delivery/webhooks/dispatcher.js';
import { configSchema } from '../../src/config/config.js';
import { makeAlert, memoryLogger, tempDb } from './support/fixtures.js';
import { TEST_SECRET } from './support/receiver.js';

describe('backoff', () => {
  it('full jitter: 0 <= delay < min(cap, base * 2^(attempt-1))', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 60 }), fc.double({ min: 0, max: 0.999999, noNaN: true }), (attempt, r) => {
        const d = backoffDelay(attempt, { baseMs: 1000, capMs: 3_600_000 }, () => r);
        const ceiling = Math.min(3_600_000, 1000 * 2 ** (attempt - 1));
        return d >= 0 && d < ceiling && Number.isInteger(d);
      }),
    );
  });

  it('Retry-After: delay-seconds, HTTP-date, past dates, garbage, cap', () => {
    const now = Date.parse('2026-03-01T10:00:00Z');
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('Sun, 01 Mar 2026 10:05:00 GMT', now)).toBe(300_000);
    expect(parseRetryAfter('Sun, 01 Mar 2026 09:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeNull();
    expect(parseRetryAfter('-5', now)).toBeNull();
    expect(parseRetryAfter(undefined, now)).toBeNull();
    expect(parseRetryAfter('999999999', now)).toBe(MAX_RETRY_AFTER_MS);
  });
});

describe('dispatcher and the SSRF guard at delivery time', () => {
  it('a target that now resolves to a private address is dead-lettered without a request', async () => {
    const { db } = tempDb();
    const cfg = configSchema.parse({ webhooks: { endpoints: [{ name: 'soar', url: 'https://hooks.example.com/h', secret: TEST_SECRET }] } });
    const outbox = new WebhookOutbox(db);
    new WebhookEnqueuer(outbox, cfg.webhooks.endpoints, 'https://aw.example').alertsChanged([{ alert: makeAlert(1), isNew: true }]);
    const { logger, lines } = memoryLogger();
    const d = new WebhookDispatcher({ outbox, endpoints: cfg.webhooks.endpoints, allowPrivate: false, logger, resolver: async () => [{ address: '10.1.2.3', family: 4 }] });
    await d.runOnce();
    const [row] = outbox.list({ state: 'dead', limit: 5 }).items;
    expect(row.last_error).toMatch(/resolves to a private address \(10\.1\.2\.3\)/);
    expect(row.attempts).toBe(1);
    expect(lines.join('')).toMatch(/SSRF policy/);
    db.close();
  });
});
