// The ingest stage: one input line (or parsed object) → adapter → redaction → validation →
// normalisation → one authwatch event, or a rejection with a stable reason. Never throws:
// bad input is refused with a reason and counted, and the rest of the batch goes on.
import { EVENT_LIMITS, type RouteClass } from './event.js';
import type { AwEvent } from './event.js';
import type { IngestOutcome, Ingestor, InputFormat, Origin, RejectReason } from './ingest-types.js';
import type { Metrics } from '../observability/metrics.js';
import type { RoutePolicy } from './route-policy.js';
import { createRedactor, fingerprint, redactText, RedactionDepthError, REDACTED, type RedactionKind, type RedactionReport, type WalkStats } from './redaction.js';
import { checkLimits, contractViolation } from './event-validate.js';
import { normaliseTime } from './event-time.js';
import { deriveEventId, nginxCombinedLineId } from './event-id.js';
import { isObj, type AdapterContext, type AdapterFormat, type AdapterResult, type Obj } from './adapters/adapter-types.js';
import { adaptAuthwatch } from './adapters/authwatch-adapter.js';
import { adaptNginxJson, adaptNginxLine, matchNginxCombined } from './adapters/nginx-adapter.js';
import { adaptEnvoy } from './adapters/envoy-adapter.js';
import { adaptKong } from './adapters/kong-adapter.js';
import { detectObjectFormat } from './adapters/detect.js';

export interface IngestorOptions {
  fingerprintSecret: Buffer;
  routePolicy: RoutePolicy;
  inputFormat: InputFormat;
  maxLineBytes: number;
  metrics?: Metrics;
  /** observer.name for gateway formats whose records do not name their instance (default: the format name) */
  observerNames?: Partial<Record<'nginx' | 'envoy' | 'kong', string>>;
  /**
   * false: every event takes the full redaction walk, even when its adapter vouched that the
   * walk would find nothing (AdapterResult.redactionFree). Tests compare the two; default true.
   */
  trustAdapterChecks?: boolean;
}

const NOTHING_REDACTED: RedactionReport = Object.freeze({ count: 0, fields: [], kinds: {}, fingerprints: [] }) as RedactionReport;

/** Rejections keep at most this many characters of the (redacted) input. */
export const MAX_RAW_CHARS = 2048;

class Reject {
  constructor(readonly reason: RejectReason, readonly message: string, readonly raw: string) {}
}

// A cut-off token at the end of a shortened line would escape the patterns (no closing dot
// segments), so the trailing token-ish run is dropped before redacting.
const TRAILING_TOKENISH_RE = /[A-Za-z0-9_.~+/=%-]+$/;

/** Redacted, truncated copy of an input line for the dead-letter record. */
export function rawForRejection(line: string): string {
  let s = line;
  if (s.length > MAX_RAW_CHARS * 2) s = s.slice(0, MAX_RAW_CHARS * 2).replace(TRAILING_TOKENISH_RE, '');
  s = redactText(s);
  return s.length > MAX_RAW_CHARS ? s.slice(0, MAX_RAW_CHARS) + '…' : s;
}

function rawForObject(obj: unknown): string {
  try {
    const s = JSON.stringify(obj);
    return s === undefined ? String(obj) : rawForRejection(s);
  } catch {
    return '(unserialisable)';
  }
}

export function createIngestor(opts: IngestorOptions): Ingestor {
  const redact = createRedactor(opts.fingerprintSecret);
  const secret = opts.fingerprintSecret;
  const metrics = opts.metrics;
  const ctxFor = (format: AdapterFormat): AdapterContext => ({
    fingerprint: (t) => fingerprint(secret, t),
    observerName: format === 'authwatch' ? undefined : opts.observerNames?.[format],
  });
  const ctx: Record<AdapterFormat, AdapterContext> = { authwatch: ctxFor('authwatch'), nginx: ctxFor('nginx'), envoy: ctxFor('envoy'), kong: ctxFor('kong') };

  function adaptObject(o: Obj, format: AdapterFormat): AdapterResult {
    switch (format) {
      case 'authwatch':
        return adaptAuthwatch(o);
      case 'nginx':
        return adaptNginxJson(o, ctx.nginx);
      case 'envoy':
        return adaptEnvoy(o, ctx.envoy);
      case 'kong':
        return adaptKong(o, ctx.kong);
    }
  }

  /**
   * adapter output → the accepted event; throws Reject. `line`: the text log line (NGINX
   * combined) the event was read from, whose hash is its id when nothing needed redaction.
   */
  function finish(e: Obj, line?: string, redactionFree?: boolean, deferLineId?: boolean): AwEvent {
    derived = false;
    lineForId = undefined;
    if ('redaction' in e) delete e.redaction; // only authwatch sets it
    let report: RedactionReport;
    if (redactionFree === true && opts.trustAdapterChecks !== false) {
      // the adapter checked what the walk would find: nothing to redact, within the limits
      report = NOTHING_REDACTED;
    } else {
      const stats: WalkStats = { depth: 0, keys: 0, longestArray: 0, longestString: 0, longestKey: 0 };
      try {
        report = redact(e, stats);
      } catch (err) {
        if (err instanceof RedactionDepthError) throw new Reject('too_large', err.message, '(too deeply nested to keep)');
        throw err;
      }
      if (stats.depth > EVENT_LIMITS.maxDepth || stats.keys > EVENT_LIMITS.maxKeys || stats.longestArray > EVENT_LIMITS.maxArrayLength || stats.longestString > EVENT_LIMITS.maxStringLength || stats.longestKey > 256) {
        // the walk measured; checkLimits finds the place for the message
        throw new Reject('too_large', checkLimits(e) ?? 'event exceeds the size limits', rawForObject(e));
      }
    }
    const violation = contractViolation(e);
    if (violation) throw new Reject('schema_violation', violation, rawForObject(e));
    const time = normaliseTime(e.time as string);
    if (time === undefined) {
      throw new Reject('invalid_time', `time: "${String(e.time).slice(0, 64)}" is not an RFC 3339 timestamp (e.g. 2026-01-02T03:04:05Z or +02:00)`, rawForObject(e));
    }
    e.time = time;
    // an id that held a secret was redacted to a constant; it no longer identifies the event
    if (e.id === undefined || e.id === REDACTED || (typeof e.id === 'string' && e.id.includes(REDACTED))) {
      // derived before route_class is filled, so a route policy change does not change ids
      if (line !== undefined && report.count === 0) {
        if (deferLineId === true) {
          e.id = '';
          lineForId = line;
        } else e.id = nginxCombinedLineId((e.observer as Obj).name as string, line);
      } else e.id = deriveEventId(e);
      derived = true;
    }
    const http = e.http as Obj | undefined;
    if (http && http.route_class === undefined && typeof http.route === 'string') {
      const cls: RouteClass | undefined = opts.routePolicy.classify(http.method as string | undefined, http.route);
      if (cls) http.route_class = cls;
    }
    if (report.count > 0) {
      e.redaction = { applied: true, count: report.count, fields: report.fields };
      if (metrics) {
        for (const [kind, n] of Object.entries(report.kinds) as Array<[RedactionKind, number]>) metrics.redactions.inc({ kind }, n);
        metrics.eventsRedacted.inc({ observer: (e.observer as Obj).name as string });
      }
    }
    return e as AwEvent;
  }

  function rejected(err: unknown, origin: Origin, raw: () => string): IngestOutcome {
    if (err instanceof Reject) return { ok: false, rejection: { reason: err.reason, message: err.message, origin, raw: err.raw } };
    // A bug, not bad input: still a rejection (never a crash), with no internals in the message.
    return { ok: false, rejection: { reason: 'adapter_error', message: `internal error while mapping the record (${(err as Error)?.name ?? 'Error'})`, origin, raw: raw() } };
  }

  // (a plain function, not a closure made per call: this runs for every event)
  function rawOf(o: unknown, rawLine: string | undefined): string {
    return rawLine !== undefined ? rawForRejection(rawLine) : rawForObject(o);
  }

  function fromObject(o: unknown, rawLine: string | undefined): { event: AwEvent; format: AdapterFormat } {
    if (!isObj(o)) throw new Reject('not_an_object', `expected a JSON object, got ${Array.isArray(o) ? 'an array' : o === null ? 'null' : typeof o}`, rawOf(o, rawLine));
    let format: AdapterFormat | undefined;
    if (opts.inputFormat === 'auto') {
      format = detectObjectFormat(o);
      if (!format) throw new Reject('unknown_format', 'no adapter recognises this record (authwatch needs observer + auth; see docs/adapters.md for gateway keys)', rawOf(o, rawLine));
    } else format = opts.inputFormat;
    lastFormat = format;
    const r = adaptObject(o, format);
    if (!r.ok) throw new Reject('adapter_error', `${format}: ${r.message}`, rawOf(o, rawLine));
    return { event: finish(r.event), format };
  }

  function fromLine(input: string, deferLineId: boolean | undefined): { event: AwEvent; format: AdapterFormat } {
    let line = input;
    if (line.length > opts.maxLineBytes || (line.length * 3 > opts.maxLineBytes && Buffer.byteLength(line, 'utf8') > opts.maxLineBytes)) {
      throw new Reject('line_too_long', `line longer than ${opts.maxLineBytes} bytes`, rawForRejection(line));
    }
    if (line.indexOf('\u0000') >= 0 || line.indexOf('\uFFFD') >= 0) throw new Reject('not_utf8', 'line holds NUL bytes or invalid UTF-8 (binary data?)', rawForRejection(line));
    if (line.charCodeAt(line.length - 1) === 13) line = line.slice(0, -1);
    if (line.charCodeAt(0) === 0xfeff) line = line.slice(1);
    let i = 0;
    while (i < line.length && (line[i] === ' ' || line[i] === '\t')) i++;
    const first = line[i];
    // auto-detection and the adapter share one exec of the combined-format regex
    const match = first !== '{' && (opts.inputFormat === 'nginx' || opts.inputFormat === 'auto') ? matchNginxCombined(line) : null;
    const isText = first !== '{' && (opts.inputFormat === 'nginx' || (opts.inputFormat === 'auto' && match !== null));
    if (isText) {
      lastFormat = 'nginx';
      const r = adaptNginxLine(line, ctx.nginx, match);
      if (!r.ok) throw new Reject('adapter_error', `nginx: ${r.message}`, rawForRejection(line));
      return { event: finish(r.event, line, r.redactionFree, deferLineId), format: 'nginx' };
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch (err) {
      const looksJson = first === '{' || first === '[';
      if (opts.inputFormat === 'auto' && !looksJson) throw new Reject('unknown_format', 'neither JSON nor an NGINX combined log line', rawForRejection(line));
      const where = /position (\d+)/.exec((err as Error).message)?.[1];
      throw new Reject('malformed_json', `malformed JSON${where ? ` at character ${where}` : ''}`, rawForRejection(line));
    }
    return fromObject(parsed, line);
  }

  // authwatch_events_received_total{source, format}: counted here because only the ingest
  // stage knows the format (`unknown` for lines rejected before one was chosen).
  const receivedChildren = new Map<string, { inc(): void }>();
  let lastFormat: AdapterFormat | 'unknown' = 'unknown';
  // whether the last finished event's id was derived, and the line for a deferred one (variables, not fields: no object per event)
  let derived = false;
  let lineForId: string | undefined;
  function countReceived(origin: Origin): void {
    if (!metrics) return;
    const key = origin.source + '|' + lastFormat;
    let c = receivedChildren.get(key);
    if (!c) {
      c = metrics.eventsReceived.labels(origin.source, lastFormat);
      receivedChildren.set(key, c);
    }
    c.inc();
  }

  return {
    ingestLine(line, origin, deferLineId) {
      lastFormat = 'unknown';
      try {
        const r = fromLine(typeof line === 'string' ? line : String(line), deferLineId);
        return { ok: true, event: r.event, format: r.format, derivedId: derived, lineForId };
      } catch (err) {
        return rejected(err, origin, () => rawForRejection(String(line)));
      } finally {
        countReceived(origin);
      }
    },
    ingestObject(obj, origin) {
      lastFormat = 'unknown';
      try {
        const r = fromObject(obj, undefined);
        return { ok: true, event: r.event, format: r.format, derivedId: derived, lineForId: undefined };
      } catch (err) {
        return rejected(err, origin, () => rawForObject(obj));
      } finally {
        countReceived(origin);
      }
    },
  };
}
