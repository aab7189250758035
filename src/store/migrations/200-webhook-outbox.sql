-- Webhook outbox (issue 6). Rows are written inside the alert/action transaction, so a
-- committed alert always has its deliveries; the dispatcher delivers them at least once.
CREATE TABLE webhook_deliveries (
  pk INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,           -- the webhook-id header: the receiver's idempotency key
  endpoint TEXT NOT NULL,            -- endpoint name from config.webhooks.endpoints
  event_type TEXT NOT NULL,          -- alert.created | alert.updated | action.changed | digest
  coalesce_key TEXT,                 -- not-yet-attempted updates of one alert merge into one row
  payload TEXT NOT NULL,             -- the exact JSON body (already thin and redacted)
  state TEXT NOT NULL,               -- pending | delivered | dead
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,  -- epoch ms; also the lease end while an attempt runs
  last_status INTEGER,
  last_error TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  delivered_at TEXT
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_state ON webhook_deliveries (state, pk);
CREATE INDEX webhook_deliveries_coalesce ON webhook_deliveries (coalesce_key) WHERE state = 'pending' AND attempts = 0;

-- Endpoints that answered 410 Gone: disabled until an operator replays a delivery to them.
CREATE TABLE webhook_endpoint_state (
  endpoint TEXT PRIMARY KEY,
  disabled_at TEXT,
  reason TEXT
);

-- The digest job's position: counts are "since the last digest".
CREATE TABLE job_state (
  job TEXT PRIMARY KEY,
  last_run_at TEXT,
  value TEXT
);
