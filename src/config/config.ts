// The one place that reads configuration: a YAML/JSON file plus AUTHWATCH_* environment
// overrides, validated once by zod at start-up. Nothing else reads process.env.
import { readFileSync, existsSync } from 'node:fs';
import { resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import YAML from 'yaml';
import { parseDuration } from '../util/duration.js';

/** The repository root (where rules/ and package.json live), for embedded defaults. */
export const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

const duration = z.string().refine((s) => {
  try {
    parseDuration(s);
    return true;
  } catch {
    return false;
  }
}, 'must be a duration such as 30s, 5m, 1h or 7d');

const routeRule = z.object({
  pattern: z.string().min(1), // glob on the templated route: `*` one segment, `**` any
  methods: z.array(z.string()).optional(),
  class: z.enum(['public', 'protected', 'restricted']),
});

const webhook = z.object({
  name: z.string().min(1),
  url: z.url(),
  secret: z.string().min(1), // Standard Webhooks secret, "whsec_..." base64
  rules: z.array(z.string()).optional(),
  levels: z.array(z.enum(['informational', 'low', 'medium', 'high', 'critical'])).optional(),
  action_types: z.array(z.enum(['block_ip', 'revoke_token', 'disable_client', 'require_reauth'])).optional(),
  events: z.array(z.enum(['alert', 'action', 'digest'])).default(['alert', 'action']),
  timeout: duration.default('5s'),
  max_attempts: z.number().int().min(1).max(50).default(12),
});

const idpMonitor = z.object({
  name: z.string().min(1),
  issuer: z.string().min(1),
  jwks_uri: z.url().optional(),
  discovery_url: z.url().optional(),
  /** how long a token signed by a key can stay valid after the key disappears */
  max_token_lifetime: duration.default('1h'),
});

export const configSchema = z.strictObject({
  data_dir: z.string().default('./data'),
  log: z.strictObject({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') }).prefault({}),
  http: z
    .strictObject({
      host: z.string().default('127.0.0.1'),
      port: z.number().int().min(0).max(65535).default(8080),
      body_limit_bytes: z.number().int().min(1024).max(64 * 1024 * 1024).default(4 * 1024 * 1024),
      ingest: z.boolean().default(true),
      public_url: z.string().optional(), // used for links in webhooks; defaults to http://host:port
      rate_limit: z.strictObject({ max: z.number().int().min(1).default(6000), window: duration.default('1m') }).prefault({}),
    })
    .prefault({}),
  ingest: z
    .strictObject({
      max_line_bytes: z.number().int().min(256).max(1024 * 1024).default(64 * 1024),
      fingerprint_secret: z.string().min(16).optional(), // default: generated into data_dir
      input_format: z.enum(['auto', 'authwatch', 'nginx', 'envoy', 'kong']).default('auto'),
      // observer.name for gateway log formats that do not name their instance (docs/adapters.md)
      observer_names: z.strictObject({ nginx: z.string().min(1).optional(), envoy: z.string().min(1).optional(), kong: z.string().min(1).optional() }).prefault({}),
    })
    .prefault({}),
  route_policy: z
    .strictObject({
      file: z.string().optional(),
      routes: z.array(routeRule).default([]),
      default_class: z.enum(['public', 'protected', 'restricted']).optional(),
    })
    .prefault({}),
  rules: z
    .strictObject({
      dir: z.string().default(resolve(PACKAGE_ROOT, 'rules')),
      allowed_lateness: duration.default('30s'),
      max_group_keys: z.number().int().min(100).default(1_000_000),
      watch: z.boolean().default(true),
      include_experimental: z.boolean().default(true),
    })
    .prefault({}),
  store: z
    .strictObject({
      file: z.string().optional(), // default: <data_dir>/authwatch.db
      retention: z
        .strictObject({
          alerts: duration.default('90d'),
          audit: duration.default('365d'),
          rejected: duration.default('14d'),
        })
        .prefault({}),
    })
    .prefault({}),
  auth: z
    .strictObject({
      mode: z.enum(['dev', 'oidc']).default('dev'),
      issuer: z.string().optional(), // dev default: http://<host>:<port>/dev-issuer
      audience: z.string().default('authwatch'),
      jwks_uri: z.string().optional(),
      jwks_file: z.string().optional(),
      algorithms: z.array(z.string()).default(['ES256', 'RS256', 'EdDSA']),
      clock_skew: duration.default('60s'),
      max_token_bytes: z.number().int().min(256).default(8192),
    })
    .prefault({}),
  bouncers: z.strictObject({ api_keys: z.array(z.string().min(16)).default([]) }).prefault({}),
  kafka: z
    .strictObject({
      brokers: z.array(z.string()).default([]),
      client_id: z.string().default('authwatch'),
      group_id: z.string().default('authwatch'),
      topics: z
        .strictObject({
          events: z.string().default('authwatch.events'),
          alerts: z.string().default('authwatch.alerts'),
          actions: z.string().default('authwatch.actions'),
          dlq: z.string().default('authwatch.dlq'),
        })
        .prefault({}),
      max_in_flight_batches: z.number().int().min(1).default(4),
      /** how often a rule partition stores its restart point (engine snapshot + offset); a crash re-processes at most this much */
      snapshot_interval: duration.default('5s'),
      /** partitions of the internal rules topic when authwatch creates it: how far rule evaluation scales out */
      rule_partitions: z.number().int().min(1).max(256).default(6),
    })
    .prefault({}),
  webhooks: z
    .strictObject({
      endpoints: z.array(webhook).default([]),
      allow_private_targets: z.boolean().default(false),
    })
    .prefault({}),
  jobs: z
    .strictObject({
      retention_cron: z.string().default('17 3 * * *'),
      expiry_cron: z.string().default('* * * * *'),
      digest_cron: z.string().default('0 8 * * *'),
      jwks_cron: z.string().default('*/5 * * * *'),
    })
    .prefault({}),
  idps: z.array(idpMonitor).default([]),
});

export type Config = z.output<typeof configSchema>;

export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
}

/** Environment variables that override config keys (documented in README). */
const ENV_OVERRIDES: Array<[string, string[], (v: string) => unknown]> = [
  ['AUTHWATCH_DATA_DIR', ['data_dir'], String],
  ['AUTHWATCH_LOG_LEVEL', ['log', 'level'], String],
  ['AUTHWATCH_HOST', ['http', 'host'], String],
  ['AUTHWATCH_PORT', ['http', 'port'], Number],
  ['AUTHWATCH_RULES_DIR', ['rules', 'dir'], String],
  ['AUTHWATCH_FINGERPRINT_SECRET', ['ingest', 'fingerprint_secret'], String],
  ['AUTHWATCH_KAFKA_BROKERS', ['kafka', 'brokers'], (v) => v.split(',').map((s) => s.trim()).filter(Boolean)],
  ['AUTHWATCH_AUTH_MODE', ['auth', 'mode'], String],
  ['AUTHWATCH_AUTH_ISSUER', ['auth', 'issuer'], String],
  ['AUTHWATCH_AUTH_AUDIENCE', ['auth', 'audience'], String],
  ['AUTHWATCH_AUTH_JWKS_URI', ['auth', 'jwks_uri'], String],
  ['AUTHWATCH_BOUNCER_API_KEYS', ['bouncers', 'api_keys'], (v) => v.split(',').map((s) => s.trim()).filter(Boolean)],
];

function setPath(obj: Record<string, unknown>, path: string[], value: unknown): void {
  let cur = obj;
  for (const k of path.slice(0, -1)) {
    if (typeof cur[k] !== 'object' || cur[k] === null) cur[k] = {};
    cur = cur[k] as Record<string, unknown>;
  }
  cur[path[path.length - 1]] = value;
}

/**
 * Parse and validate configuration. `file` (or AUTHWATCH_CONFIG) is YAML or JSON; `env`
 * overrides apply on top; `overrides` (from command-line flags) apply last.
 * Throws ConfigError naming the key and the problem.
 */
export function loadConfig(opts: { file?: string; env?: NodeJS.ProcessEnv; overrides?: Record<string, unknown> } = {}): Config {
  const env = opts.env ?? {};
  const file = opts.file ?? env.AUTHWATCH_CONFIG;
  let raw: Record<string, unknown> = {};
  let baseDir = process.cwd();
  if (file) {
    if (!existsSync(file)) throw new ConfigError(`config file not found: ${file}`);
    try {
      raw = (YAML.parse(readFileSync(file, 'utf8')) ?? {}) as Record<string, unknown>;
    } catch (err) {
      throw new ConfigError(`config file ${file} is not valid YAML/JSON: ${(err as Error).message}`);
    }
    if (typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(`config file ${file} must hold a mapping`);
    baseDir = dirname(resolve(file));
  }
  for (const [name, path, conv] of ENV_OVERRIDES) {
    const v = env[name];
    if (v !== undefined && v !== '') setPath(raw, path, conv(v));
  }
  for (const [dotted, v] of Object.entries(opts.overrides ?? {})) {
    if (v !== undefined) setPath(raw, dotted.split('.'), v);
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new ConfigError(`invalid configuration${file ? ` in ${file}` : ''}:\n${lines.join('\n')}`);
  }
  const cfg = parsed.data;
  // Relative paths in a config file are relative to that file.
  cfg.data_dir = resolve(baseDir, cfg.data_dir);
  cfg.rules.dir = resolve(baseDir, cfg.rules.dir);
  if (cfg.route_policy.file) cfg.route_policy.file = resolve(baseDir, cfg.route_policy.file);
  if (cfg.store.file) cfg.store.file = resolve(baseDir, cfg.store.file);
  if (cfg.auth.jwks_file) cfg.auth.jwks_file = resolve(baseDir, cfg.auth.jwks_file);
  return cfg;
}
