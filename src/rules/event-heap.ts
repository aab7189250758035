// Min-heap of buffered events by (event time, id): the order in which the engine evaluates them,
// whatever order they arrived in. Times sit in a typed array beside the events, so comparisons
// read one cache-friendly number (ids only on equal times) and no entry object is kept per event
// (buffered events live for the whole lateness; fewer long-lived objects means cheaper GC).
import type { AwEvent } from '../events/event.js';
import type { CompiledDetection } from './rule-compiler.js';

export interface HeapEntry {
  t: number;
  id: string;
  ev: AwEvent;
  /** the detection rules it matched (matching runs on arrival) */
  m: CompiledDetection[];
}

export class EventHeap {
  private ts = new Float64Array(1024);
  private evs: AwEvent[] = [];
  private ms: CompiledDetection[][] = [];
  private n = 0;
  /** the entry last removed by pop() */
  poppedEv: AwEvent | undefined;
  poppedM: CompiledDetection[] | undefined;
  poppedT = 0;

  get size(): number {
    return this.n;
  }

  /** Time of the first entry in (time, id) order, or +Infinity when empty. */
  minTime(): number {
    return this.n ? this.ts[0] : Infinity;
  }

  push(t: number, ev: AwEvent, m: CompiledDetection[]): void {
    if (this.n === this.ts.length) {
      const g = new Float64Array(this.n * 2);
      g.set(this.ts);
      this.ts = g;
    }
    const ts = this.ts;
    const evs = this.evs;
    const ms = this.ms;
    const id = ev.id;
    let i = this.n++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const tp = ts[p];
      if (!(t < tp || (t === tp && id < evs[p].id))) break;
      ts[i] = tp;
      evs[i] = evs[p];
      ms[i] = ms[p];
      i = p;
    }
    ts[i] = t;
    evs[i] = ev;
    ms[i] = m;
  }

  /** Remove the first entry; it is in poppedT/poppedEv/poppedM. */
  pop(): void {
    const ts = this.ts;
    const evs = this.evs;
    const ms = this.ms;
    this.poppedT = ts[0];
    this.poppedEv = evs[0];
    this.poppedM = ms[0];
    const n = --this.n;
    const lt = ts[n];
    const lev = evs[n];
    const lm = ms[n];
    evs.pop();
    ms.pop();
    if (n === 0) return;
    const lid = lev.id;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      if (r < n) {
        const tr = ts[r];
        const tl = ts[l];
        if (tr < tl || (tr === tl && evs[r].id < evs[l].id)) c = r;
      }
      const tc = ts[c];
      if (!(tc < lt || (tc === lt && evs[c].id < lid))) break;
      ts[i] = tc;
      evs[i] = evs[c];
      ms[i] = ms[c];
      i = c;
    }
    ts[i] = lt;
    evs[i] = lev;
    ms[i] = lm;
  }

  /** Entries in pop order (for snapshots). */
  sorted(): HeapEntry[] {
    const out: HeapEntry[] = [];
    for (let i = 0; i < this.n; i++) out.push({ t: this.ts[i], id: this.evs[i].id, ev: this.evs[i], m: this.ms[i] });
    return out.sort((x, y) => (x.t < y.t || (x.t === y.t && x.id < y.id) ? -1 : x.t === y.t && x.id === y.id ? 0 : 1));
  }
}
