// Group commit (openStore synchronous 'GROUP'): writes return before their fsync, and
// durable() resolves only after an fsync that started after them has completed. The fsync is
// injected so the order is observed directly (no timing); one test uses the real fsync and the
// real checkpoint thread.
import { statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/store/store.js';
import type { FsyncFn } from '../../src/store/wal-sync.js';
import { makeAlert, tempDbFile } from './helpers.js';

/** An fsync that does nothing until released: records the fd of each call. */
function gatedFsync() {
  const calls: Array<{ fd: number; release: (err?: Error) => void }> = [];
  const fsync: FsyncFn = (fd, cb) => calls.push({ fd, release: (err) => cb(err ?? null) });
  return { fsync, calls };
}

const turns = async (n = 5) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

function track(p: Promise<void>) {
  const t = { done: false, error: null as Error | null };
  p.then(
    () => (t.done = true),
    (e: Error) => (t.error = e),
  );
  return t;
}

let stores: Store[] = [];
afterEach(() => {
  for (const s of stores) s.close();
  stores = [];
});

function open(fsync?: FsyncFn, file = tempDbFile('aw-group-')): Store {
  const s = openStore(file, { synchronous: 'GROUP', fsync, checkpointIntervalMs: 20 });
  stores.push(s);
  return s;
}

describe('group commit', () => {
  it('durable() resolves only after the fsync of the WAL that follows the write', async () => {
    const g = gatedFsync();
    const s = open(g.fsync);
    s.saveAlerts([makeAlert({ rule: 'r-gc', group: { 'source.ip': '198.51.100.1' } })]);
    const t = track(s.durable());
    await turns();
    expect(g.calls).toHaveLength(1);
    expect(t.done).toBe(false);
    g.calls[0].release();
    await turns();
    expect(t.done).toBe(true);
    // nothing written since: no further fsync
    await s.durable();
    expect(g.calls).toHaveLength(1);
  });

  it('writes made while an fsync runs share the next one, and wait for it', async () => {
    const g = gatedFsync();
    const s = open(g.fsync);
    s.saveAlerts([makeAlert({ rule: 'r-gc', group: { 'source.ip': '198.51.100.1' } })]);
    const first = track(s.durable());
    await turns();
    s.saveAlerts([makeAlert({ rule: 'r-gc', group: { 'source.ip': '198.51.100.2' } })]);
    const second = track(s.durable());
    s.saveAlerts([makeAlert({ rule: 'r-gc', group: { 'source.ip': '198.51.100.3' } })]);
    const third = track(s.durable());
    await turns();
    expect(g.calls).toHaveLength(1); // one fsync in flight at a time
    g.calls[0].release();
    await turns();
    expect(first.done).toBe(true);
    // the first fsync may have started before the later writes: they wait for the next one
    expect(second.done || third.done).toBe(false);
    expect(g.calls).toHaveLength(2);
    g.calls[1].release();
    await turns();
    expect([second.done, third.done]).toEqual([true, true]);
  });

  it('a failed fsync rejects the waiting acknowledgements, and the next write retries', async () => {
    const g = gatedFsync();
    const s = open(g.fsync);
    s.saveAlerts([makeAlert({ rule: 'r-gc', group: { 'source.ip': '198.51.100.1' } })]);
    const t = track(s.durable());
    await turns();
    g.calls[0].release(Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' }));
    await turns();
    expect(t.error?.message).toContain('EIO');
    const again = track(s.durable());
    await turns();
    expect(g.calls).toHaveLength(2);
    g.calls[1].release();
    await turns();
    expect(again.done).toBe(true);
  });

  it('FULL stores are durable when a write returns: durable() never waits', async () => {
    const s = openStore(tempDbFile('aw-full-'));
    stores.push(s);
    s.saveAlerts([makeAlert({ rule: 'r-gc', group: { 'source.ip': '198.51.100.1' } })]);
    await expect(s.durable()).resolves.toBeUndefined();
  });

  it('with the real fsync: commits are readable by another connection, and checkpoints run on the thread, not in commits', async () => {
    const file = tempDbFile('aw-group-real-');
    const s = open(undefined, file);
    expect(s.db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
    expect(s.db.pragma('synchronous', { simple: true })).toBe(1); // NORMAL
    const dbSize = () => statSync(file).size;
    const before = dbSize();
    const alerts = Array.from({ length: 300 }, (_, i) => makeAlert({ rule: 'r-gc-real', group: { 'source.ip': `198.51.100.${i % 250}`, n: i } }));
    for (let i = 0; i < alerts.length; i += 10) s.saveAlerts(alerts.slice(i, i + 10));
    await s.durable();
    const other = new Database(file, { readonly: true });
    try {
      expect(other.prepare("SELECT COUNT(*) AS n FROM alerts WHERE rule_id = 'r-gc-real'").get()).toEqual({ n: 300 });
    } finally {
      other.close();
    }
    // the checkpoint thread copies the WAL into the database file (bounded wait, no timing asserted)
    for (let i = 0; i < 250 && dbSize() <= before; i++) await new Promise((r) => setTimeout(r, 20));
    expect(dbSize()).toBeGreaterThan(before);
  });
});

describe('group commit after close', () => {
  it('fails acknowledgements still waiting, and later ones, instead of claiming durability', async () => {
    const g = gatedFsync();
    const s = openStore(tempDbFile('aw-group-close-'), { synchronous: 'GROUP', fsync: g.fsync });
    s.saveAlerts([makeAlert({ rule: 'r-gc', group: { 'source.ip': '198.51.100.1' } })]);
    const inFlight = track(s.durable());
    await turns();
    s.saveAlerts([makeAlert({ rule: 'r-gc', group: { 'source.ip': '198.51.100.2' } })]);
    const waiting = track(s.durable());
    s.close();
    g.calls[0].release(); // the fsync that was running completes after close
    await turns();
    expect(inFlight.error?.message).toContain('closed');
    expect(waiting.error?.message).toContain('closed');
    await expect(s.durable()).rejects.toThrow('closed');
  });
});
