// The composition root: the one place that wires config → fingerprint secret → route policy →
// ingestor → rules → engine → store → pipeline → HTTP server, plus the wall-clock ticker and
// graceful shutdown. Every other module receives what it needs; none reaches for globals.
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Config } from './config/config.js';
import { createApiAuth, type ApiAuth } from './delivery/auth/api-auth.js';
import { recordDevIssuer } from './delivery/auth/dev-issuer.js';
import { SelfMonitor } from './delivery/auth/self-monitor.js';
import { buildServer } from './delivery/api/server.js';
import { createIngestorFromConfig } from './events/ingestor-from-config.js';
import { fingerprint } from './events/redaction.js';
import { createLogger, type Logger } from './observability/logger.js';
import { createMetrics, type Metrics } from './observability/metrics.js';
import { Pipeline } from './pipeline.js';
import { createEngine } from './rules/engine.js';
import { loadRuleSet } from './rules/rule-loader.js';
import type { RuleEngine, RuleLoadError } from './rules/types.js';
import { createRulesController, type EngineBuilder, type ManagedRulesController } from './rules-controller.js';
import { openStore, type Store, type StoreOptions } from './store/store.js';
import { startKafka } from './sources/kafka/start-kafka.js';
import { createBackground, type Background } from './jobs/background.js';
import { TokenKidIndex } from './monitors/kid-index.js';
import { parseDuration } from './util/duration.js';

export class StartupError extends Error {
  readonly code = 'STARTUP_FAILED';
}

export interface AppOptions {
  logger?: Logger;
  metrics?: Metrics;
  /** install SIGTERM/SIGINT handlers on listen (the `serve` command does; tests do not) */
  handleSignals?: boolean;
  /** self-monitoring flush interval (default 250 ms) */
  selfMonitorIntervalMs?: number;
  /** SQLite synchronous mode of the store (default GROUP: group commit; see docs/api.md "Durability") */
  storeSynchronous?: 'FULL' | 'NORMAL' | 'GROUP';
  /** group commit: the fsync the store uses (tests observe acknowledgements waiting for it) */
  storeFsync?: StoreOptions['fsync'];
}

export interface App {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  store: Store;
  pipeline: Pipeline;
  rules: ManagedRulesController;
  server: FastifyInstance;
  auth: ApiAuth;
  selfMonitor: SelfMonitor;
  /** webhooks outbox + dispatcher, JWKS monitor, cron jobs (runJob for operators and tests) */
  background: Background;
  fingerprint: (token: string) => string;
  /** start listening; resolves with the base URL (http://host:port) */
  listen(): Promise<string>;
  url: string | null;
  /** register a stop function run on shutdown (before the store closes), e.g. a Kafka consumer */
  onShutdown(fn: () => Promise<void> | void): void;
  /** graceful shutdown: stop accepting, flush self-monitoring and the engine, run shutdown hooks, close the store */
  close(): Promise<void>;
  /** resolves with an exit code once the app has shut down after a signal (or close()) */
  closed: Promise<number>;
}

function formatRuleErrors(errors: readonly RuleLoadError[]): string {
  return errors
    .slice(0, 20)
    .map((e) => `  ${e.file}:${e.line}${e.rule ? ` [${e.rule}]` : ''} ${e.code}: ${e.message}`)
    .join('\n');
}

export async function createApp(config: Config, opts: AppOptions = {}): Promise<App> {
  const logger = opts.logger ?? createLogger({ level: config.log.level });
  const metrics = opts.metrics ?? createMetrics();

  const { ingestor, secret } = createIngestorFromConfig(config, { metrics });
  const fp = (token: string) => fingerprint(secret, token);

  const engineOpts = { allowedLatenessMs: parseDuration(config.rules.allowed_lateness), maxGroupKeys: config.rules.max_group_keys };
  const buildEngine: EngineBuilder = async (previous: RuleEngine | null) => {
    const loaded = loadRuleSet(config.rules.dir, { includeExperimental: config.rules.include_experimental });
    if (loaded.errors.length) return { engine: null, errors: loaded.errors };
    return { engine: createEngine(loaded.ruleset, engineOpts, previous ?? undefined), errors: [] };
  };
  const first = await buildEngine(null);
  if (!first.engine) throw new StartupError(`rules in ${config.rules.dir} failed to load:\n${formatRuleErrors(first.errors)}`);

  const auth = await createApiAuth(config); // config errors (issuer, key source, algorithms) stop start-up before anything is opened
  const store = openStore(config.store.file ?? join(config.data_dir, 'authwatch.db'), { metrics, logger: logger.child({ component: 'store' }), synchronous: opts.storeSynchronous ?? 'GROUP', fsync: opts.storeFsync });
  // unknown_kid / accepted-kid index for the JWKS monitor, fed with every accepted event
  const kidIndex = new TokenKidIndex();
  const pipeline = new Pipeline({ ingestor, engine: first.engine, alerts: store, rejects: store, metrics, onEvent: (e) => kidIndex.observe(e) });
  const rules = createRulesController({
    pipeline,
    build: buildEngine,
    metrics,
    logger: logger.child({ component: 'rules' }),
    watchDir: config.rules.watch ? config.rules.dir : undefined,
  });
  const selfMonitor = new SelfMonitor(pipeline, { intervalMs: opts.selfMonitorIntervalMs, logger });
  // A failure past this point must not leave the store open or the rules dir watched.
  const abort = (err: unknown): never => {
    rules.close();
    store.close();
    throw err;
  };
  const { app: server } = await buildServer({ config, logger, metrics, store, pipeline, rules }, { auth, fingerprint: fp, selfMonitor }).catch(abort);

  // ---- extension points -------------------------------------------------------------------
  // Kafka (engineer E): the consumer needs the finished `app`, so it starts in listen() below
  // (marked "Kafka"), registering its stop with app.onShutdown.
  // Webhooks and scheduled jobs (engineer F): outbox on the store's transaction listeners,
  // dispatcher, JWKS monitor and cron jobs; stopped by a shutdown hook before the store closes.
  let background: ReturnType<typeof createBackground>;
  try {
    background = createBackground({ config, store, logger, metrics, kidIndex, publicUrl: () => app.url });
  } catch (err) {
    abort(err);
  }
  // -------------------------------------------------------------------------------------------

  const shutdownHooks: Array<() => Promise<void> | void> = [() => background.stop()];
  let ticker: NodeJS.Timeout | null = null;
  let closing: Promise<void> | null = null;
  let resolveClosed!: (code: number) => void;
  const closed = new Promise<number>((r) => (resolveClosed = r));
  const signalHandlers: Array<[NodeJS.Signals, () => void]> = [];

  const app: App = {
    config,
    logger,
    metrics,
    store,
    pipeline,
    rules,
    server,
    auth,
    selfMonitor,
    background: background!,
    fingerprint: fp,
    url: null,
    onShutdown(fn) {
      shutdownHooks.push(fn);
    },
    async listen() {
      await server.listen({ host: config.http.host, port: config.http.port });
      const addr = server.server.address() as AddressInfo;
      const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
      app.url = `http://${host}:${addr.port}`;
      if (auth.mode === 'dev') {
        auth.setListenAddress(addr.address, addr.port);
        recordDevIssuer(config.data_dir, auth.issuer());
      }
      selfMonitor.start();
      background.start();
      // Kafka (engineer E): the worker (docs/kafka.md) on the same store; its stop runs before the store closes.
      if (config.kafka.brokers.length) {
        const kafka = await startKafka({ config, store, metrics, logger: logger.child({ component: 'kafka' }), materialise: true });
        app.onShutdown(() => kafka.stop());
        void kafka.failed.then((err) => {
          logger.fatal({ err: { message: err.message } }, 'kafka consumer stopped for good; shutting down');
          void app.close();
        });
      }
      // Event time drives the windows; the wall clock only tells the engine that older events are final.
      ticker = setInterval(() => {
        try {
          pipeline.tick(Date.now());
        } catch (err) {
          logger.error({ err: { message: (err as Error).message } }, 'engine tick failed');
        }
      }, 1000);
      ticker.unref();
      if (opts.handleSignals) {
        for (const sig of ['SIGTERM', 'SIGINT'] as const) {
          const h = () => {
            logger.info({ signal: sig }, 'shutting down');
            app.close().then(
              () => resolveClosed(0),
              () => resolveClosed(1),
            );
          };
          process.once(sig, h);
          signalHandlers.push([sig, h]);
        }
      }
      logger.info({ url: app.url, auth: auth.mode, issuer: auth.issuer(), rules: rules.list().length, data_dir: config.data_dir }, 'authwatch listening');
      return app.url;
    },
    close() {
      closing ??= (async () => {
        for (const [sig, h] of signalHandlers) process.removeListener(sig, h);
        if (ticker) clearInterval(ticker);
        rules.close();
        try {
          await server.close();
        } catch (err) {
          logger.warn({ err: { message: (err as Error).message } }, 'server close failed');
        }
        selfMonitor.stop();
        try {
          pipeline.finish();
        } catch (err) {
          logger.error({ err: { message: (err as Error).message } }, 'final engine flush failed');
        }
        for (const fn of shutdownHooks.reverse()) {
          try {
            await fn();
          } catch (err) {
            logger.error({ err: { message: (err as Error).message } }, 'shutdown hook failed');
          }
        }
        store.close();
        resolveClosed(0);
      })();
      return closing;
    },
    closed,
  };
  return app;
}
