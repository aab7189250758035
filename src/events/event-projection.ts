// Event projections: when ingest runs on worker threads (src/parallel/), the main thread's rule
// engine receives only the fields its compiled rules read (plus id and time), which is far
// cheaper to hand over than the whole event. The whole event is needed only for the few
// evidence samples an alert keeps; a projection carries its input line and a rebuild function
// (the same deterministic ingest: same config, same fingerprint key), so the full redacted
// event is made again only then.

/** Symbol under which a projected event carries the input line it was ingested from. */
export const SOURCE_LINE = Symbol('authwatch.sourceLine');
/** Symbol under which a projected event carries the function that rebuilds its full event from that line. */
export const REBUILD = Symbol('authwatch.rebuildEvent');

import { fieldGetter } from '../rules/sigma-matcher.js';

type Obj = Record<string, unknown>;
export type RebuildEvent = (line: string) => Obj;

/** Marks a projection with what it takes to rebuild its full event. */
export function attachSource(projection: object, line: string, rebuild: RebuildEvent): void {
  const p = projection as { [SOURCE_LINE]?: string; [REBUILD]?: RebuildEvent };
  p[SOURCE_LINE] = line;
  p[REBUILD] = rebuild;
}

/** A fresh, plain copy of the whole (redacted) event, for evidence samples; projected or not. */
export function fullEventCopy(ev: object): Obj {
  const p = ev as { [SOURCE_LINE]?: string; [REBUILD]?: RebuildEvent };
  const line = p[SOURCE_LINE];
  if (line === undefined) return structuredClone(ev) as Obj;
  const full = p[REBUILD]!(line);
  // the id as the stream numbered it (a repeated line's `<id>.<n>`, repeated-content.ts), not as re-derived
  full.id = (ev as Obj).id;
  return full;
}

/**
 * A projector for the given field paths (as recorded by sigma-matcher's recordFieldReads), or
 * null when a rule reads the whole event (keyword searches, `*`). The projection is FLAT: each
 * path's value, as the rules' own getter reads it from the full event, under the literal dotted
 * key. The getters fall back to that literal key when the nested path is absent, so they read
 * exactly the same values from the projection; and a flat object of scalars costs a fraction of
 * the nested event to serialise and parse.
 */
export function compileProjection(fields: Iterable<string>): ((ev: Obj) => Obj) | null {
  const paths: string[] = [];
  const getters: ((ev: Obj) => unknown)[] = [];
  for (const f of fields) {
    if (f === '*') return null;
    if (f === 'id' || f === 'time') continue;
    paths.push(f);
    getters.push(fieldGetter(f) as (ev: Obj) => unknown);
  }
  return (ev) => {
    const out: Obj = { id: ev.id, time: ev.time };
    for (let i = 0; i < paths.length; i++) {
      const v = getters[i](ev);
      if (v !== undefined) out[paths[i]] = v;
    }
    return out;
  };
}
