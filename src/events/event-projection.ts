// Event projections: when ingest runs on worker threads (src/parallel/), the main thread's rule
// engine receives only the fields its compiled rules read (plus id and time), which is far
// cheaper to hand over than the whole event. The full redacted event travels beside it as JSON
// text and is materialised only when the engine keeps an evidence sample. A projection is
// exact for matching: every path a getter reads is copied whole (absent stays absent).

/** Symbol under which a projected event carries its full redacted event as JSON text. */
export const FULL_EVENT_JSON = Symbol('authwatch.fullEventJson');

type Obj = Record<string, unknown>;

/** A fresh, plain copy of the whole event (for evidence samples), projected or not. */
export function fullEventCopy(ev: object): Obj {
  const json = (ev as { [FULL_EVENT_JSON]?: string })[FULL_EVENT_JSON];
  return json !== undefined ? (JSON.parse(json) as Obj) : (structuredClone(ev) as Obj);
}

/**
 * A projector for the given field paths (as recorded by sigma-matcher's recordFieldReads), or
 * null when a rule reads the whole event (keyword searches, `*`).
 */
export function compileProjection(fields: Iterable<string>): ((ev: Obj) => Obj) | null {
  const paths: string[][] = [];
  const dotted: string[] = [];
  for (const f of fields) {
    if (f === '*') return null;
    const parts = f.split('.');
    paths.push(parts);
    // getters fall back to a literal "a.b" key when the nested path is absent
    if (parts.length > 1) dotted.push(f);
  }
  return (ev) => {
    const out: Obj = { id: ev.id, time: ev.time };
    for (let p = 0; p < paths.length; p++) {
      const parts = paths[p];
      let src: Obj = ev;
      let dst: Obj = out;
      for (let i = 0; i < parts.length; i++) {
        const k = parts[i];
        const v = src[k];
        if (v === undefined) break;
        // the leaf, or anything a getter cannot walk into as a plain object: copied whole
        if (i === parts.length - 1 || v === null || typeof v !== 'object' || Array.isArray(v)) {
          dst[k] = v;
          break;
        }
        let d = dst[k];
        if (d === undefined) dst[k] = d = {};
        src = v as Obj;
        dst = d as Obj;
      }
    }
    for (let i = 0; i < dotted.length; i++) {
      const v = ev[dotted[i]];
      if (v !== undefined) out[dotted[i]] = v;
    }
    return out;
  };
}
