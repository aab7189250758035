// Envoy JSON access logs (json_format with the usual command operators as keys). The JWT
// filter's verdict is in response_code_details: `jwt_authn_access_denied{<status message
// with spaces as underscores>}`, e.g. `jwt_authn_access_denied{Jwt_is_expired}`.
import type { AuthResult } from '../event.js';
import { normaliseTime } from '../event-time.js';
import { compact, statusField, strField, type AdapterContext, type AdapterResult, type Obj } from './adapter-types.js';
import { authorizationFacts, resultFromStatus, templateRoute } from './http-facts.js';

export const DEFAULT_ENVOY_OBSERVER = 'envoy';

const JWT_DENIED_RE = /^jwt_authn_access_denied\{(.*)\}$/;

/**
 * jwt_verify_lib status messages (Envoy writes them with `_` for spaces) to auth results.
 * Checked in order; the first whose test matches wins.
 */
const JWT_STATUS_MAP: Array<[RegExp, AuthResult]> = [
  [/^Jwt_is_missing$/, 'missing_token'],
  [/^Jwt_is_expired$/, 'expired'],
  [/^Jwt_not_yet_valid$/, 'not_yet_valid'],
  [/^Jwt_verification_fails$/, 'bad_signature'],
  [/^Jwks_doesn't_have_key_to_match_kid_or_alg_from_Jwt$/, 'unknown_kid'],
  [/^Jwks_remote_fetch_is_failed$|^Jwks_fetch_fail|^Jwks_/, 'jwks_unavailable'],
  [/^Audiences_in_Jwt_are_not_allowed$/, 'wrong_audience'],
  [/^Jwt_issuer_is_not_configured$/, 'wrong_issuer'],
  [/alg.*(not_supported|is_not_allowed)|^Jwt_header_\[alg\]_is_not_supported/i, 'alg_not_allowed'],
  [/^Jwt_is_not_in_the_form|^Jwt_header_|^Jwt_payload_|^Jwt_signature_|^Found_multiple_Jwt_tokens$|^Jwt_.*invalid/, 'malformed_token'],
];

export function looksLikeEnvoy(o: Obj): boolean {
  return 'response_code_details' in o || 'downstream_remote_address' in o || ('upstream_host' in o && 'response_code' in o);
}

/** The auth result for a response_code_details value, when it is a JWT or RBAC verdict. */
export function resultFromDetails(details: string): AuthResult | undefined {
  const m = JWT_DENIED_RE.exec(details);
  if (m) {
    for (const [re, result] of JWT_STATUS_MAP) if (re.test(m[1])) return result;
    return 'other';
  }
  if (details.startsWith('rbac_access_denied')) return 'insufficient_scope';
  return undefined;
}

/** `203.0.113.5:443` / `[2001:db8::1]:443` / a bare address → the address. */
export function stripPort(addr: string): string {
  const v6 = /^\[([^\]]+)\](?::\d+)?$/.exec(addr);
  if (v6) return v6[1];
  const v4 = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/.exec(addr);
  return v4 ? v4[1] : addr;
}

export function adaptEnvoy(o: Obj, ctx: AdapterContext): AdapterResult {
  const time = strField(o.start_time) ?? strField(o.timestamp);
  if (!time) return { ok: false, message: 'start_time: missing' };
  const status = statusField(o.response_code);
  if (status === undefined) return { ok: false, message: 'response_code: missing or not an HTTP status code (0 means no response was sent)' };
  const method = strField(o.method);
  const path = strField(o.x_envoy_original_path) ?? strField(o.path);
  if (!method || !path) return { ok: false, message: 'method/path: missing' };
  const addr = strField(o.downstream_remote_address) ?? strField(o.downstream_direct_remote_address) ?? strField(o.client_ip);
  const xff = strField(o.x_forwarded_for)?.split(',')[0]?.trim();
  const ip = addr ? stripPort(addr) : xff;

  let authorization: string | null | undefined;
  if ('authorization' in o) authorization = strField(o.authorization) ?? null;
  const auth = authorization ? authorizationFacts(authorization, ctx) : undefined;
  const details = strField(o.response_code_details);
  const fromDetails = details ? resultFromDetails(details) : undefined;
  let result: AuthResult;
  let detail: string | undefined;
  if (fromDetails) {
    result = fromDetails;
    detail = details;
  } else {
    const r = resultFromStatus(status, { credentialKnown: authorization !== undefined, hasCredential: !!authorization, token: auth?.token, timeMs: Date.parse(normaliseTime(time) ?? '') });
    result = r.result;
    detail = r.detail ? (details ? `${r.detail} (${details})` : r.detail) : undefined;
  }
  return {
    ok: true,
    event: compact({
      time,
      observer: { type: 'gateway', name: strField(o.node_id) ?? strField(o.hostname) ?? ctx.observerName ?? DEFAULT_ENVOY_OBSERVER },
      source: { ip, user_agent: strField(o.user_agent) },
      http: {
        method,
        route: templateRoute(path),
        path,
        status,
        protocol: strField(o.protocol),
        host: strField(o.authority),
        request_id: strField(o.request_id),
        response_flags: strField(o.response_flags),
        envoy_route: strField(o.route_name),
      },
      auth: { result, scheme: auth ? auth.scheme : authorization === null ? 'none' : undefined, detail },
      token: auth?.token,
    }),
  };
}
