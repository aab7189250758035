// authwatch v1 NDJSON: already the contract, so the record passes through unchanged
// (redaction and validation follow in the ingestor).
import type { AdapterResult, Obj } from './adapter-types.js';

export function looksLikeAuthwatch(o: Obj): boolean {
  return typeof o.observer === 'object' && o.observer !== null && ('auth' in o || 'time' in o);
}

export function adaptAuthwatch(o: Obj): AdapterResult {
  return { ok: true, event: o };
}
