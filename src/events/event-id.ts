// Content-derived event ids: the same event content gives the same id, so an event sent
// twice (a retried HTTP post, a replayed file) is the same event downstream.
import { hash } from 'node:crypto';

function isSorted(keys: string[]): boolean {
  for (let i = 1; i < keys.length; i++) if (keys[i - 1] > keys[i]) return false;
  return true;
}

function appendCanonical(v: unknown, out: string[]): void {
  if (typeof v === 'string') {
    out.push(JSON.stringify(v));
  } else if (v === null || typeof v !== 'object') {
    out.push(JSON.stringify(v) ?? 'null');
  } else if (Array.isArray(v)) {
    out.push('[');
    for (let i = 0; i < v.length; i++) {
      if (i) out.push(',');
      const x = v[i];
      if (x === undefined || typeof x === 'function') out.push('null');
      else appendCanonical(x, out);
    }
    out.push(']');
  } else {
    const o = v as Record<string, unknown>;
    let keys = Object.keys(o);
    if (!isSorted(keys)) keys = keys.sort();
    out.push('{');
    let first = true;
    for (const k of keys) {
      const x = o[k];
      if (x === undefined || typeof x === 'function') continue;
      out.push(first ? JSON.stringify(k) + ':' : ',' + JSON.stringify(k) + ':');
      first = false;
      appendCanonical(x, out);
    }
    out.push('}');
  }
}

/** JSON with object keys sorted (UTF-16 order) at every level; `__proto__` own keys included. */
export function canonicalJson(v: unknown): string {
  const out: string[] = [];
  appendCanonical(v, out);
  return out.join('');
}

/** `ev_` + 32 base64url chars (192 bits) of sha256 over the canonical JSON of the event without `id` and `redaction`. */
export function deriveEventId(event: Record<string, unknown>): string {
  const rest: Record<string, unknown> = {};
  for (const k of Object.keys(event)) {
    if (k === 'id' || k === 'redaction') continue;
    Object.defineProperty(rest, k, { value: event[k], enumerable: true, writable: true, configurable: true });
  }
  return 'ev_' + hash('sha256', canonicalJson(rest), 'base64url').slice(0, 32);
}
