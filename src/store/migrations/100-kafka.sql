-- Kafka worker state (issue 5). See docs/kafka.md "Crash safety".

-- The restart point of one rule-stage partition: the engine snapshot and the offset of the
-- first event NOT in it. Written after the alerts it produced are stored; on restart or
-- reassignment the engine is restored from it and the partition is re-read from `next_offset`
-- (alerts are upserted by deterministic id, so re-reading never duplicates).
CREATE TABLE kafka_partition_state (
  topic TEXT NOT NULL,
  partition INTEGER NOT NULL,
  next_offset TEXT NOT NULL,
  ruleset_hash TEXT NOT NULL,
  snapshot TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (topic, partition)
);

-- Transactional outbox for the alerts/actions topics: rows are written in the same SQLite
-- transaction as the alert/action change, and a publisher loop sends and deletes them
-- (at-least-once; ingest never waits for Kafka).
CREATE TABLE kafka_outbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  topic TEXT NOT NULL,
  msg_key TEXT NOT NULL,
  value TEXT NOT NULL,
  created_at TEXT NOT NULL
);
