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

// Sorting keys was the largest part of the encoding's cost, and events of one producer
// come with the same key orders over and over: remember the sorted order of recently seen
// key lists, found by their first key and compared element-wise (JSON.parse interns keys,
// so equal keys usually compare by pointer).
interface SortedOrder {
  keys: string[];
  sorted: string[];
}
const MAX_ORDERS_PER_FIRST_KEY = 8;
const MAX_FIRST_KEYS = 1024;
const sortedOrders = new Map<string, SortedOrder[]>();

function sameKeys(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function sortedKeys(keys: string[]): string[] {
  let unsorted = false;
  for (let i = 1; i < keys.length; i++) {
    if (keys[i - 1] > keys[i]) {
      unsorted = true;
      break;
    }
  }
  if (!unsorted) return keys;
  let orders = sortedOrders.get(keys[0]);
  if (orders !== undefined) {
    for (let i = 0; i < orders.length; i++) if (sameKeys(orders[i].keys, keys)) return orders[i].sorted;
  }
  const sorted = keys.slice().sort();
  if (orders === undefined) {
    if (sortedOrders.size >= MAX_FIRST_KEYS) sortedOrders.clear();
    orders = [];
    sortedOrders.set(keys[0], orders);
  }
  if (orders.length >= MAX_ORDERS_PER_FIRST_KEY) orders.shift();
  orders.push({ keys, sorted });
  return sorted;
}

// `<length>:<key>` of recently seen keys (keys repeat across events; values mostly do not).
const keyPrefixes = new Map<string, string>();
function keyPrefix(k: string): string {
  let p = keyPrefixes.get(k);
  if (p === undefined) {
    p = k.length + ':' + k;
    if (keyPrefixes.size >= 4096) keyPrefixes.clear();
    keyPrefixes.set(k, p);
  }
  return p;
}

function encodeObject(o: Record<string, unknown>, top: boolean): string {
  const keys = sortedKeys(Object.keys(o));
  let s = '{';
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    const x = o[k];
    if (x === undefined || typeof x === 'function') continue;
    if (top && (k === 'id' || k === 'redaction')) continue;
    s += keyPrefix(k) + canonicalEncoding(x);
  }
  return s + '}';
}

/** `ev_` + 32 base64url chars (192 bits) of SHA-256 over the canonical encoding of the event without `id` and `redaction`. */
export function deriveEventId(event: Record<string, unknown>): string {
  return 'ev_' + hash('sha256', encodeObject(event, true), 'base64url').slice(0, 32);
}
