// The alert list/feed page cache: a cached page is served only while the database is unchanged,
// whoever changed it (this store, another connection on the same file, a retention delete), and
// a cached page is the schema-serialised one (undeclared fields never appear).
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeAlert, tempDbFile } from '../store/helpers.js';
import { call, startRoutes, type RoutesHarness } from './routes-harness.js';

let h: RoutesHarness;
let reader: Record<string, string>;
let file: string;
const mk = (i: number) =>
  makeAlert({
    rule: 'r-cache',
    name: 'cache-rule',
    level: 'high',
    group: { 'source.ip': `198.51.100.${i}` },
    first: `2026-11-26T02:${String(i).padStart(2, '0')}:00.000Z`,
    last: `2026-11-26T02:${String(i).padStart(2, '0')}:30.000Z`,
  });

beforeAll(async () => {
  file = tempDbFile('aw-page-cache-');
  h = await startRoutes({ file });
  reader = h.as('siem-1', ['alerts:read']);
  h.store.saveAlerts([mk(0), mk(1)]);
});
afterAll(async () => {
  await h?.close();
});

const ids = async (path: string) => {
  const r = await call(`${h.url}${path}`, { headers: reader });
  expect(r.status).toBe(200);
  expect(r.headers.get('content-type')).toMatch(/^application\/json/);
  return r.body;
};

describe('alert page cache', () => {
  it('a repeated list or feed request sees every write made through the store', async () => {
    const first = await ids('/v1/alerts?limit=10');
    expect(await ids('/v1/alerts?limit=10')).toEqual(first); // served again, unchanged
    h.store.saveAlerts([mk(2)]);
    const after = await ids('/v1/alerts?limit=10');
    expect(after.items.map((a: { id: string }) => a.id)).toEqual([mk(2).id, mk(1).id, mk(0).id]);
    const feed1 = await ids('/v1/alerts/feed?cursor=0&limit=50');
    h.store.transitionAlert(mk(0).id, 'ack', 'analyst', 'seen');
    const feed2 = await ids('/v1/alerts/feed?cursor=0&limit=50');
    expect(feed2.items.length).toBe(feed1.items.length + 1);
    expect(feed2.items.at(-1)).toMatchObject({ change: 'acknowledged', alert: { id: mk(0).id, status: 'acknowledged' } });
    expect((await ids('/v1/alerts?limit=10')).items.find((a: { id: string }) => a.id === mk(0).id).status).toBe('acknowledged');
  });

  it('a write by another connection to the same file (another process) is seen at once', async () => {
    const before = await ids('/v1/alerts?limit=10&status=open');
    await ids('/v1/alerts?limit=10&status=open');
    const other = new Database(file);
    try {
      other.prepare("UPDATE alerts SET status = 'resolved' WHERE id = ?").run(mk(1).id);
    } finally {
      other.close();
    }
    const after = await ids('/v1/alerts?limit=10&status=open');
    expect(after.items.map((a: { id: string }) => a.id)).toEqual(before.items.map((a: { id: string }) => a.id).filter((id: string) => id !== mk(1).id));
  });

  it('a retention delete is seen at once', async () => {
    const before = await ids('/v1/alerts?limit=10');
    expect(before.items.length).toBeGreaterThan(0);
    h.store.purge({ alertsOlderThan: 1 }, new Date('2100-01-01T00:00:00Z'));
    const after = await ids('/v1/alerts?limit=10');
    expect(after.items.length).toBeLessThan(before.items.length);
  });
});
