// The derived id is a definition (fixture files embed ids): the optimised encoder must give
// exactly the ids of the plain reference encoding below, whatever the key order, and the
// sorted-order cache must never confuse two key lists.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { deriveEventId } from '../../src/events/event-id.js';
import { createIngestor } from '../../src/events/ingestor.js';
import { compileRoutePolicy } from '../../src/events/route-policy.js';

/** The id's definition, written plainly: sorted keys, length-prefixed strings, SHA-256. */
function reference(v: unknown, top = false): string {
  if (typeof v === 'string') return `s${v.length}:${v}`;
  if (typeof v === 'number') return `n${Number.isFinite(v) ? String(v) : 'null'};`;
  if (typeof v === 'boolean') return v ? 't' : 'f';
  if (v === null || typeof v !== 'object') return 'z';
  if (Array.isArray(v)) return `[${v.length}:` + v.map((x) => (x === undefined || typeof x === 'function' ? 'z' : reference(x))).join('');
  const o = v as Record<string, unknown>;
  return (
    '{' +
    Object.keys(o)
      .sort()
      .filter((k) => o[k] !== undefined && typeof o[k] !== 'function' && !(top && (k === 'id' || k === 'redaction')))
      .map((k) => `${k.length}:${k}${reference(o[k])}`)
      .join('') +
    '}'
  );
}
const referenceId = (e: Record<string, unknown>) => 'ev_' + createHash('sha256').update(reference(e, true), 'utf8').digest('base64url').slice(0, 32);

/** A deep copy with every object's keys in reverse order. */
function reversed(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(reversed);
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  // defineProperty: generated keys include `__proto__`, which plain assignment would not copy as a member
  for (const k of Object.keys(v).reverse()) Object.defineProperty(out, k, { value: reversed((v as Record<string, unknown>)[k]), enumerable: true, writable: true, configurable: true });
  return out;
}

describe('deriveEventId', () => {
  it('equals the reference definition and ignores key order, on generated objects', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 3 })), (o) => {
        const id = deriveEventId(o);
        expect(id).toBe(referenceId(o));
        // twice: the second time the sorted orders come from the cache
        expect(deriveEventId(reversed(o) as Record<string, unknown>)).toBe(id);
        expect(deriveEventId(reversed(o) as Record<string, unknown>)).toBe(id);
      }),
      { numRuns: 500 },
    );
  });

  it('handles a `__proto__` member like any other key', () => {
    const o = JSON.parse('{"":{"__proto__":0,"a":1}}') as Record<string, unknown>;
    expect(deriveEventId(o)).toBe(referenceId(o));
    expect(deriveEventId(reversed(o) as Record<string, unknown>)).toBe(deriveEventId(o));
  });

  it('tells apart key lists that share a first key and length (cached orders are compared whole)', () => {
    const a = { b: 1, a: 2, c: 3 };
    const b = { b: 1, c: 2, a: 3 };
    const c = { b: 1, a: 2, d: 3 };
    for (let i = 0; i < 3; i++) {
      expect(deriveEventId(a)).toBe(referenceId(a));
      expect(deriveEventId(b)).toBe(referenceId(b));
      expect(deriveEventId(c)).toBe(referenceId(c));
    }
    expect(new Set([deriveEventId(a), deriveEventId(b), deriveEventId(c)]).size).toBe(3);
  });

  it('keeps working past the caches’ bounds', () => {
    for (let i = 0; i < 3000; i++) {
      const o = { [`z${i}`]: i, [`a${i}`]: { y: 1, x: `k${i}` } };
      expect(deriveEventId(o)).toBe(referenceId(o));
    }
  });

  it('leaves out the top-level id and redaction only', () => {
    const e = { time: 't', observer: { id: 'x', name: 'n' } };
    expect(deriveEventId({ ...e, id: 'p', redaction: { applied: true } })).toBe(deriveEventId(e));
    expect(deriveEventId({ ...e, observer: { name: 'n' } })).not.toBe(deriveEventId(e));
  });
});

describe('ids of NGINX combined lines', () => {
  const lineRef = (observer: string, line: string) => 'ev_' + createHash('sha256').update(`nginx-combined\n${observer}\n${line}`, 'utf8').digest('base64url').slice(0, 32);
  const ingestorFor = (observer?: string) =>
    createIngestor({ fingerprintSecret: Buffer.from('event-id-test-secret-0123456789abcdef'), routePolicy: compileRoutePolicy({ routes: [] }), inputFormat: 'nginx', maxLineBytes: 65536, ...(observer ? { observerNames: { nginx: observer } } : {}) });
  const origin = { source: 'file' as const, name: 'access.log' };
  const line = '203.0.113.10 - - [14/Mar/2026:10:30:00 +0100] "GET /api/v1/orders/42?page=2 HTTP/1.1" 401 52 "-" "curl/8.5.0"';

  it('a line that needed no redaction: SHA-256 of format, observer name and the line itself', () => {
    const out = ingestorFor().ingestLine(line, origin);
    if (!out.ok) throw new Error(out.rejection.message);
    expect(out.event.id).toBe(lineRef('nginx', line));
    expect(out.derivedId).toBe(true);
    // the same line from another observer is another event; a CRLF line is the same line
    const other = ingestorFor('edge-2').ingestLine(line, origin);
    expect(other.ok && other.event.id).toBe(lineRef('edge-2', line));
    const crlf = ingestorFor().ingestLine(line + '\r', origin);
    expect(crlf.ok && crlf.event.id).toBe(out.event.id);
  });

  it('a line that held a secret: the canonical id of the redacted event, never a hash of the raw line', () => {
    const secretLine = '203.0.113.10 - - [14/Mar/2026:10:30:00 +0100] "GET /cb?code=SplxlOBeZQQYbYS6WxSbIA&state=xyz HTTP/1.1" 401 52 "-" "curl/8.5.0"';
    const out = ingestorFor().ingestLine(secretLine, origin);
    if (!out.ok) throw new Error(out.rejection.message);
    expect(out.event.redaction?.applied).toBe(true);
    expect(JSON.stringify(out.event)).not.toContain('SplxlOBeZQQYbYS6WxSbIA');
    expect(out.event.id).not.toBe(lineRef('nginx', secretLine));
    expect(out.event.id).toBe(referenceId(out.event as unknown as Record<string, unknown>));
  });
});
