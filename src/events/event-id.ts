// Content-derived event ids: the same event content gives the same id, so an event sent
// twice (a retried HTTP post, a replayed file, the same object with its keys in another
// order) is the same event downstream.
import { hash } from 'node:crypto';

/**
 * An injective, key-order-independent encoding of a JSON value: strings are length-prefixed
 * instead of escaped (no scan, cheaper than canonical JSON on the hot path), object keys
 * are sorted at every level, undefined members are skipped as JSON.stringify does.
 * (The encoding is the id's definition: changing it changes every derived id.)
 */
export function canonicalEncoding(v: unknown): string {
  switch (typeof v) {
    case 'string':
      return (v.length < STRING_PREFIXES.length ? STRING_PREFIXES[v.length] : 's' + v.length + ':') + v;
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

// `s<length>:` for the short strings that make up most events (no number formatting per string)
const STRING_PREFIXES = Array.from({ length: 256 }, (_, n) => 's' + n + ':');

// Sorting keys and formatting `<length>:<key>` were the largest part of the encoding's cost,
// and events of one producer come with the same key orders over and over: remember, for
// recently seen key lists, the sorted order with each key's prefix. Lists are found by their
// first key and compared element-wise (JSON.parse interns keys, so equal keys usually
// compare by pointer).
interface KeyOrder {
  keys: string[];
  /** the keys sorted */
  sorted: string[];
  /** `<length>:<key>` of each sorted key */
  prefixes: string[];
}
const MAX_ORDERS_PER_FIRST_KEY = 8;
const MAX_FIRST_KEYS = 1024;
const keyOrders = new Map<string, KeyOrder[]>();

function sameKeys(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The order for a non-empty key list. */
function keyOrder(keys: string[]): KeyOrder {
  let orders = keyOrders.get(keys[0]);
  if (orders !== undefined) {
    for (let i = 0; i < orders.length; i++) if (sameKeys(orders[i].keys, keys)) return orders[i];
  }
  const sorted = keys.slice().sort();
  const order: KeyOrder = { keys, sorted, prefixes: sorted.map((k) => k.length + ':' + k) };
  if (orders === undefined) {
    if (keyOrders.size >= MAX_FIRST_KEYS) keyOrders.clear();
    orders = [];
    keyOrders.set(keys[0], orders);
  }
  if (orders.length >= MAX_ORDERS_PER_FIRST_KEY) orders.shift();
  orders.push(order);
  return order;
}

function encodeObject(o: Record<string, unknown>, top: boolean): string {
  const keys = Object.keys(o);
  if (keys.length === 0) return '{}';
  const { sorted, prefixes } = keyOrder(keys);
  let s = '{';
  for (let i = 0; i < sorted.length; i++) {
    const k = sorted[i];
    const x = o[k];
    if (x === undefined || typeof x === 'function') continue;
    if (top && (k === 'id' || k === 'redaction')) continue;
    s += prefixes[i] + canonicalEncoding(x);
  }
  return s + '}';
}

/** `ev_` + 32 base64url chars (192 bits) of SHA-256 over the canonical encoding of the event without `id` and `redaction`. */
export function deriveEventId(event: Record<string, unknown>): string {
  return 'ev_' + hash('sha256', encodeObject(event, true), 'base64url').slice(0, 32);
}

/**
 * The id of an event read from a text log line that needed no redaction: `ev_` + 32 base64url
 * chars of SHA-256 over the format, the observer name and the line itself. The event is a
 * function of exactly these (the adapter reads nothing else), so this identifies it as the
 * canonical encoding does, at a fraction of the cost: no encoding to build, a shorter input.
 * Lines that held a secret never get one (their id would be a hash of the secret): they take
 * deriveEventId over the redacted event.
 */
export function deriveLineEventId(format: string, observerName: string, line: string): string {
  return 'ev_' + hash('sha256', format + '\n' + observerName + '\n' + line, 'base64url').slice(0, 32);
}

/** The line id of an NGINX combined line (the only text format): what the ingestor derives, or the pipeline when it was deferred. */
export function nginxCombinedLineId(observerName: string, line: string): string {
  return deriveLineEventId('nginx-combined', observerName, line);
}
