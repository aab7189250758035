// What every gateway adapter implements: one parsed log record (or text line) in, one
// authwatch v1 event (before redaction and validation) out, or a reason it cannot map.
export const ADAPTER_FORMATS = ['authwatch', 'nginx', 'envoy', 'kong'] as const;
export type AdapterFormat = (typeof ADAPTER_FORMATS)[number];

export interface AdapterContext {
  /** token fingerprint with the configured secret (adapters see tokens before redaction) */
  fingerprint(token: string): string;
  /** observer.name for formats whose records do not name the gateway instance */
  observerName?: string;
}

export type AdapterResult =
  | {
      ok: true;
      event: Record<string, unknown>;
      /**
       * Set by an adapter that has checked the event needs no redaction walk: no key of it is a
       * secret's, every string in it fails the redactor's pre-check (mayHoldSecret), and it is
       * within the event size limits. The ingestor then skips the walk, whose result it knows.
       */
      redactionFree?: true;
    }
  | { ok: false; message: string };

export type Obj = Record<string, unknown>;

export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A non-empty string value, or undefined for absent, empty and nginx's "-" placeholder. */
export function strField(v: unknown): string | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v !== 'string' || v === '' || v === '-') return undefined;
  return v;
}

/** An HTTP status from a number or a numeric string. */
export function statusField(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d{3}$/.test(v) ? Number(v) : NaN;
  return Number.isInteger(n) && n >= 100 && n <= 599 ? n : undefined;
}

/**
 * Drop undefined members (and objects left empty) so expected-event fixtures compare exactly.
 * Builds new objects instead of `delete`-ing: a delete turns an object into a slow
 * dictionary-mode object, and the event is read by every rule that evaluates it.
 */
export function compact<T extends Obj>(o: T): T {
  const out: Obj = {};
  const keys = Object.keys(o);
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    let v = o[k];
    if (v === undefined) continue;
    if (isObj(v)) {
      v = compact(v);
      if (!hasKeys(v as Obj)) continue;
    }
    // `__proto__` as plain assignment would set the prototype instead of a member
    if (k === '__proto__') Object.defineProperty(out, k, { value: v, writable: true, enumerable: true, configurable: true });
    else out[k] = v;
  }
  return out as T;
}

function hasKeys(o: Obj): boolean {
  for (const k in o) if (Object.hasOwn(o, k)) return true;
  return false;
}
