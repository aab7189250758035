// The worker's SQLite tables (migration 100-kafka.sql), on the store's own connection:
// rule-stage restart points (engine snapshot + next offset) and the transactional outbox that
// feeds the alerts/actions topics.
import type Database from 'better-sqlite3';
import type { Store } from '../../store/store.js';
import { stripAction } from '../../store/store.js';

export interface PartitionState {
  topic: string;
  partition: number;
  nextOffset: string;
  rulesetHash: string;
  snapshot: string; // JSON of EngineSnapshot.state
}

export interface OutboxRow {
  seq: number;
  topic: string;
  key: string;
  value: string;
}

export class KafkaStateStore {
  private readonly st;

  constructor(private readonly db: Database.Database) {
    this.st = {
      load: db.prepare<[string, number], { next_offset: string; ruleset_hash: string; snapshot: string }>(
        'SELECT next_offset, ruleset_hash, snapshot FROM kafka_partition_state WHERE topic = ? AND partition = ?',
      ),
      save: db.prepare(
        `INSERT INTO kafka_partition_state (topic, partition, next_offset, ruleset_hash, snapshot, updated_at)
         VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (topic, partition) DO UPDATE SET next_offset = excluded.next_offset,
           ruleset_hash = excluded.ruleset_hash, snapshot = excluded.snapshot, updated_at = excluded.updated_at`,
      ),
      enqueue: db.prepare('INSERT INTO kafka_outbox (topic, msg_key, value, created_at) VALUES (?, ?, ?, ?)'),
      peek: db.prepare<[number], { seq: number; topic: string; msg_key: string; value: string }>(
        'SELECT seq, topic, msg_key, value FROM kafka_outbox ORDER BY seq LIMIT ?',
      ),
      ack: db.prepare('DELETE FROM kafka_outbox WHERE seq <= ?'),
      pending: db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM kafka_outbox'),
    };
  }

  load(topic: string, partition: number): PartitionState | null {
    const r = this.st.load.get(topic, partition);
    return r ? { topic, partition, nextOffset: r.next_offset, rulesetHash: r.ruleset_hash, snapshot: r.snapshot } : null;
  }

  save(s: PartitionState): void {
    this.st.save.run(s.topic, s.partition, s.nextOffset, s.rulesetHash, s.snapshot, new Date().toISOString());
  }

  /** Only inside a store transaction (listener), so the row commits with the change it announces. */
  enqueue(topic: string, key: string, value: string): void {
    this.st.enqueue.run(topic, key, value, new Date().toISOString());
  }

  peek(limit: number): OutboxRow[] {
    return this.st.peek.all(limit).map((r) => ({ seq: r.seq, topic: r.topic, key: r.msg_key, value: r.value }));
  }

  ack(upToSeq: number): void {
    this.st.ack.run(upToSeq);
  }

  pending(): number {
    return this.st.pending.get()!.n;
  }
}

/**
 * Write every alert and action change into the outbox, inside the store transaction that made
 * it. Values are the stored (already redacted) alert and action JSON; keys are their ids, so a
 * compacted consumer keeps the latest state of each.
 */
export function attachOutbox(store: Store, state: KafkaStateStore, topics: { alerts: string; actions: string }): () => void {
  const offAlerts = store.onAlertsChanged((_tx, changes) => {
    for (const c of changes) state.enqueue(topics.alerts, c.alert.id, JSON.stringify({ change: c.change, alert: c.alert }));
  });
  const offActions = store.onActionsChanged((_tx, changes) => {
    for (const c of changes) state.enqueue(topics.actions, c.action.id, JSON.stringify({ previous: c.previous, action: stripAction(c.action) }));
  });
  return () => {
    offAlerts();
    offActions();
  };
}
