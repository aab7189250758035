// The ingestor every entry point builds (service, replay, Kafka worker), from the one config,
// so HTTP, files and Kafka normalise, redact and classify identically.
import type { Config } from '../config/config.js';
import type { Metrics } from '../observability/metrics.js';
import type { Ingestor, InputFormat } from './ingest-types.js';
import { createIngestor } from './ingestor.js';
import { loadFingerprintSecret } from './fingerprint-secret.js';
import { compileRoutePolicy } from './route-policy.js';

export interface ConfiguredIngestor {
  ingestor: Ingestor;
  /** the HMAC key behind token.fp, for components that fingerprint tokens themselves */
  secret: Buffer;
}

export function createIngestorFromConfig(
  config: Config,
  opts: { metrics?: Metrics; secret?: Buffer; inputFormat?: InputFormat } = {},
): ConfiguredIngestor {
  const secret = opts.secret ?? loadFingerprintSecret(config.data_dir, config.ingest.fingerprint_secret);
  const ingestor = createIngestor({
    fingerprintSecret: secret,
    routePolicy: compileRoutePolicy(config.route_policy),
    maxLineBytes: config.ingest.max_line_bytes,
    inputFormat: opts.inputFormat ?? config.ingest.input_format,
    observerNames: config.ingest.observer_names,
    metrics: opts.metrics,
  });
  return { ingestor, secret };
}
