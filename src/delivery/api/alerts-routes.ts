// /v1/alerts: list (filters, cursor), get one, lifecycle (ack/resolve/reopen/suppress), and
// the change feed for SIEMs (cursor = change sequence; JSON pages or server-sent events).
// Every representation (json, ocsf, ecs, cef) is chosen by ?format= or Accept.
import { PassThrough } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ALERT_STATUSES, LEVELS, type AlertStatus, type Level } from '../../alerts/alert.js';
import { ALERT_OPS, type AlertOp } from '../../alerts/alert-lifecycle.js';
import { AppError } from '../../errors.js';
import { ALERT_CHANGE_KINDS, decodeSeqCursor, type FeedItem, type StoredAlert } from '../../store/store.js';
import { toCef, cefExtension } from '../formats/cef.js';
import { toEcs } from '../formats/ecs.js';
import { ALERT_FORMATS, FORMAT_CONTENT_TYPE, pickFormat, type AlertFormat } from '../formats/negotiate.js';
import { toOcsf } from '../formats/ocsf.js';
import type { ApiDeps } from './deps.js';
import { AlertPageJson } from './alert-page-json.js';
import { StoreResponseCache } from './response-cache.js';

const JSON_TYPE = 'application/json; charset=utf-8';

const groupValue = { type: ['string', 'number', 'boolean', 'null'] };

export const alertSchema = {
  type: 'object',
  required: ['id', 'rule', 'group', 'count', 'first_seen', 'last_seen', 'status'],
  properties: {
    id: { type: 'string' },
    rule: {
      type: 'object',
      properties: { id: { type: 'string' }, name: { type: 'string' }, title: { type: 'string' }, level: { type: 'string', enum: [...LEVELS] } },
    },
    group: { type: 'object', additionalProperties: groupValue },
    count: { type: 'integer' },
    first_seen: { type: 'string', format: 'date-time' },
    last_seen: { type: 'string', format: 'date-time' },
    status: { type: 'string', enum: [...ALERT_STATUSES] },
    evidence: {
      type: 'object',
      properties: {
        event_ids: { type: 'array', items: { type: 'string' } },
        // redacted at ingest before they ever reached the engine
        samples: { type: 'array', items: { type: 'object', additionalProperties: true } },
      },
    },
    proposed: {
      type: 'array',
      items: { type: 'object', properties: { action: { type: 'string' }, ttl: { type: 'string' }, approval: { type: 'string' } } },
    },
    created_at: { type: 'string', format: 'date-time' },
    updated_at: { type: 'string', format: 'date-time' },
  },
} as const;

/** GET /alerts/{id} adds the actions the alert's rule proposed (lists leave them out: use /actions?alert=). */
const alertWithActionsSchema = {
  ...alertSchema,
  properties: {
    ...alertSchema.properties,
    actions: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          id: { type: 'string' },
          type: { type: 'string' },
          target: { type: 'string' },
          status: { type: 'string' },
          expires_at: { type: ['string', 'null'] },
        },
      },
    },
  },
} as const;

/** 200 bodies of GET /alerts and /alerts/feed (their JSON is assembled by AlertPageJson to this shape). */
export const listResponseSchema = { type: 'object', properties: { items: { type: 'array', items: alertSchema }, next_cursor: { type: ['string', 'null'] } } } as const;

const feedItemSchema = {
  type: 'object',
  properties: { seq: { type: 'integer' }, change: { type: 'string', enum: ALERT_CHANGE_KINDS }, alert: alertSchema },
} as const;
export const feedResponseSchema = { type: 'object', properties: { items: { type: 'array', items: feedItemSchema }, next_cursor: { type: 'string' } } } as const;

const errorSchema = { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } } } as const;
const errors = { 400: errorSchema, 404: errorSchema, 409: errorSchema } as const;
const formatQuery = { type: 'string', enum: [...ALERT_FORMATS] } as const;
const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9_-]+$' } },
} as const;

const listQuery = {
  type: 'object',
  properties: {
    rule: { type: 'string', minLength: 1, maxLength: 200 },
    level: { type: 'string', maxLength: 200, pattern: `^(${LEVELS.join('|')})(,(${LEVELS.join('|')}))*$` },
    status: { type: 'string', maxLength: 200, pattern: `^(${ALERT_STATUSES.join('|')})(,(${ALERT_STATUSES.join('|')}))*$` },
    since: { type: 'string', format: 'date-time' },
    until: { type: 'string', format: 'date-time' },
    // group=key:value (repeatable) or group.<key>=value
    group: { anyOf: [{ type: 'string', maxLength: 600 }, { type: 'array', maxItems: 10, items: { type: 'string', maxLength: 600 } }] },
    limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
    cursor: { type: 'string', minLength: 1, maxLength: 200 },
    format: formatQuery,
  },
  patternProperties: { '^group\\.[A-Za-z0-9_.]{1,100}$': { type: 'string', maxLength: 512 } },
  additionalProperties: false,
} as const;

type ListQuery = {
  rule?: string;
  level?: string;
  status?: string;
  since?: string;
  until?: string;
  group?: string | string[];
  limit: number;
  cursor?: string;
  format?: AlertFormat;
} & Record<string, unknown>;

const feedQuery = {
  type: 'object',
  properties: {
    cursor: { type: 'string', maxLength: 20 },
    limit: { type: 'integer', minimum: 1, maximum: 500, default: 100 },
    format: formatQuery,
  },
  additionalProperties: false,
} as const;

const lifecycleBody = {
  anyOf: [{ type: 'object', properties: { comment: { type: 'string', maxLength: 2000 } }, additionalProperties: false }, { type: 'null' }],
} as const;

function parseGroupFilters(q: ListQuery): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const raw = q.group === undefined ? [] : Array.isArray(q.group) ? q.group : [q.group];
  for (const g of raw) {
    const i = g.indexOf(':');
    if (i <= 0) throw new AppError('VALIDATION_FAILED', 'group filters are key:value (e.g. group=source.ip:203.0.113.7)');
    out.push([g.slice(0, i), g.slice(i + 1)]);
  }
  for (const [k, v] of Object.entries(q)) if (k.startsWith('group.') && typeof v === 'string') out.push([k.slice(6), v]);
  return out;
}

function renderAlert(a: StoredAlert, format: AlertFormat, change?: FeedItem['change']): unknown {
  switch (format) {
    case 'ocsf':
      return toOcsf(a, change);
    case 'ecs':
      return toEcs(a);
    default:
      return a;
  }
}

/** Sends a non-JSON representation ourselves (the JSON response schema describes the native shape only). */
function sendFormatted(reply: FastifyReply, format: AlertFormat, body: unknown): FastifyReply {
  return reply.type(FORMAT_CONTENT_TYPE[format]).send(JSON.stringify(body));
}

const MAX_STREAMS = 64;
const STREAM_POLL_MS = 1000; // catches writes from other processes (a Kafka worker on the same file)
const STREAM_KEEPALIVE_MS = 15_000;

export async function alertsRoutes(app: FastifyInstance, opts: { deps: ApiDeps }): Promise<void> {
  const { store } = opts.deps;
  let openStreams = 0;
  // JSON pages only: other formats are rendered per request (less polled).
  const pages = new StoreResponseCache(store.db);
  let pageJson: AlertPageJson | null = null;
  /** Page bodies from per-alert JSON, the alert serialiser compiled from the response schema (see alert-page-json.ts). */
  const json = (reply: FastifyReply) => {
    if (!pageJson) {
      const serializeAlert = reply.compileSerializationSchema(alertSchema);
      const serializeGroup = reply.compileSerializationSchema(alertSchema.properties.group);
      const serializeProposed = reply.compileSerializationSchema(alertSchema.properties.proposed);
      pageJson = new AlertPageJson({
        alert: (a) => serializeAlert(a as unknown as Record<string, unknown>),
        group: (g) => serializeGroup(g as Record<string, unknown>),
        proposed: (p) => serializeProposed(p as Record<string, unknown>),
      });
    }
    return pageJson;
  };

  /**
   * The page body from the cache, or built (UTF-8 JSON) and kept unless `build` says it is
   * cheaper to build again than to keep: a feed page from the in-memory tail is ~80 µs of
   * copying cached alert JSON, while every kept 60 KB body lives until 256 other pages push it
   * out, long enough to reach V8's old generation. With readers at many cursors (SIEM pollers)
   * those bodies were most of what the server promoted, and the major GCs they caused (every
   * 1-2 s, 15-30 ms pauses with marking beside) were the API's latency tail.
   */
  function cachedJson(reply: FastifyReply, key: string, build: () => { body: Buffer; keep: boolean }): FastifyReply {
    const version = pages.version();
    let body = pages.get(key, version);
    if (body === null) {
      const built = build();
      body = built.body;
      if (built.keep) pages.set(key, version, body);
    }
    return reply.type(JSON_TYPE).send(body);
  }

  app.get(
    '/alerts',
    {
      config: { access: { scope: 'alerts:read' } },
      schema: {
        tags: ['alerts'],
        summary: 'List alerts, newest first',
        querystring: listQuery,
        response: { 200: listResponseSchema, ...errors },
      },
    },
    async (req: FastifyRequest<{ Querystring: ListQuery }>, reply) => {
      const q = req.query;
      const format = pickFormat(q.format, req.headers.accept);
      const list = () => store.listAlerts(
        {
          rule: q.rule,
          level: q.level?.split(',') as Level[] | undefined,
          status: q.status?.split(',') as AlertStatus[] | undefined,
          since: q.since ? new Date(q.since).toISOString() : undefined,
          until: q.until ? new Date(q.until).toISOString() : undefined,
          group: parseGroupFilters(q),
        },
        q.limit,
        q.cursor,
      );
      if (format === 'json') return cachedJson(reply, 'list ' + JSON.stringify(q), () => ({ body: json(reply).list(list()), keep: true }));
      const page = list();
      if (page.next_cursor) reply.header('x-next-cursor', page.next_cursor);
      if (format === 'ndjson') return reply.type(FORMAT_CONTENT_TYPE.ndjson).send(page.items.map((a) => JSON.stringify(a) + '\n').join(''));
      if (format === 'cef') return reply.type(FORMAT_CONTENT_TYPE.cef).send(page.items.map((a) => toCef(a) + '\n').join(''));
      return sendFormatted(reply, format, { items: page.items.map((a) => renderAlert(a, format)), next_cursor: page.next_cursor });
    },
  );

  const feedHandler = async (req: FastifyRequest<{ Querystring: { cursor?: string; limit: number; format?: AlertFormat } }>, reply: FastifyReply) => {
    const format = pickFormat(req.query.format, req.headers.accept);
    const wantsStream = req.url.split('?')[0].endsWith('/stream') || /\btext\/event-stream\b/.test(req.headers.accept ?? '');
    const lastEventId = req.headers['last-event-id'];
    const cursor = decodeSeqCursor(typeof lastEventId === 'string' && lastEventId !== '' ? lastEventId : req.query.cursor);
    if (wantsStream) return streamFeed(req, reply, cursor, format);
    if (format === 'json') {
      return cachedJson(reply, `feed ${cursor} ${req.query.limit}`, () => {
        const page = store.alertFeedForJson(cursor, req.query.limit);
        const items = 'items' in page ? page.items : page.rows;
        const next = items.length ? String(items[items.length - 1].seq) : String(cursor);
        return 'items' in page ? { body: json(reply).feed(page.items, next), keep: false } : { body: json(reply).feedFromText(page.rows, next), keep: true };
      });
    }
    const items = store.alertFeed(cursor, req.query.limit);
    const next = items.length ? String(items[items.length - 1].seq) : String(cursor);
    reply.header('x-next-cursor', next);
    if (format === 'ndjson') return reply.type(FORMAT_CONTENT_TYPE.ndjson).send(items.map((i) => JSON.stringify(i) + '\n').join(''));
    if (format === 'cef') return reply.type(FORMAT_CONTENT_TYPE.cef).send(items.map((i) => cefFeedLine(i) + '\n').join(''));
    return sendFormatted(reply, format, { items: items.map((i) => ({ seq: i.seq, change: i.change, alert: renderAlert(i.alert, format, i.change) })), next_cursor: next });
  };

  const feedSchema = {
    tags: ['alerts'],
    querystring: feedQuery,
    response: { 200: feedResponseSchema, ...errors },
  };
  app.get('/alerts/feed', { config: { access: { scope: 'alerts:read' } }, schema: { ...feedSchema, summary: 'Alert change feed (cursor; SSE with Accept: text/event-stream)' } }, feedHandler);
  app.get('/alerts/feed/stream', { config: { access: { scope: 'alerts:read' } }, schema: { ...feedSchema, summary: 'Alert change feed as server-sent events (id: <seq>, honours Last-Event-ID)' } }, feedHandler);

  function cefFeedLine(i: FeedItem): string {
    return toCef(i.alert) + ' ' + cefExtension([['cn1Label', 'feedSeq'], ['cn1', i.seq], ['act', i.change]]);
  }

  function streamFeed(req: FastifyRequest, reply: FastifyReply, start: number, format: AlertFormat): FastifyReply {
    if (openStreams >= MAX_STREAMS) throw new AppError('RATE_LIMITED', 'Too many open feed streams.', { 'retry-after': '5' });
    openStreams++;
    const out = new PassThrough();
    let closed = false;
    let wake: (() => void) | null = null;
    const close = () => {
      if (closed) return;
      closed = true;
      openStreams--;
      wake?.();
      out.end();
    };
    // The response's 'close' fires when the client goes away (or after the end); the request's
    // may fire before that, once its (empty) body is consumed, so it is not used.
    reply.raw.on('close', close);
    out.on('error', close);
    const offCommit = store.onCommit(() => wake?.());
    const sleep = (ms: number) =>
      new Promise<void>((resolve) => {
        const t = setTimeout(done, ms);
        function done() {
          clearTimeout(t);
          wake = null;
          resolve();
        }
        wake = done;
      });
    (async () => {
      let cursor = start;
      let idleMs = 0;
      out.write('retry: 2000\n\n');
      try {
        while (!closed) {
          const items = store.alertFeed(cursor, 100);
          let full = false;
          for (const i of items) {
            const data = format === 'cef' ? cefFeedLine(i) : JSON.stringify({ seq: i.seq, change: i.change, alert: renderAlert(i.alert, format, i.change) });
            full = !out.write(`id: ${i.seq}\nevent: alert\ndata: ${data}\n\n`) || full;
            cursor = i.seq;
          }
          // A slow reader: wait until the socket drains instead of buffering the whole backlog.
          if (full && !closed) await new Promise<void>((resolve) => {
            const done = () => {
              out.off('drain', done);
              wake = null;
              resolve();
            };
            out.once('drain', done);
            wake = done;
          });
          if (items.length === 100) continue;
          if (idleMs >= STREAM_KEEPALIVE_MS) {
            out.write(': keepalive\n\n');
            idleMs = 0;
          }
          const t0 = Date.now();
          await sleep(STREAM_POLL_MS);
          idleMs += Date.now() - t0;
        }
      } catch (err) {
        req.log.warn({ err }, 'alert feed stream failed');
      } finally {
        offCommit();
        close();
      }
    })();
    return reply
      .header('content-type', 'text/event-stream; charset=utf-8')
      .header('cache-control', 'no-store')
      .header('x-accel-buffering', 'no')
      .send(out);
  }

  app.get(
    '/alerts/:id',
    {
      config: { access: { scope: 'alerts:read' } },
      schema: { tags: ['alerts'], summary: 'One alert, with the actions it proposed', params: idParams, querystring: { type: 'object', properties: { format: formatQuery } }, response: { 200: alertWithActionsSchema, ...errors } },
    },
    async (req: FastifyRequest<{ Params: { id: string }; Querystring: { format?: AlertFormat } }>, reply) => {
      const a = store.getAlert(req.params.id);
      if (!a) throw new AppError('NOT_FOUND', 'No alert with this id.');
      const format = pickFormat(req.query.format, req.headers.accept);
      if (format === 'json') return { ...a, actions: store.listActions({ alert: a.id }, 20).items };
      if (format === 'ndjson') return reply.type(FORMAT_CONTENT_TYPE.ndjson).send(JSON.stringify(a) + '\n');
      if (format === 'cef') return reply.type(FORMAT_CONTENT_TYPE.cef).send(toCef(a) + '\n');
      return sendFormatted(reply, format, renderAlert(a, format));
    },
  );

  for (const op of ALERT_OPS) {
    app.post(
      `/alerts/:id/${op}`,
      {
        config: { access: { scope: 'alerts:write' } },
        schema: { tags: ['alerts'], summary: `Alert lifecycle: ${op}`, params: idParams, body: lifecycleBody, response: { 200: alertSchema, ...errors } },
      },
      async (req: FastifyRequest<{ Params: { id: string }; Body: { comment?: string } | null }>) =>
        store.transitionAlert(req.params.id, op as AlertOp, req.principal.clientId, req.body?.comment),
    );
  }
}
