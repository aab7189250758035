// What every API route plugin receives, and what the auth layer attaches to each request.
// Route plugins declare their access rule in the route's `config` (see RouteAccess); the
// auth plugin (src/delivery/auth) enforces it for every route at once.
import type { Config } from '../../config/config.js';
import type { Logger } from '../../observability/logger.js';
import type { Metrics } from '../../observability/metrics.js';
import type { Pipeline } from '../../pipeline.js';
import type { RuleInfo, RuleLoadError } from '../../rules/types.js';
import type { Store } from '../../store/store.js';

/** Who called: from the validated access token (client_id/azp, sub, scope), or a bouncer key. */
export interface Principal {
  clientId: string;
  sub: string | null;
  scopes: string[];
  kind: 'token' | 'bouncer' | 'anonymous';
}

/**
 * A route's access rule, set as `config: { access: ... }` in its route options:
 *  - `{ scope: 'alerts:read' }`  bearer token with that scope (RFC 6750 errors otherwise)
 *  - `'bouncer'`                 CrowdSec bouncer API key (X-Api-Key header)
 *  - `'public'`                  no credentials (health, metrics, docs, the page shell)
 * A route without `access` is refused (fail closed).
 */
export type RouteAccess = { scope: string } | 'bouncer' | 'public';

export interface RulesController {
  list(): readonly RuleInfo[];
  /** Load and compile the rules dir; on errors the running rules stay and the errors are returned. */
  reload(): Promise<{ ok: boolean; errors: RuleLoadError[]; rules: number }>;
  lastReload(): { at: string | null; ok: boolean; errors: RuleLoadError[] };
}

export interface ApiDeps {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  store: Store;
  pipeline: Pipeline;
  rules: RulesController;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal;
  }
  interface FastifyContextConfig {
    access?: RouteAccess;
  }
}
