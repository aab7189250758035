// Every Prometheus metric authwatch exports (plus prom-client's process/runtime defaults as authwatch_process_* and authwatch_nodejs_*), in one place, so dashboards and docs can be
// checked against this list (test/observability/dashboards.test.ts). Names follow the
// Prometheus conventions: authwatch_ prefix, _total / _seconds / _bytes suffixes.
import { Registry, Counter, Gauge, Histogram, collectDefaultMetrics } from 'prom-client';

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'authwatch_' });
  const r = [registry];
  const m = {
    registry,
    // ingest
    eventsReceived: new Counter({ name: 'authwatch_events_received_total', help: 'Input lines/messages received, by source and format', labelNames: ['source', 'format'], registers: r }),
    eventsAccepted: new Counter({ name: 'authwatch_events_accepted_total', help: 'Events accepted after normalisation, redaction and validation', labelNames: ['source'], registers: r }),
    eventsRejected: new Counter({ name: 'authwatch_events_rejected_total', help: 'Input rejected, by source and reason code', labelNames: ['source', 'reason'], registers: r }),
    redactions: new Counter({ name: 'authwatch_redactions_total', help: 'Secrets replaced at ingest, by kind', labelNames: ['kind'], registers: r }),
    eventsRedacted: new Counter({ name: 'authwatch_events_redacted_total', help: 'Events that needed redaction, by observer', labelNames: ['observer'], registers: r }),
    ingestBytes: new Counter({ name: 'authwatch_ingest_bytes_total', help: 'Bytes of input read, by source', labelNames: ['source'], registers: r }),
    // rules
    rulesLoaded: new Gauge({ name: 'authwatch_rules_loaded', help: 'Rules currently loaded, by kind', labelNames: ['kind'], registers: r }),
    ruleReloads: new Counter({ name: 'authwatch_rule_reloads_total', help: 'Rule reload attempts, by result', labelNames: ['result'], registers: r }),
    ruleMatches: new Counter({ name: 'authwatch_rule_matches_total', help: 'Events matched by a detection rule', labelNames: ['rule'], registers: r }),
    alertsRaised: new Counter({ name: 'authwatch_alerts_total', help: 'Alerts raised (new alert ids), by rule and level', labelNames: ['rule', 'level'], registers: r }),
    windowKeys: new Gauge({ name: 'authwatch_window_group_keys', help: 'Group keys held in correlation window state', registers: r }),
    windowEvictions: new Counter({ name: 'authwatch_window_evictions_total', help: 'Group keys evicted from window state, by reason', labelNames: ['reason'], registers: r }),
    lateEvents: new Counter({ name: 'authwatch_late_events_total', help: 'Events that arrived later than the allowed lateness', registers: r }),
    // store
    storeSeconds: new Histogram({ name: 'authwatch_store_write_seconds', help: 'Store transaction latency', labelNames: ['op'], buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5], registers: r }),
    actionsChanged: new Counter({ name: 'authwatch_actions_total', help: 'Action state changes, by type and status', labelNames: ['type', 'status'], registers: r }),
    // delivery
    httpRequests: new Counter({ name: 'authwatch_http_requests_total', help: 'API requests, by route and status', labelNames: ['route', 'method', 'status'], registers: r }),
    httpSeconds: new Histogram({ name: 'authwatch_http_request_duration_seconds', help: 'API request latency, by route', labelNames: ['route', 'method'], buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1], registers: r }),
    apiAuth: new Counter({ name: 'authwatch_api_auth_total', help: "The API's own token checks, by result", labelNames: ['result'], registers: r }),
    webhookDeliveries: new Counter({ name: 'authwatch_webhook_deliveries_total', help: 'Webhook delivery attempts, by endpoint and outcome', labelNames: ['endpoint', 'outcome'], registers: r }),
    webhookOutbox: new Gauge({ name: 'authwatch_webhook_outbox_pending', help: 'Webhook deliveries waiting, by state', labelNames: ['state'], registers: r }),
    // kafka
    kafkaLag: new Gauge({ name: 'authwatch_kafka_consumer_lag', help: 'Consumer lag in messages, by topic and partition', labelNames: ['topic', 'partition'], registers: r }),
    kafkaMessages: new Counter({ name: 'authwatch_kafka_messages_total', help: 'Kafka messages processed, by topic and outcome', labelNames: ['topic', 'outcome'], registers: r }),
    kafkaBatchSeconds: new Histogram({ name: 'authwatch_kafka_batch_seconds', help: 'Time to process one fetched batch end to end', buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 5], registers: r }),
    // jobs and monitors
    jobRuns: new Counter({ name: 'authwatch_job_runs_total', help: 'Scheduled job runs, by job and result', labelNames: ['job', 'result'], registers: r }),
    jobSeconds: new Histogram({ name: 'authwatch_job_duration_seconds', help: 'Scheduled job duration', labelNames: ['job'], registers: r }),
    jwksFetches: new Counter({ name: 'authwatch_jwks_fetches_total', help: 'JWKS fetches by the key-set monitor, by idp and result', labelNames: ['idp', 'result'], registers: r }),
    jwksKeys: new Gauge({ name: 'authwatch_jwks_keys', help: 'Keys currently published, by idp', labelNames: ['idp'], registers: r }),
  };
  return m;
}

export type Metrics = ReturnType<typeof createMetrics>;
