// `authwatch worker [--config FILE] [--data DIR] [--brokers H:P,...]`: Kafka ingest alone (no
// HTTP API) until SIGTERM/SIGINT, which finishes in-flight batches and saves the restart points.
import { join } from 'node:path';
import { parseCommandArgs } from './command-args.js';
import { loadConfig } from '../config/config.js';
import { createLogger } from '../observability/logger.js';
import { createMetrics } from '../observability/metrics.js';
import { startKafka } from '../sources/kafka/start-kafka.js';
import { openStore } from '../store/store.js';

const HELP = `Usage: authwatch worker [--config FILE] [--data DIR] [--brokers HOST:PORT,...]

Consumes the events topic (consumer group kafka.group_id), evaluates the rules and stores alerts
in <data>/authwatch.db; publishes alerts, actions and rejected input to their topics.
Brokers come from --brokers, AUTHWATCH_KAFKA_BROKERS or kafka.brokers in the config file.
See docs/kafka.md.
`;

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommandArgs(
    'worker',
    argv,
    {
      config: { type: 'string' },
      data: { type: 'string' },
      brokers: { type: 'string' },
    },
    HELP,
  );
  if (typeof parsed === 'number') return parsed;
  const { values } = parsed;
  const brokers = values.brokers?.split(',').map((s) => s.trim()).filter(Boolean);
  const config = loadConfig({ file: values.config, env: process.env, overrides: { data_dir: values.data, 'kafka.brokers': brokers } });
  if (config.kafka.brokers.length === 0) {
    process.stderr.write('authwatch worker: no Kafka brokers (set --brokers, AUTHWATCH_KAFKA_BROKERS or kafka.brokers)\n');
    return 2;
  }
  const logger = createLogger({ level: config.log.level });
  const metrics = createMetrics();
  // group commit, as `serve`: the worker awaits store.durable() before it publishes a restart
  // point or commits an offset (docs/api.md, Durability), so nothing acknowledged is lost
  const store = openStore(config.store.file ?? join(config.data_dir, 'authwatch.db'), { metrics, logger: logger.child({ component: 'store' }), synchronous: 'GROUP' });
  let kafka: Awaited<ReturnType<typeof startKafka>>;
  try {
    kafka = await startKafka({ config, store, metrics, logger });
  } catch (err) {
    store.close();
    throw err;
  }
  process.stdout.write(`authwatch worker consuming ${config.kafka.topics.events} (group ${config.kafka.group_id}) from ${config.kafka.brokers.join(',')}\n`);
  const why = await new Promise<NodeJS.Signals | Error>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
    void kafka.failed.then(resolve);
  });
  logger.info({ reason: why instanceof Error ? why.message : why }, 'worker shutting down');
  await kafka.stop();
  store.close();
  return why instanceof Error ? 1 : 0;
}
