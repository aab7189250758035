// Content-derived event ids: the same event content gives the same id, so an event sent
// twice (a retried HTTP post, a replayed file, the same object with its keys in another
// order) is the same event downstream.
import { hash } from 'node:crypto';

/**
 * An injective, key-order-independent encoding of a JSON value: strings are length-prefixed
 * instead of escaped (no scan, cheaper than canonical JSON on the hot path), object keys
 * are sorted at every level, undefined members are skipped as JSON.stringify does.
 */
export function canonicalEncoding(v: unknown): string {
  switch (typeof v) {
    case 'string':
      return 's' + v.length + ':' + v;
    case 'number':
      return 'n' + (Number.isFinite(v) ? String(v) : 'null') + ';';
    case 'boolean':
      return v ? 't' : 'f';
    case 'object': {
      if (v === null) return 'z';
      if (Array.isArray(v)) {
        let s = '[' + v.length + ':';
        for (let i = 0; i < v.length; i++) {
          const x = v[i];
          s += x === undefined || typeof x === 'function' ? 'z' : canonicalEncoding(x);
        }
        return s;
      }
      return encodeObject(v as Record<string, unknown>, false);
    }
    default:
      return 'z';
  }
}

function encodeObject(o: Record<string, unknown>, top: boolean): string {
  let keys = Object.keys(o);
  for (let i = 1; i < keys.length; i++) {
    if (keys[i - 1] > keys[i]) {
      keys = keys.sort();
      break;
    }
  }
  let s = '{';
  for (const k of keys) {
    const x = o[k];
    if (x === undefined || typeof x === 'function') continue;
    if (top && (k === 'id' || k === 'redaction')) continue;
    s += k.length + ':' + k + canonicalEncoding(x);
  }
  return s + '}';
}

/** `ev_` + 32 base64url chars (192 bits) of SHA-256 over the canonical encoding of the event without `id` and `redaction`. */
export function deriveEventId(event: Record<string, unknown>): string {
  return 'ev_' + hash('sha256', encodeObject(event, true), 'base64url').slice(0, 32);
}
