// Content-derived event ids: the same event content gives the same id, so an event sent
// twice (a retried HTTP post, a replayed file) is the same event downstream.
import { hash } from 'node:crypto';

// Field names repeat from event to event; quoting each once is measurably cheaper.
const quotedKeys = new Map<string, string>();
function quoteKey(k: string): string {
  let q = quotedKeys.get(k);
  if (q === undefined) {
    q = JSON.stringify(k);
    if (quotedKeys.size < 10_000) quotedKeys.set(k, q);
  }
  return q;
}

/** JSON with object keys sorted (UTF-16 order) at every level; `__proto__` own keys included. */
export function canonicalJson(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) {
    let s = '[';
    for (let i = 0; i < v.length; i++) {
      if (i) s += ',';
      const x = v[i];
      s += x === undefined || typeof x === 'function' ? 'null' : canonicalJson(x);
    }
    return s + ']';
  }
  return canonicalObject(v as Record<string, unknown>, undefined);
}

function canonicalObject(o: Record<string, unknown>, skip: ((k: string) => boolean) | undefined): string {
  let keys = Object.keys(o);
  for (let i = 1; i < keys.length; i++) {
    if (keys[i - 1] > keys[i]) {
      keys = keys.sort();
      break;
    }
  }
  let s = '{';
  let first = true;
  for (const k of keys) {
    const x = o[k];
    if (x === undefined || typeof x === 'function' || (skip && skip(k))) continue;
    s += (first ? '' : ',') + quoteKey(k) + ':' + canonicalJson(x);
    first = false;
  }
  return s + '}';
}

const notIdentity = (k: string) => k === 'id' || k === 'redaction';

/** `ev_` + 32 base64url chars (192 bits) of sha256 over the canonical JSON of the event without `id` and `redaction`. */
export function deriveEventId(event: Record<string, unknown>): string {
  return 'ev_' + hash('sha256', canonicalObject(event, notIdentity), 'base64url').slice(0, 32);
}
