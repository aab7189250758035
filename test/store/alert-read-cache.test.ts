// The store's parsed-alert cache (5,000 alerts) must keep the alerts pollers read on every
// request while a feed reader backfills the whole history through it; it moves a hit to the
// recent end only from its older half (store.ts, AlertReadCache), which must still protect them.
// The cache hands out one shared object per cached alert, so "still cached" is object identity.
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/store.js';
import { makeAlert, tempDbFile } from './helpers.js';

const store = openStore(tempDbFile('aw-read-cache-'), { synchronous: 'NORMAL' });
afterAll(() => store.close());

const TOTAL = 12_000; // over twice the cache's capacity
for (let i = 0; i < TOTAL; i += 1000) {
  store.saveAlerts(Array.from({ length: 1000 }, (_, j) => makeAlert({ group: { 'source.ip': `10.0.${(i + j) >> 8}.${(i + j) & 255}` }, window: new Date(Date.UTC(2026, 10, 26) + (i + j) * 1000).toISOString() })));
}
const head = store.alertFeedHead();
const newest = () => store.listAlerts({}, 1).items[0];

describe('parsed-alert cache', () => {
  it('keeps an alert read between every backfill page, and evicts it once nobody reads it', () => {
    const hot = newest();
    expect(newest()).toBe(hot);
    let pages = 0;
    for (let seq = 0; seq < head; seq += 100) {
      expect(store.alertFeed(seq, 100)).toHaveLength(Math.min(100, head - seq));
      expect(newest()).toBe(hot);
      pages++;
    }
    expect(pages).toBe(TOTAL / 100);
    // the same backfill without the poller: the alert is pushed out and parsed again
    for (let seq = 0; seq < head; seq += 100) store.alertFeed(seq, 100);
    const again = newest();
    expect(again).not.toBe(hot);
    expect(again).toEqual(hot);
  });
});
