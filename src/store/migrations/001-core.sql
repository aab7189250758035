-- Core schema: alerts, actions, their change feeds, the audit log, bouncer positions and
-- rejected input. Engineers adding tables use their own ranges (Kafka 1NN, webhooks 2NN).

CREATE TABLE alerts (
  pk INTEGER PRIMARY KEY,            -- insertion order: the stable sort key for listing
  id TEXT NOT NULL UNIQUE,           -- deterministic alert id (alertId())
  rule_id TEXT NOT NULL,
  rule_name TEXT NOT NULL,
  rule_title TEXT NOT NULL,
  level TEXT NOT NULL,
  group_json TEXT NOT NULL,
  count INTEGER NOT NULL,
  first_seen TEXT NOT NULL,
  last_seen TEXT NOT NULL,
  evidence_json TEXT NOT NULL,
  proposed_json TEXT NOT NULL,
  status TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX alerts_rule_id ON alerts (rule_id, pk);
CREATE INDEX alerts_rule_name ON alerts (rule_name, pk);
CREATE INDEX alerts_status ON alerts (status, pk);
CREATE INDEX alerts_level ON alerts (level, pk);
CREATE INDEX alerts_last_seen ON alerts (last_seen);
CREATE INDEX alerts_first_seen ON alerts (first_seen);

-- One row per group key/value of an alert, for `group.source.ip=...` filters.
CREATE TABLE alert_group (
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  alert_pk INTEGER NOT NULL REFERENCES alerts (pk) ON DELETE CASCADE,
  PRIMARY KEY (key, value, alert_pk)
) WITHOUT ROWID;
CREATE INDEX alert_group_alert ON alert_group (alert_pk);

-- The SIEM feed: AUTOINCREMENT so a sequence number is never reused, even after retention
-- deletes the newest rows; the feed cursor is this seq.
CREATE TABLE alert_changes (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  alert_id TEXT NOT NULL,
  change TEXT NOT NULL,              -- created | updated | acknowledged | resolved | reopened | suppressed
  at TEXT NOT NULL
);
CREATE INDEX alert_changes_alert ON alert_changes (alert_id);

CREATE TABLE actions (
  pk INTEGER PRIMARY KEY,            -- also the numeric decision id in the CrowdSec stream
  id TEXT NOT NULL UNIQUE,
  type TEXT NOT NULL,
  target TEXT NOT NULL,
  ttl TEXT NOT NULL,
  status TEXT NOT NULL,
  approval TEXT NOT NULL,
  reason TEXT NOT NULL,
  alert_id TEXT,
  scenario TEXT NOT NULL,            -- rule name, or "manual"
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  expires_at TEXT
);
CREATE INDEX actions_status ON actions (status, pk);
CREATE INDEX actions_type ON actions (type, pk);
CREATE INDEX actions_alert ON actions (alert_id);
CREATE INDEX actions_active_expiry ON actions (expires_at) WHERE status = 'active';

-- Decisions (active actions) appearing and disappearing, for /decisions and the CrowdSec stream.
CREATE TABLE decision_changes (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  action_pk INTEGER NOT NULL,
  change TEXT NOT NULL,              -- new | deleted
  at TEXT NOT NULL
);

-- Each bouncer's position in decision_changes, keyed by a hash of its API key (never the key).
CREATE TABLE bouncer_cursors (
  key_hash TEXT PRIMARY KEY,
  seq INTEGER NOT NULL,
  last_pull TEXT NOT NULL
);

CREATE TABLE audit_log (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  at TEXT NOT NULL,
  actor TEXT NOT NULL,               -- principal client id, "system" or "rule:<id>"
  entity TEXT NOT NULL,              -- alert | action
  entity_id TEXT NOT NULL,
  op TEXT NOT NULL,
  before_status TEXT,
  after_status TEXT,
  comment TEXT
);
CREATE INDEX audit_log_entity ON audit_log (entity, entity_id);
CREATE INDEX audit_log_at ON audit_log (at);
-- Append-only: history is never rewritten (retention deletes whole old rows only).
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
  SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TABLE rejected_input (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at TEXT NOT NULL,
  source TEXT NOT NULL,
  name TEXT NOT NULL,
  line INTEGER,
  partition INTEGER,
  offset TEXT,
  reason TEXT NOT NULL,
  message TEXT NOT NULL,
  raw TEXT NOT NULL                  -- already redacted by ingest; truncated here
);
CREATE INDEX rejected_input_at ON rejected_input (at);
