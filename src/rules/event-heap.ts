// Min-heap of buffered events by (event time, id): the order in which the engine evaluates them,
// whatever order they arrived in.
import type { AwEvent } from '../events/event.js';
import type { CompiledDetection } from './rule-compiler.js';

export interface HeapEntry {
  t: number;
  id: string;
  ev: AwEvent;
  /** the detection rules it matched (matching runs on arrival) */
  m: CompiledDetection[];
}

function less(a: HeapEntry, b: HeapEntry): boolean {
  return a.t < b.t || (a.t === b.t && a.id < b.id);
}

export class EventHeap {
  private a: HeapEntry[] = [];

  get size(): number {
    return this.a.length;
  }

  peek(): HeapEntry | undefined {
    return this.a[0];
  }

  push(e: HeapEntry): void {
    const a = this.a;
    let i = a.length;
    a.push(e);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(e, a[p])) break;
      a[i] = a[p];
      i = p;
    }
    a[i] = e;
  }

  pop(): HeapEntry | undefined {
    const a = this.a;
    if (!a.length) return undefined;
    const top = a[0];
    const last = a.pop()!;
    const n = a.length;
    if (n) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && less(a[r], a[l]) ? r : l;
        if (!less(a[c], last)) break;
        a[i] = a[c];
        i = c;
      }
      a[i] = last;
    }
    return top;
  }

  /** Entries in pop order (for snapshots). */
  sorted(): HeapEntry[] {
    return [...this.a].sort((x, y) => (less(x, y) ? -1 : less(y, x) ? 1 : 0));
  }
}
