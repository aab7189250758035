// Kong http-log plugin JSON. It logs the request headers, the Authorization header among
// them: its token is decoded (header + claims, not verified) and fingerprinted here, and the
// header itself is passed on only to be redacted, so the event is marked: a gateway that
// ships tokens in its logs is a finding (docs/adapters.md says how to stop it).
import { compact, isObj, statusField, strField, type AdapterContext, type AdapterResult, type Obj } from './adapter-types.js';
import { authorizationFacts, resultFromStatus, templateRoute, parseRequestLine } from './http-facts.js';

export const DEFAULT_KONG_OBSERVER = 'kong';

// Request headers kept on the event: those that carry credentials (redacted right after, and
// so counted) and a few useful for investigation. The rest are dropped.
const KEPT_HEADERS = /^(?:authorization|proxy-authorization|cookie|x-api-key|apikey|x-auth-token|host|x-request-id|x-forwarded-for)$/;
const CREDENTIAL_HEADERS = /^(?:authorization|proxy-authorization|x-api-key|apikey|x-auth-token)$/;

export function looksLikeKong(o: Obj): boolean {
  return isObj(o.request) && isObj(o.response) && ('started_at' in o || 'latencies' in o || 'route' in o || 'service' in o);
}

const headerValue = (v: unknown): string | undefined => (typeof v === 'string' ? v : Array.isArray(v) && typeof v[0] === 'string' ? v.join(', ') : undefined);

export function adaptKong(o: Obj, ctx: AdapterContext): AdapterResult {
  const req = o.request as Obj;
  const res = o.response as Obj;
  if (!isObj(req) || !isObj(res)) return { ok: false, message: 'request/response: missing objects' };
  const startedAt = typeof o.started_at === 'number' && Number.isFinite(o.started_at) ? o.started_at : undefined;
  if (startedAt === undefined || Math.abs(startedAt) > 8.64e15) return { ok: false, message: 'started_at: missing or not epoch milliseconds' };
  const status = statusField(res.status);
  if (status === undefined) return { ok: false, message: 'response.status: missing or not an HTTP status code' };
  const method = strField(req.method);
  let path = strField(req.uri);
  if (!path && typeof req.url === 'string') path = parseRequestLine(`GET ${req.url}`)?.path;
  if (!method || !path) return { ok: false, message: 'request.method/request.uri: missing' };

  const headers: Obj = {};
  let authorization: string | undefined;
  let otherCredential = false;
  if (isObj(req.headers)) {
    for (const [name, raw] of Object.entries(req.headers)) {
      const k = name.toLowerCase();
      const v = headerValue(raw);
      if (v === undefined || !KEPT_HEADERS.test(k)) continue;
      headers[k] = v;
      // a repeated header: the first value is the credential the gateway checked
      if (k === 'authorization') authorization = Array.isArray(raw) ? (raw[0] as string) : v;
      else if (CREDENTIAL_HEADERS.test(k)) otherCredential = true;
    }
  }
  const userAgent = isObj(req.headers) ? headerValue((req.headers as Obj)['user-agent']) : undefined;
  const auth = authorization ? authorizationFacts(authorization, ctx) : undefined;
  const token: Obj | undefined = auth?.token ? { ...auth.token } : undefined;
  const consumer = isObj(o.consumer) ? o.consumer : undefined;
  const consumerName = consumer ? strField(consumer.custom_id) ?? strField(consumer.username) : undefined;
  if (token && !token.client_id && consumerName) token.client_id = consumerName;

  const { result, detail } = resultFromStatus(status, {
    credentialKnown: true,
    hasCredential: !!authorization || otherCredential,
    token,
    timeMs: startedAt,
  });
  const route = isObj(o.route) ? o.route : undefined;
  const service = isObj(o.service) ? o.service : undefined;
  return {
    ok: true,
    event: compact({
      time: new Date(startedAt).toISOString(),
      observer: { type: 'gateway', name: ctx.observerName ?? DEFAULT_KONG_OBSERVER },
      source: { ip: strField(o.client_ip), user_agent: userAgent },
      http: {
        method,
        route: templateRoute(path),
        path,
        status,
        request_headers: Object.keys(headers).length ? headers : undefined,
      },
      auth: { result, scheme: auth ? auth.scheme : otherCredential ? 'other' : 'none', detail },
      token,
      kong: {
        route: route ? strField(route.name) ?? strField(route.id) : undefined,
        service: service ? strField(service.name) ?? strField(service.id) : undefined,
        consumer: consumer ? strField(consumer.username) ?? strField(consumer.id) : undefined,
        upstream_status: statusField(o.upstream_status),
      },
    }),
  };
}
