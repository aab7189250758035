// POST /v1/events: HTTP ingest. The body is NDJSON (one event or gateway log line per line) or
// a JSON array of events (a single object also works). Every line gets a verdict; bad lines are
// rejected with a reason and saved to the dead-letter table, the rest are ingested. A body that
// was read is answered 200 even when some lines were rejected; only the body as a whole can fail
// (413 too large, 415 wrong type).
import type { FastifyInstance } from 'fastify';
import { errorBodySchema } from './error-schema.js';
import type { ApiDeps } from './deps.js';
import { ingestSliced, type SlicedResult } from './sliced-ingest.js';

/** Results list only rejected lines, and at most this many, so a huge bad body gets a small answer. */
export const MAX_LISTED_REJECTIONS = 1000;

const resultSchema = {
  type: 'object',
  required: ['accepted', 'rejected', 'results', 'results_truncated'],
  properties: {
    accepted: { type: 'integer', description: 'events accepted' },
    rejected: { type: 'integer', description: 'lines rejected (all of them, even when results is truncated)' },
    results: {
      type: 'array',
      description: `rejected lines only, in order, at most ${MAX_LISTED_REJECTIONS}`,
      items: {
        type: 'object',
        required: ['line', 'status', 'reason'],
        properties: {
          line: { type: 'integer', description: '1-based line (NDJSON) or array index + 1 (JSON array)' },
          status: { type: 'string', enum: ['accepted', 'rejected'] },
          reason: { type: 'string', description: 'reject reason code (docs/event-contract.md)' },
          message: { type: 'string' },
        },
      },
    },
    results_truncated: { type: 'boolean' },
  },
} as const;

export async function ingestRoutes(app: FastifyInstance, opts: { deps: ApiDeps }): Promise<void> {
  const { pipeline, metrics } = opts.deps;
  // Bodies are parsed here, line by line, so one bad line cannot fail the whole request.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(['application/json', 'application/x-ndjson', 'text/plain'], { parseAs: 'string' }, (_req, body, done) => done(null, body));

  app.post(
    '/events',
    {
      config: { access: { scope: 'events:write' } },
      schema: {
        tags: ['ingest'],
        summary: 'Ingest events (NDJSON, JSON array or one JSON object)',
        description:
          'Content types: application/x-ndjson or text/plain (one event or gateway log line per line), application/json (an array of events, or one event). ' +
          'Answers 200 with per-line results when the body was read, even if some lines were rejected; rejected lines are kept in the dead-letter table.',
        response: { 200: resultSchema, 400: errorBodySchema, 401: errorBodySchema, 403: errorBodySchema, 413: errorBodySchema, 415: errorBodySchema },
      },
    },
    async (request) => {
      const body = typeof request.body === 'string' ? request.body : '';
      metrics.ingestBytes.inc({ source: 'http' }, Buffer.byteLength(body));
      const origin = { source: 'http' as const, name: request.principal.clientId };
      const ct = (request.headers['content-type'] ?? '').toLowerCase();
      let result: SlicedResult;
      // in slices, so a large body does not hold every other request back (sliced-ingest.ts)
      const parsed = ct.startsWith('application/json') ? parseJson(body) : undefined;
      if (parsed !== undefined) result = await ingestSliced(pipeline, 'objects', Array.isArray(parsed) ? parsed : [parsed], origin);
      else result = await ingestSliced(pipeline, 'lines', body.split(/\r?\n/), origin);
      const listed = result.rejected.slice(0, MAX_LISTED_REJECTIONS);
      return {
        accepted: result.accepted,
        rejected: result.rejected.length,
        results: listed.map((r) => ({ line: r.origin.line ?? 0, status: 'rejected' as const, reason: r.reason, message: r.message })),
        results_truncated: result.rejected.length > listed.length,
      };
    },
  );
}

/** A JSON body that does not parse as a whole (often NDJSON sent as application/json) is read line by line instead. */
function parseJson(body: string): unknown {
  if (body.trim() === '') return undefined;
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return undefined;
  }
}
