import { afterEach, describe, expect, it } from 'vitest';
import { openStore, type Store, type AlertChange, type ActionChange } from '../../src/store/store.js';
import { AppError } from '../../src/errors.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { makeAlert, tempDbFile } from './helpers.js';

const T0 = Date.parse('2026-11-26T10:00:00.000Z');
let clock = T0;
const now = () => new Date(clock);
const stores: Store[] = [];
function open(file = tempDbFile(), metrics = createMetrics()): Store {
  clock = T0;
  const s = openStore(file, { now, metrics });
  stores.push(s);
  return s;
}
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
});

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof AppError) return err.code;
    throw err;
  }
  return undefined;
}

describe('store: schema and pragmas', () => {
  it('applies migrations once, in WAL with synchronous FULL and foreign keys', () => {
    const file = tempDbFile();
    const s = open(file);
    expect(s.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(s.db.pragma('synchronous', { simple: true })).toBe(2); // FULL
    expect(s.db.pragma('foreign_keys', { simple: true })).toBe(1);
    const names = s.db.prepare('SELECT name FROM schema_migrations').all() as { name: string }[];
    expect(names.map((n) => n.name)).toContain('001-core.sql');
    s.close();
    const again = open(file);
    expect((again.db.prepare('SELECT COUNT(*) AS n FROM schema_migrations WHERE name = ?').get('001-core.sql') as { n: number }).n).toBe(1);
  });
});

describe('store: alerts', () => {
  it('saving the same alert twice changes nothing', () => {
    const s = open();
    const metrics = createMetrics();
    const s2 = openStore(tempDbFile(), { now, metrics });
    stores.push(s2);
    const a = makeAlert();
    s2.saveAlerts([a]);
    const first = s2.getAlert(a.id);
    clock += 60_000;
    s2.saveAlerts([a]);
    expect(s2.getAlert(a.id)).toEqual(first);
    expect(s2.alertFeed(0, 100)).toHaveLength(1);
    expect(s2.audit('alert', a.id)).toHaveLength(1);
    expect(s.listAlerts({}, 10).items).toHaveLength(0);
  });

  it('counts authwatch_alerts_total only for new ids', async () => {
    const metrics = createMetrics();
    const s = openStore(tempDbFile(), { now, metrics });
    stores.push(s);
    const a = makeAlert();
    s.saveAlerts([a]);
    s.saveAlerts([{ ...a, count: 9, last_seen: '2026-11-26T00:02:00.000Z' }]);
    s.saveAlerts([a]);
    const m = await metrics.alertsRaised.get();
    expect(m.values.reduce((n, v) => n + v.value, 0)).toBe(1);
  });

  it('a later state updates count (max), last_seen (max), evidence (merged, capped) but never the status', () => {
    const s = open();
    const a = makeAlert({ count: 5, ids: ['e1', 'e2'] });
    s.saveAlerts([a]);
    s.transitionAlert(a.id, 'ack', 'analyst-1', 'looking');
    const later = makeAlert({ count: 8, last: '2026-11-26T00:05:00.000Z', ids: ['e2', 'e3', ...Array.from({ length: 200 }, (_, i) => `x${i}`)], status: 'open' });
    s.saveAlerts([later]);
    const got = s.getAlert(a.id)!;
    expect(got.count).toBe(8);
    expect(got.last_seen).toBe('2026-11-26T00:05:00.000Z');
    expect(got.status).toBe('acknowledged');
    expect(got.evidence.event_ids.slice(0, 3)).toEqual(['e1', 'e2', 'e3']);
    expect(got.evidence.event_ids).toHaveLength(100);
    // an out-of-order older state does not move anything backwards
    s.saveAlerts([makeAlert({ count: 2, last: '2026-11-26T00:00:30.000Z' })]);
    expect(s.getAlert(a.id)!.count).toBe(8);
    expect(s.getAlert(a.id)!.last_seen).toBe('2026-11-26T00:05:00.000Z');
  });

  it('lifecycle: allowed transitions, CONFLICT otherwise, NOT_FOUND for unknown ids, audit with actor and comment', () => {
    const s = open();
    const a = makeAlert();
    s.saveAlerts([a]);
    expect(code(() => s.transitionAlert(a.id, 'reopen', 'c1'))).toBe('CONFLICT');
    expect(s.transitionAlert(a.id, 'ack', 'c1', 'mine').status).toBe('acknowledged');
    expect(code(() => s.transitionAlert(a.id, 'ack', 'c1'))).toBe('CONFLICT');
    expect(s.transitionAlert(a.id, 'resolve', 'c2', 'fixed').status).toBe('resolved');
    expect(code(() => s.transitionAlert(a.id, 'suppress', 'c2'))).toBe('CONFLICT');
    expect(s.transitionAlert(a.id, 'reopen', 'c3', 'came back').status).toBe('open');
    expect(s.transitionAlert(a.id, 'suppress', 'c3').status).toBe('suppressed');
    expect(code(() => s.transitionAlert('al_nope', 'ack', 'c1'))).toBe('NOT_FOUND');
    const audit = s.audit('alert', a.id);
    expect(audit.map((e) => [e.actor, e.op, e.before_status, e.after_status, e.comment])).toEqual([
      ['rule:r-token-spray', 'create', null, 'open', null],
      ['c1', 'ack', 'open', 'acknowledged', 'mine'],
      ['c2', 'resolve', 'acknowledged', 'resolved', 'fixed'],
      ['c3', 'reopen', 'resolved', 'open', 'came back'],
      ['c3', 'suppress', 'open', 'suppressed', null],
    ]);
  });

  it('the audit log refuses updates', () => {
    const s = open();
    s.saveAlerts([makeAlert()]);
    expect(() => s.db.prepare("UPDATE audit_log SET actor = 'someone-else'").run()).toThrow(/append-only/);
  });

  it('lists with filters and a cursor that walks every alert exactly once', () => {
    const s = open();
    const alerts = [];
    for (let i = 0; i < 23; i++) {
      alerts.push(
        makeAlert({
          rule: i % 2 ? 'r-a' : 'r-b',
          name: i % 2 ? 'rule-a' : 'rule-b',
          level: i % 3 ? 'high' : 'low',
          group: { 'source.ip': `198.51.100.${i}`, 'token.client_id': i < 5 ? 'app-1' : 'app-2' },
          first: `2026-11-26T00:${String(i).padStart(2, '0')}:00.000Z`,
          last: `2026-11-26T00:${String(i).padStart(2, '0')}:30.000Z`,
        }),
      );
    }
    s.saveAlerts(alerts);
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let guard = 0; guard < 20; guard++) {
      const page = s.listAlerts({}, 5, cursor);
      seen.push(...page.items.map((a) => a.id));
      if (!page.next_cursor) break;
      cursor = page.next_cursor;
    }
    expect(seen).toHaveLength(23);
    expect(new Set(seen).size).toBe(23);
    expect(seen[0]).toBe(alerts[22].id); // newest first
    expect(s.listAlerts({ rule: 'r-a' }, 100).items).toHaveLength(11);
    expect(s.listAlerts({ rule: 'rule-b' }, 100).items).toHaveLength(12);
    expect(s.listAlerts({ level: ['low'] }, 100).items.every((a) => a.rule.level === 'low')).toBe(true);
    expect(s.listAlerts({ group: [['source.ip', '198.51.100.7']] }, 100).items.map((a) => a.id)).toEqual([alerts[7].id]);
    expect(s.listAlerts({ group: [['token.client_id', 'app-1']] }, 100).items).toHaveLength(5);
    const ranged = s.listAlerts({ since: '2026-11-26T00:10:00.000Z', until: '2026-11-26T00:12:00.000Z' }, 100).items;
    expect(ranged.map((a) => a.first_seen).sort()).toEqual([
      '2026-11-26T00:10:00.000Z',
      '2026-11-26T00:11:00.000Z',
      '2026-11-26T00:12:00.000Z',
    ]);
    s.transitionAlert(alerts[3].id, 'ack', 'c');
    expect(s.listAlerts({ status: ['acknowledged'] }, 100).items.map((a) => a.id)).toEqual([alerts[3].id]);
    expect(code(() => s.listAlerts({}, 5, 'not*a*cursor'))).toBe('INVALID_CURSOR');
    expect(code(() => s.listAlerts({}, 5, Buffer.from('{"pk":"x"}').toString('base64url')))).toBe('INVALID_CURSOR');
  });

  it('feed: monotonically increasing seq across reopen, never skipping or repeating', () => {
    const file = tempDbFile();
    let s = open(file);
    const a = makeAlert();
    const b = makeAlert({ group: { 'source.ip': '198.51.100.1' } });
    s.saveAlerts([a, b]);
    s.transitionAlert(a.id, 'ack', 'c');
    const first = s.alertFeed(0, 2);
    expect(first.map((f) => f.change)).toEqual(['created', 'created']);
    const cursor = first[first.length - 1].seq;
    s.close();
    s = open(file);
    s.saveAlerts([{ ...b, count: 50, last_seen: '2026-11-26T00:09:00.000Z' }]);
    const rest = s.alertFeed(cursor, 100);
    expect(rest.map((f) => [f.alert.id, f.change])).toEqual([
      [a.id, 'acknowledged'],
      [b.id, 'updated'],
    ]);
    const all = s.alertFeed(0, 100).map((f) => f.seq);
    expect(all).toEqual([...all].sort((x, y) => x - y));
    expect(new Set(all).size).toBe(all.length);
    expect(s.alertFeedHead()).toBe(all[all.length - 1]);
  });

  it('transaction listeners run inside the transaction: a throwing listener rolls the alert back', () => {
    const s = open();
    const seen: AlertChange[][] = [];
    s.db.exec('CREATE TABLE test_outbox (alert_id TEXT)');
    const off = s.onAlertsChanged((tx, changes) => {
      seen.push(changes);
      for (const c of changes) tx.prepare('INSERT INTO test_outbox VALUES (?)').run(c.alert.id);
    });
    const a = makeAlert();
    s.saveAlerts([a]);
    s.saveAlerts([a]); // no change, no call
    expect(seen).toHaveLength(1);
    expect(seen[0][0].isNew).toBe(true);
    expect((s.db.prepare('SELECT COUNT(*) AS n FROM test_outbox').get() as { n: number }).n).toBe(1);
    off();
    s.onAlertsChanged(() => {
      throw new Error('outbox full');
    });
    const b = makeAlert({ group: { 'source.ip': '192.0.2.1' } });
    expect(() => s.saveAlerts([b])).toThrow('outbox full');
    expect(s.getAlert(b.id)).toBeNull();
    expect(s.alertFeed(0, 100)).toHaveLength(1);
  });

  it('feed pages equal the change table at every cursor, near the head and deep in history, as changes keep coming', () => {
    const s = open();
    const truth = s.db.prepare<[number, number], { seq: number; change: string; alert_id: string }>('SELECT seq, change, alert_id FROM alert_changes WHERE seq > ? ORDER BY seq LIMIT ?');
    const check = () => {
      const head = s.alertFeedHead();
      for (const cursor of [0, 1, 499, 500, 501, head - 2001, head - 2000, head - 1999, head - 150, head - 1, head, head + 5]) {
        for (const limit of [1, 100]) {
          const got = s.alertFeed(cursor, limit).map((i) => [i.seq, i.change, i.alert.id]);
          const want = truth.all(cursor, limit).map((r) => [r.seq, r.change, r.alert_id]);
          expect(got, `cursor ${cursor} limit ${limit}`).toEqual(want);
        }
      }
    };
    const mk = (i: number) => makeAlert({ rule: 'r-tail', group: { 'source.ip': `10.9.${i >> 8}.${i & 255}` } });
    for (let i = 0; i < 2600; i += 200) s.saveAlerts(Array.from({ length: 200 }, (_, k) => mk(i + k)));
    check(); // more history than the tail reads when it is built
    s.transitionAlert(mk(3).id, 'ack', 'analyst');
    s.saveAlerts([{ ...mk(10), count: 99, last_seen: '2026-11-26T00:09:00.000Z' }, mk(5000)]);
    check(); // extended after the store's own writes
    s.db.prepare("INSERT INTO alert_changes (alert_id, change, at) VALUES (?, 'updated', '2026-11-26T00:10:00.000Z')").run(mk(7).id);
    check(); // raw SQL on the same connection
    s.db.prepare('DELETE FROM alert_changes WHERE seq > ?').run(s.alertFeedHead() - 3);
    check(); // even a raw delete at the head
    s.saveAlerts([mk(6000)]);
    check();
  });

  it('list and feed never serve a parsed alert from a rolled-back write, nor a stale one after raw SQL', () => {
    const s = open();
    const a = makeAlert();
    s.saveAlerts([a]);
    expect(s.listAlerts({}, 10).items[0].count).toBe(5); // now held by the parsed-alert cache
    // A listener that reads the list inside the write, then aborts it: what it read was uncommitted.
    let readInside = -1;
    const off = s.onAlertsChanged(() => {
      readInside = s.listAlerts({}, 10).items[0].count;
      throw new Error('abort');
    });
    expect(() => s.saveAlerts([{ ...a, count: 77, last_seen: '2026-11-26T00:02:00.000Z' }])).toThrow('abort');
    off();
    expect(readInside).toBe(77);
    expect(s.listAlerts({}, 10).items[0].count).toBe(5);
    expect(s.alertFeed(0, 10)[0].alert.count).toBe(5);
    // the same from a caller's own transaction around the store's write and a read, rolled back
    expect(() =>
      s.db.transaction(() => {
        s.saveAlerts([{ ...a, count: 88, last_seen: '2026-11-26T00:03:00.000Z' }]);
        expect(s.listAlerts({}, 10).items[0].count).toBe(88);
        expect(s.alertFeed(0, 10)[0].alert.count).toBe(88);
        throw new Error('caller aborts');
      })(),
    ).toThrow('caller aborts');
    expect(s.listAlerts({}, 10).items[0].count).toBe(5);
    expect(s.alertFeed(0, 10)[0].alert.count).toBe(5);
    // raw SQL on the store's own connection (no store method): seen by the next read
    s.db.prepare('UPDATE alerts SET count = 9 WHERE id = ?').run(a.id);
    expect(s.alertFeed(0, 10)[0].alert.count).toBe(9);
    expect(s.listAlerts({}, 10).items[0].count).toBe(9);
  });
});

describe('store: actions', () => {
  const proposedBlock = { action: 'block_ip' as const, ttl: '1h', approval: 'required' as const };

  it('new alerts create proposed actions with deterministic ids; auto approval activates at once', () => {
    const s = open();
    const changes: ActionChange[] = [];
    s.onActionsChanged((_tx, c) => changes.push(...c));
    const a = makeAlert({
      group: { 'source.ip': '203.0.113.7', 'token.fp': 'tfp_AAAAAAAAAAAAAAAAAAAAAA', 'token.client_id': 'app-9' },
      proposed: [proposedBlock, { action: 'revoke_token', ttl: '30m', approval: 'auto' }, { action: 'disable_client', ttl: '1d', approval: 'required' }],
    });
    s.saveAlerts([a]);
    s.saveAlerts([{ ...a, count: 99 }]);
    const list = s.listActions({ alert: a.id }, 10).items;
    expect(list).toHaveLength(3);
    const byType = Object.fromEntries(list.map((x) => [x.type, x]));
    expect(byType.block_ip).toMatchObject({ target: '203.0.113.7', status: 'proposed', expires_at: null, alert: a.id });
    expect(byType.revoke_token).toMatchObject({ target: 'tfp_AAAAAAAAAAAAAAAAAAAAAA', status: 'active', expires_at: new Date(T0 + 30 * 60_000).toISOString() });
    expect(byType.disable_client.target).toBe('app-9');
    expect(changes.map((c) => c.previous)).toEqual([null, null, null]);
    // same alert saved into a fresh store → same action ids
    const other = open();
    other.saveAlerts([a]);
    expect(other.listActions({}, 10).items.map((x) => x.id).sort()).toEqual(list.map((x) => x.id).sort());
  });

  it('an alert without the target field proposes nothing for that type', () => {
    const s = open();
    s.saveAlerts([makeAlert({ group: { 'token.client_id': 'x' }, proposed: [proposedBlock] })]);
    expect(s.listActions({}, 10).items).toHaveLength(0);
  });

  it('approve sets expires_at = now + ttl; reject, lift and expire follow the lifecycle', () => {
    const s = open();
    const a = makeAlert({ proposed: [proposedBlock] });
    s.saveAlerts([a]);
    const act = s.listActions({}, 1).items[0];
    clock += 5_000;
    const approved = s.transitionAction(act.id, 'approve', 'soc-1', 'confirmed');
    expect(approved.status).toBe('active');
    expect(approved.expires_at).toBe(new Date(clock + 3_600_000).toISOString());
    expect(code(() => s.transitionAction(act.id, 'reject', 'soc-1'))).toBe('CONFLICT');
    expect(s.expireActions(new Date(clock + 3_599_000))).toHaveLength(0);
    const expired = s.expireActions(new Date(clock + 3_600_000));
    expect(expired.map((x) => x.status)).toEqual(['expired']);
    expect(code(() => s.transitionAction(act.id, 'lift', 'soc-1'))).toBe('CONFLICT');
    expect(s.audit('action', act.id).map((e) => [e.actor, e.op, e.after_status])).toEqual([
      ['rule:r-token-spray', 'create', 'proposed'],
      ['soc-1', 'approve', 'active'],
      ['system', 'expire', 'expired'],
    ]);
    const m = s.createAction({ type: 'block_ip', target: '198.51.100.0/24', ttl: '1h', reason: 'manual', approval: 'required' }, 'soc-2');
    expect(s.transitionAction(m.id, 'reject', 'soc-2').status).toBe('rejected');
    const n = s.createAction({ type: 'block_ip', target: '198.51.100.9', ttl: '1h', reason: 'manual' }, 'soc-2');
    expect(n.status).toBe('active');
    expect(s.transitionAction(n.id, 'lift', 'soc-2', 'false positive').status).toBe('lifted');
    expect(code(() => s.transitionAction('ac_missing', 'lift', 'x'))).toBe('NOT_FOUND');
  });

  it('manual targets: IPs and CIDRs normalised, raw tokens refused without being stored', () => {
    const s = open();
    const canary = 'eyJhbGciOiJFUzI1NiJ9.' + Buffer.from(JSON.stringify({ sub: 'canary-' + Math.random() })).toString('base64url') + '.c2ln';
    const refuse = (type: 'revoke_token' | 'block_ip' | 'disable_client' | 'require_reauth', target: string) => {
      try {
        s.createAction({ type, target, ttl: '1h', reason: 'x' }, 'c');
      } catch (err) {
        expect(err).toBeInstanceOf(AppError);
        expect((err as AppError).message).not.toContain(target);
        return (err as AppError).message;
      }
      throw new Error('accepted ' + target);
    };
    expect(refuse('revoke_token', canary)).toMatch(/looks like a raw token/);
    expect(refuse('revoke_token', 'Bearer ' + canary)).toMatch(/looks like a raw token/);
    expect(refuse('require_reauth', 'a8f3k2m9q7w1e5r4t6y8u0i2o4p6a8s0d2f4')).toMatch(/looks like a raw token/);
    expect(refuse('disable_client', canary)).toMatch(/looks like a raw token/);
    expect(refuse('revoke_token', 'tfp_short')).toMatch(/fingerprint/);
    expect(refuse('block_ip', '999.1.1.1')).toMatch(/IP address or a CIDR/);
    expect(refuse('block_ip', '0.0.0.0/0')).toMatch(/too broad/);
    expect(refuse('block_ip', '10.0.0.0/33')).toMatch(/IP address or a CIDR/);
    const dump = JSON.stringify(s.db.prepare('SELECT * FROM audit_log').all()) + JSON.stringify(s.db.prepare('SELECT * FROM actions').all());
    expect(dump).not.toContain(canary.split('.')[1]);
    expect(s.createAction({ type: 'block_ip', target: '198.51.100.77/24', ttl: '1h', reason: 'x' }, 'c').target).toBe('198.51.100.0/24');
    expect(s.createAction({ type: 'block_ip', target: '::ffff:192.0.2.5', ttl: '1h', reason: 'x' }, 'c').target).toBe('192.0.2.5');
    expect(s.createAction({ type: 'block_ip', target: '2001:db8::1', ttl: '1h', reason: 'x' }, 'c').target).toBe('2001:db8::1');
    expect(code(() => s.createAction({ type: 'block_ip', target: '198.51.100.0/24', ttl: '1h', reason: 'dup' }, 'c'))).toBe('CONFLICT');
    expect(code(() => s.createAction({ type: 'block_ip', target: '192.0.2.99', ttl: 'forever', reason: 'x' }, 'c'))).toBe('VALIDATION_FAILED');
    expect(s.createAction({ type: 'revoke_token', target: 'tfp_abcdefghijklmnopqrstuv', ttl: '1h', reason: 'x' }, 'c').status).toBe('active');
    expect(s.createAction({ type: 'disable_client', target: 'payments-api', ttl: '1h', reason: 'x' }, 'c').target).toBe('payments-api');
  });
});

describe('store: free text', () => {
  it('redacts tokens pasted into comments and reasons before storing them', () => {
    const s = open();
    const canary = 'eyJhbGciOiJFUzI1NiJ9.' + Buffer.from(JSON.stringify({ sub: 'canary-' + Math.random() })).toString('base64url') + '.c2lnbmF0dXJlLXNpZw';
    const a = makeAlert();
    s.saveAlerts([a]);
    s.transitionAlert(a.id, 'ack', 'c', `token was Bearer ${canary} in the log`);
    const act = s.createAction({ type: 'block_ip', target: '192.0.2.1', ttl: '1h', reason: `seen with ${canary}` }, 'c', `access_token=${canary}`);
    const dump = JSON.stringify(s.db.prepare('SELECT * FROM audit_log').all()) + JSON.stringify(s.db.prepare('SELECT * FROM actions').all());
    expect(dump).not.toContain(canary.split('.')[1]);
    expect(s.getAction(act.id)!.reason).toMatch(/^seen with /);
    expect(s.audit('alert', a.id)[1].comment).toMatch(/^token was /);
  });
});

describe('store: decisions', () => {
  it('full state, then new/deleted deltas by cursor, filtered by type, surviving reopen', () => {
    const file = tempDbFile();
    let s = open(file);
    const ip = s.createAction({ type: 'block_ip', target: '192.0.2.10', ttl: '1h', reason: 'x' }, 'c');
    s.createAction({ type: 'revoke_token', target: 'tfp_abcdefghijklmnopqrstuv', ttl: '1h', reason: 'x' }, 'c');
    const full = s.activeDecisions();
    expect(full.items).toHaveLength(2);
    expect(s.activeDecisions(['block_ip']).items.map((a) => a.id)).toEqual([ip.id]);
    s.close();
    s = open(file);
    s.transitionAction(ip.id, 'lift', 'c');
    const r = s.createAction({ type: 'block_ip', target: '192.0.2.0/24', ttl: '1h', reason: 'x' }, 'c');
    const d = s.decisionChanges(full.cursor);
    expect(d.new.map((a) => a.id)).toEqual([r.id]);
    expect(d.deleted.map((a) => a.id)).toEqual([ip.id]);
    expect(s.decisionChanges(d.cursor)).toMatchObject({ new: [], deleted: [] });
    // created and lifted between two polls: only "deleted"
    const flash = s.createAction({ type: 'disable_client', target: 'app-x', ttl: '1h', reason: 'x' }, 'c');
    s.transitionAction(flash.id, 'lift', 'c');
    const d2 = s.decisionChanges(d.cursor);
    expect(d2.new).toEqual([]);
    expect(d2.deleted.map((a) => a.id)).toEqual([flash.id]);
    expect(s.decisionChanges(d.cursor, ['block_ip']).deleted).toEqual([]);
  });

  it('reading decisions expires actions past their ttl', () => {
    const s = open();
    const a = s.createAction({ type: 'block_ip', target: '192.0.2.10', ttl: '10m', reason: 'x' }, 'c');
    const start = s.activeDecisions();
    clock += 10 * 60_000;
    expect(s.activeDecisions().items).toEqual([]);
    expect(s.decisionChanges(start.cursor).deleted.map((x) => x.id)).toEqual([a.id]);
    expect(s.getAction(a.id)!.status).toBe('expired');
  });

  it('bouncer cursors are kept per key, by hash only', () => {
    const s = open();
    const key = 'bouncer-key-' + 'k'.repeat(20);
    expect(s.bouncerCursor(key)).toBeNull();
    s.setBouncerCursor(key, 42);
    expect(s.bouncerCursor(key)).toBe(42);
    expect(s.bouncerCursor(key + 'x')).toBeNull();
    expect(JSON.stringify(s.db.prepare('SELECT * FROM bouncer_cursors').all())).not.toContain(key);
  });
});

describe('store: rejections and retention', () => {
  it('stores rejections truncated and purges by age', () => {
    const s = open();
    s.saveRejections([{ reason: 'malformed_json', message: 'bad', origin: { source: 'http', name: 'client-a', line: 3 }, raw: 'x'.repeat(10_000) }]);
    const r = s.rejections();
    expect(r).toHaveLength(1);
    expect(r[0].raw.length).toBe(4096);
    const old = makeAlert({ last: '2026-01-01T00:00:00.000Z', first: '2026-01-01T00:00:00.000Z', window: '2026-01-01T00:00:00.000Z' });
    s.saveAlerts([old]);
    const lifted = s.createAction({ type: 'block_ip', target: '192.0.2.1', ttl: '1h', reason: 'x' }, 'c');
    s.transitionAction(lifted.id, 'lift', 'c');
    const active = s.createAction({ type: 'block_ip', target: '192.0.2.2', ttl: '1h', reason: 'x' }, 'c');
    clock += 100 * 86_400_000;
    const fresh = makeAlert({ group: { 'source.ip': '192.0.2.3' }, last: new Date(clock).toISOString() });
    s.saveAlerts([fresh]);
    const res = s.purge({ alertsOlderThan: 90 * 86_400_000, auditOlderThan: 365 * 86_400_000, rejectedOlderThan: 14 * 86_400_000 });
    expect(res).toEqual({ alerts: 1, actions: 1, audit: 0, rejected: 1 });
    expect(s.getAlert(old.id)).toBeNull();
    expect(s.getAlert(fresh.id)).not.toBeNull();
    expect(s.getAction(lifted.id)).toBeNull();
    expect(s.getAction(active.id)).not.toBeNull();
    expect(s.alertFeed(0, 100).map((f) => f.alert.id)).toEqual([fresh.id]);
    expect(s.db.pragma('integrity_check', { simple: true })).toBe('ok');
  });
});
