// The authwatch event contract, v1 (see ../shared/design/brief.md and docs/event-contract.md).
// One type travels the whole data path: adapters produce it, redaction cleans it, the rule
// engine reads it by dotted paths, alerts carry redacted samples of it.
import { z } from 'zod';

export const AUTH_RESULTS = [
  'ok', 'missing_token', 'malformed_token', 'bad_signature', 'unknown_kid', 'alg_not_allowed',
  'expired', 'not_yet_valid', 'wrong_issuer', 'wrong_audience', 'wrong_type', 'insufficient_scope',
  'revoked', 'jwks_unavailable', 'invalid_client', 'invalid_grant', 'redirect_uri_mismatch',
  'pkce_failed', 'refresh_reuse', 'other',
] as const;
export type AuthResult = (typeof AUTH_RESULTS)[number];

export const OBSERVER_TYPES = ['gateway', 'api', 'idp'] as const;
export const ROUTE_CLASSES = ['public', 'protected', 'restricted'] as const;
export type RouteClass = (typeof ROUTE_CLASSES)[number];
export const AUTH_SCHEMES = ['bearer', 'dpop', 'mtls', 'basic', 'none', 'other'] as const;
export const IDP_ENDPOINTS = ['token', 'authorize', 'revoke', 'introspect', 'device', 'jwks'] as const;

/** Limits on what one event may carry; unknown fields are kept within them. */
export const EVENT_LIMITS = {
  maxLineBytes: 64 * 1024,
  maxStringLength: 4096,
  maxDepth: 8,
  maxKeys: 256,
  maxArrayLength: 128,
} as const;

const str = (max: number = EVENT_LIMITS.maxStringLength) => z.string().max(max);

const observer = z.looseObject({
  type: z.enum(OBSERVER_TYPES),
  name: str(256).min(1),
  env: str(64).optional(),
});

const source = z.looseObject({
  ip: z.union([z.ipv4(), z.ipv6()]).optional(),
  user_agent: str().optional(),
});

const http = z.looseObject({
  method: str(16).optional(),
  route: str(1024).optional(),
  path: str().optional(),
  status: z.number().int().min(100).max(599).optional(),
  route_class: z.enum(ROUTE_CLASSES).optional(),
});

const auth = z.looseObject({
  result: z.enum(AUTH_RESULTS),
  scheme: z.enum(AUTH_SCHEMES).optional(),
  detail: str(512).optional(),
  required_scopes: z.array(str(256)).max(EVENT_LIMITS.maxArrayLength).optional(),
});

const token = z.looseObject({
  fp: str(64).optional(),
  kid: str(256).optional(),
  alg: str(32).optional(),
  typ: str(64).optional(),
  iss: str(1024).optional(),
  sub: str(512).optional(),
  client_id: str(512).optional(),
  tenant: str(256).optional(),
  jti: str(512).optional(),
  aud: z.union([str(1024), z.array(str(1024)).max(EVENT_LIMITS.maxArrayLength)]).optional(),
  scopes: z.array(str(256)).max(EVENT_LIMITS.maxArrayLength).optional(),
  exp: z.number().int().optional(),
  iat: z.number().int().optional(),
  nbf: z.number().int().optional(),
});

const idp = z.looseObject({
  endpoint: z.enum(IDP_ENDPOINTS).optional(),
  grant_type: str(256).optional(),
  client_id: str(512).optional(),
  redirect_uri: str(2048).optional(),
  error: str(128).optional(),
});

/**
 * Set by authwatch at ingest, never trusted from the producer (ingest overwrites it).
 * `redaction.applied` is what the `ingest-unredacted-token` rule matches on.
 */
export const redactionMark = z.object({
  applied: z.boolean(),
  count: z.number().int().min(0),
  fields: z.array(z.string()).max(EVENT_LIMITS.maxArrayLength),
});

export const eventSchema = z
  .looseObject({
    id: str(128).min(1).optional(),
    time: z.string(),
    observer,
    source: source.optional(),
    http: http.optional(),
    auth,
    token: token.optional(),
    idp: idp.optional(),
  })
  .superRefine((e, ctx) => {
    if (e.observer.type === 'gateway' || e.observer.type === 'api') {
      if (!e.source?.ip) ctx.addIssue({ code: 'custom', path: ['source', 'ip'], message: 'required for gateway/api events' });
      if (!e.http?.method) ctx.addIssue({ code: 'custom', path: ['http', 'method'], message: 'required for gateway/api events' });
      if (!e.http?.route) ctx.addIssue({ code: 'custom', path: ['http', 'route'], message: 'required for gateway/api events' });
      if (e.http?.status === undefined) ctx.addIssue({ code: 'custom', path: ['http', 'status'], message: 'required for gateway/api events' });
    }
    if (e.observer.type === 'idp' && !e.idp?.endpoint) {
      ctx.addIssue({ code: 'custom', path: ['idp', 'endpoint'], message: 'required for idp events' });
    }
  });

export type EventInput = z.input<typeof eventSchema>;

/**
 * A validated, normalised, redacted event. `id` is always present (derived from content
 * when the producer sent none) and `time` is normalised to RFC 3339 UTC with milliseconds
 * (`2026-01-02T03:04:05.678Z`), so `Date.parse(time)` is exact and string order is time order.
 */
export type AwEvent = z.output<typeof eventSchema> & {
  id: string;
  redaction?: z.output<typeof redactionMark>;
  [k: string]: unknown;
};
