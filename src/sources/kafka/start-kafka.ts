// Wiring for the Kafka worker, shared by `authwatch worker` and `authwatch serve` (app.ts):
// the same ingestor and rule engine construction as the other sources, on the app's store.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../../config/config.js';
import { createIngestor } from '../../events/ingestor.js';
import { loadFingerprintSecret } from '../../events/fingerprint-secret.js';
import { compileRoutePolicy } from '../../events/route-policy.js';
import type { Logger } from '../../observability/logger.js';
import type { Metrics } from '../../observability/metrics.js';
import { createEngine } from '../../rules/engine.js';
import { loadRuleSet, type CompiledRuleSet } from '../../rules/rule-loader.js';
import type { RuleEngine } from '../../rules/types.js';
import type { Store } from '../../store/store.js';
import { parseDuration } from '../../util/duration.js';
import { KafkajsBus } from './kafkajs-bus.js';
import { RuleRouter } from './rule-router.js';
import { ViewMaterialiser } from './view-materialiser.js';
import { KafkaWorker, newWorkerId } from './worker.js';

export class KafkaStartError extends Error {
  readonly code = 'KAFKA_START_FAILED';
}

/** A stable id per data dir: a restarted worker reuses its transactional id and so fences its previous incarnation. */
export function workerIdFor(dataDir: string): string {
  const file = join(dataDir, 'kafka-worker-id');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const id = newWorkerId();
  writeFileSync(file, id + '\n', { mode: 0o600 });
  return id;
}

export interface StartKafkaDeps {
  config: Config;
  store: Store;
  metrics: Metrics;
  logger: Logger;
  /** also materialise the alerts/actions topics into this store (API nodes: `serve`) */
  materialise?: boolean;
}

export interface KafkaHandle {
  /** graceful stop (for App.onShutdown) */
  stop(): Promise<void>;
  /** resolves if a consumer stopped for good; the process should exit non-zero so it is restarted */
  failed: Promise<Error>;
}

/** Start the worker. */
export async function startKafka(d: StartKafkaDeps): Promise<KafkaHandle> {
  const { config } = d;
  if (config.kafka.brokers.length === 0) throw new KafkaStartError('kafka.brokers is empty');
  const secret = loadFingerprintSecret(config.data_dir, config.ingest.fingerprint_secret);
  const ingestor = createIngestor({
    fingerprintSecret: secret,
    routePolicy: compileRoutePolicy(config.route_policy),
    maxLineBytes: config.ingest.max_line_bytes,
    inputFormat: config.ingest.input_format,
    metrics: d.metrics,
  });
  const engineOpts = { allowedLatenessMs: parseDuration(config.rules.allowed_lateness), maxGroupKeys: config.rules.max_group_keys };
  // One rule set for the worker's lifetime: the routing of events to rule partitions and the
  // engines evaluating them must agree, in every worker, so edited rules reach the Kafka path
  // when the workers restart (docs/kafka.md).
  const loaded = loadRuleSet(config.rules.dir, { includeExperimental: config.rules.include_experimental });
  if (loaded.errors.length) throw new KafkaStartError(`rules in ${config.rules.dir} failed to load (${loaded.errors.length} errors)`);
  const ruleset: CompiledRuleSet = loaded.ruleset;
  const newEngine = (): RuleEngine => createEngine(ruleset, engineOpts);
  const newRouter = (partitions: number): RuleRouter => new RuleRouter(ruleset, partitions);
  const bus = new KafkajsBus({ brokers: config.kafka.brokers, clientId: config.kafka.client_id, logger: d.logger });
  const nodeId = workerIdFor(config.data_dir);
  const worker = new KafkaWorker({
    bus,
    kafka: config.kafka,
    workerId: nodeId,
    ingestor,
    newEngine,
    newRouter,
    store: d.store,
    metrics: d.metrics,
    logger: d.logger,
  });
  try {
    await worker.start();
  } catch (err) {
    await worker.stop().catch(() => undefined);
    throw new KafkaStartError(`kafka worker failed to start: ${(err as Error).message}`);
  }
  if (!d.materialise) return { stop: () => worker.stop(), failed: worker.failed };
  // its own connection: the view outlives nothing of the worker's and stops after it
  const viewBus = new KafkajsBus({ brokers: config.kafka.brokers, clientId: `${config.kafka.client_id}-view`, logger: d.logger });
  const view = new ViewMaterialiser({
    bus: viewBus,
    store: d.store,
    logger: d.logger,
    groupId: `${config.kafka.group_id}.view.${nodeId}`,
    topics: { alerts: config.kafka.topics.alerts, actions: config.kafka.topics.actions },
  });
  const stopAll = async () => {
    await worker.stop();
    await view.stop();
    await viewBus.close();
  };
  try {
    await view.start();
  } catch (err) {
    await stopAll().catch(() => undefined);
    throw new KafkaStartError(`kafka view materialiser failed to start: ${(err as Error).message}`);
  }
  return { stop: stopAll, failed: Promise.race([worker.failed, view.failed]) };
}
