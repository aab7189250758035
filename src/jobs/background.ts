// Everything that runs beside the HTTP server: the webhook outbox + dispatcher, the JWKS
// monitor and the cron jobs. Built once by the composition root (src/app.ts), started with
// the app and stopped on shutdown before the store closes.
import type { Config } from '../config/config.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { Store } from '../store/store.js';
import { WebhookOutbox } from '../delivery/webhooks/outbox.js';
import { WebhookDispatcher, WebhookEnqueuer, attachWebhooksToStore, defaultPublicUrl, validateWebhookConfig } from '../delivery/webhooks/dispatcher.js';
import { JwksMonitor } from '../monitors/jwks-monitor.js';
import { TokenKidIndex } from '../monitors/kid-index.js';
import { createJobs } from './jobs.js';
import { JobScheduler } from './scheduler.js';

export interface Background {
  outbox: WebhookOutbox;
  enqueuer: WebhookEnqueuer;
  dispatcher: WebhookDispatcher;
  jwksMonitor: JwksMonitor;
  scheduler: JobScheduler;
  start(): void;
  stop(): Promise<void>;
}

export interface BackgroundDeps {
  config: Config;
  store: Store;
  logger: Logger;
  metrics: Metrics;
  /** fed from Pipeline's onEvent; the JWKS monitor correlates unknown_kid rejections with it */
  kidIndex: TokenKidIndex;
  /** the base URL for links in webhook payloads, once known (config.http.public_url wins) */
  publicUrl?: () => string | null;
}

export function createBackground(deps: BackgroundDeps): Background {
  const { config, store, metrics } = deps;
  validateWebhookConfig(config.webhooks); // SSRF policy at load: a refused URL stops start-up
  const outbox = new WebhookOutbox(store.db);
  const enqueuer = new WebhookEnqueuer(outbox, config.webhooks.endpoints, () => config.http.public_url ?? deps.publicUrl?.() ?? defaultPublicUrl(config));
  const dispatcher = new WebhookDispatcher({
    outbox,
    endpoints: config.webhooks.endpoints,
    allowPrivate: config.webhooks.allow_private_targets,
    logger: deps.logger.child({ component: 'webhooks' }),
    metrics,
  });
  const detach = attachWebhooksToStore(store, enqueuer, dispatcher);
  const jwksMonitor = new JwksMonitor({ idps: config.idps, db: store.db, store, kidIndex: deps.kidIndex, logger: deps.logger.child({ component: 'jwks-monitor' }), metrics });
  const scheduler = new JobScheduler(createJobs({ config, store, outbox, enqueuer, jwksMonitor }), deps.logger.child({ component: 'jobs' }), metrics);
  let started = false;
  return {
    outbox,
    enqueuer,
    dispatcher,
    jwksMonitor,
    scheduler,
    start() {
      if (started) return;
      started = true;
      if (config.webhooks.endpoints.length) dispatcher.start();
      scheduler.start();
    },
    async stop() {
      await scheduler.stop();
      await dispatcher.stop();
      detach();
    },
  };
}
