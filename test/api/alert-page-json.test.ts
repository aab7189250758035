// The list and feed JSON bodies are assembled from per-alert JSON (alert-page-json.ts). They must
// be byte-identical to what the routes' response schemas serialise for the whole page, and
// never stale: every body here is compared with a reference server that reads the same file
// through a fresh store connection (no caches) and serialises with the response schemas.
import Fastify, { type FastifyInstance } from 'fastify';
import fc from 'fast-check';
import type { AddressInfo } from 'node:net';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { feedResponseSchema, listResponseSchema } from '../../src/delivery/api/alerts-routes.js';
import { openStore } from '../../src/store/store.js';
import { makeAlert, tempDbFile } from '../store/helpers.js';
import { startRoutes, type RoutesHarness } from './routes-harness.js';

let h: RoutesHarness;
/** Same file, a feed tail of 8 changes: older feed pages take the stored-text path (backfill). */
let back: RoutesHarness;
let ref: FastifyInstance;
let refUrl: string;
let reader: Record<string, string>;
let file: string;

const bytes = async (url: string, headers: Record<string, string> = {}) => {
  const r = await fetch(url, { headers });
  expect(r.status).toBe(200);
  return Buffer.from(await r.arrayBuffer());
};

/** The served body and the reference body for the same page. */
async function both(path: string, server: RoutesHarness = h): Promise<[Buffer, Buffer]> {
  return [await bytes(server.url + '/v1' + path, reader), await bytes(refUrl + path)];
}

beforeAll(async () => {
  file = tempDbFile('aw-page-json-');
  h = await startRoutes({ file });
  back = await startRoutes({ file, store: { feedTailMax: 8 } });
  reader = h.as('siem-1', ['alerts:read']);
  ref = Fastify({ logger: false });
  const fresh = <T>(fn: (s: ReturnType<typeof openStore>) => T): T => {
    const s = openStore(file);
    try {
      return fn(s);
    } finally {
      s.close();
    }
  };
  ref.get<{ Querystring: { limit: string; status?: string; cursor?: string } }>('/alerts', { schema: { response: { 200: listResponseSchema } } }, async (req) =>
    fresh((s) => s.listAlerts({ status: req.query.status ? [req.query.status as 'open'] : undefined }, Number(req.query.limit), req.query.cursor)),
  );
  ref.get<{ Querystring: { limit: string; cursor: string } }>('/alerts/feed', { schema: { response: { 200: feedResponseSchema } } }, async (req) =>
    fresh((s) => {
      const items = s.alertFeed(Number(req.query.cursor), Number(req.query.limit));
      return { items, next_cursor: items.length ? String(items[items.length - 1].seq) : req.query.cursor };
    }),
  );
  await ref.listen({ host: '127.0.0.1', port: 0 });
  refUrl = `http://127.0.0.1:${(ref.server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await ref?.close();
  await h?.close();
  await back?.close();
});

describe('alert list and feed bodies', () => {
  it('are byte-identical to the response-schema serialisation, whatever the alert content', async () => {
    // group values and sample content of every JSON type, escapes, non-ASCII, lone surrogates;
    // undeclared fields in proposed actions (the schema drops them)
    const value = fc.oneof(fc.string({ unit: 'binary', maxLength: 60 }), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null));
    const alerts = fc.sample(
      fc.record({ ip: fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }), other: value, sample: fc.dictionary(fc.string({ maxLength: 10 }), value, { maxKeys: 4 }), title: fc.string({ unit: 'binary', maxLength: 30 }) }),
      { numRuns: 80, seed: 7 },
    ).map((r, i) => {
      const a = makeAlert({ rule: `r-json-${i % 3}`, group: { 'source.ip': r.ip, other: r.other as string }, window: `2026-11-26T03:${String(i % 60).padStart(2, '0')}:00.000Z` });
      a.rule.title = r.title;
      a.evidence.samples = [r.sample];
      a.proposed = [{ action: 'block_ip', ttl: '1h', approval: 'manual', extra: 'dropped' } as never];
      return a;
    });
    h.store.saveAlerts(alerts);
    const head = h.store.alertFeedHead();
    const feeds = ['/alerts/feed?cursor=0&limit=500', '/alerts/feed?cursor=3&limit=10', `/alerts/feed?cursor=${head - 30}&limit=25`, `/alerts/feed?cursor=${head - 4}&limit=10`, '/alerts/feed?cursor=100000&limit=10'];
    for (const path of ['/alerts?limit=500', '/alerts?limit=7', ...feeds]) {
      const [served, expected] = await both(path);
      expect(served.equals(expected), path).toBe(true);
    }
    // the small-tail server builds older pages from the stored text, the newest from the tail
    expect('rows' in back.store.alertFeedForJson(0, 10)).toBe(true);
    expect('items' in back.store.alertFeedForJson(head - 4, 10)).toBe(true);
    for (const path of feeds) {
      const [served, expected] = await both(path, back);
      expect(served.equals(expected), 'backfill ' + path).toBe(true);
    }
  });

  it('follow every change: the store, raw SQL on its own connection, another connection, a rollback', async () => {
    const page = '/alerts?limit=50&status=open';
    const feed = '/alerts/feed?cursor=0&limit=500';
    const check = async () => {
      for (const p of [page, feed]) {
        const [served, expected] = await both(p);
        expect(served.toString(), p).toBe(expected.toString());
      }
      const [served, expected] = await both(feed, back);
      expect(served.toString(), 'backfill ' + feed).toBe(expected.toString());
    };
    const a = makeAlert({ rule: 'r-follow', group: { 'source.ip': '198.51.100.1' } });
    h.store.saveAlerts([a]);
    await check();
    h.store.saveAlerts([{ ...a, count: 50, last_seen: '2026-11-26T00:05:00.000Z', evidence: { event_ids: ['e9'], samples: [] } }]);
    await check();
    h.store.transitionAlert(a.id, 'ack', 'analyst');
    await check();
    // raw SQL on the store's own connection, then a store write before anyone reads
    h.store.db.prepare('UPDATE alerts SET rule_title = ? WHERE id = ?').run('renamed by SQL', a.id);
    h.store.saveAlerts([makeAlert({ rule: 'r-follow', group: { 'source.ip': '198.51.100.2' } })]);
    await check();
    expect((await bytes(`${h.url}/v1/alerts/feed?cursor=0&limit=500`, reader)).toString()).toContain('renamed by SQL');
    const other = new Database(file);
    try {
      other.prepare("UPDATE alerts SET status = 'resolved', rule_title = 'other process' WHERE id = ?").run(a.id);
    } finally {
      other.close();
    }
    await check();
    // a failed write (a listener throws inside the transaction) changes nothing that is served
    const off = h.store.onAlertsChanged(() => {
      throw new Error('listener refuses');
    });
    expect(() => h.store.saveAlerts([{ ...a, count: 999, last_seen: '2026-11-26T00:09:00.000Z' }])).toThrow('listener refuses');
    off();
    await check();
    expect((await bytes(`${h.url}/v1/alerts/feed?cursor=0&limit=500`, reader)).toString()).not.toContain('"count":999');
  });
});
