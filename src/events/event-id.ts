// Content-derived event ids: the same event content gives the same id, so an event sent
// twice (a retried HTTP post, a replayed file) is the same event downstream.
import { createHash } from 'node:crypto';

/** JSON with object keys sorted at every level (own enumerable keys, `__proto__` included). */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return '[' + v.map((x) => (x === undefined ? 'null' : canonicalJson(x))).join(',') + ']';
  const o = v as Record<string, unknown>;
  const parts: string[] = [];
  for (const k of Object.keys(o).sort()) {
    const x = o[k];
    if (x === undefined || typeof x === 'function') continue;
    parts.push(JSON.stringify(k) + ':' + canonicalJson(x));
  }
  return '{' + parts.join(',') + '}';
}

/** `ev_` + 32 base64url chars (192 bits) of sha256 over the canonical JSON of the event without `id` and `redaction`. */
export function deriveEventId(event: Record<string, unknown>): string {
  const h = createHash('sha256');
  const keys = Object.keys(event).filter((k) => k !== 'id' && k !== 'redaction').sort();
  h.update('{');
  for (const k of keys) {
    const x = event[k];
    if (x === undefined) continue;
    h.update(JSON.stringify(k) + ':' + canonicalJson(x) + ',');
  }
  return 'ev_' + h.digest('base64url').slice(0, 32);
}
