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

export type AdapterResult = { ok: true; event: Record<string, unknown> } | { ok: false; message: string };

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

/** Drop undefined members so expected-event fixtures compare exactly. */
export function compact<T extends Obj>(o: T): T {
  for (const k of Object.keys(o)) {
    const v = o[k];
    if (v === undefined) delete o[k];
    else if (isObj(v)) {
      compact(v);
      if (Object.keys(v).length === 0) delete o[k];
    }
  }
  return o;
}
