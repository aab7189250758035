// Min-heap of buffered events by (event time, id): the order in which the engine evaluates them,
// whatever order they arrived in. Times sit in a typed array beside the events, so comparisons
// read one cache-friendly number (ids only on equal times) and no entry object is kept per event
// (buffered events live for the whole lateness; fewer long-lived objects means cheaper GC).
// Most input arrives in order, so an entry not before the newest queued one goes to a FIFO ring
// instead (O(1) in and out, no sifting); pop takes the smaller head of the two.
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
  // the in-order ring: entries in (time, id) order, oldest at qh
  private qt = new Float64Array(1024);
  private qe: (AwEvent | undefined)[] = new Array(1024).fill(undefined);
  private qm: (CompiledDetection[] | undefined)[] = new Array(1024).fill(undefined);
  private qh = 0;
  private qn = 0;
  /** the entry last removed by pop() */
  poppedEv: AwEvent | undefined;
  poppedM: CompiledDetection[] | undefined;
  poppedT = 0;

  get size(): number {
    return this.n + this.qn;
  }

  /** Time of the first entry in (time, id) order, or +Infinity when empty. */
  minTime(): number {
    const a = this.n ? this.ts[0] : Infinity;
    const b = this.qn ? this.qt[this.qh] : Infinity;
    return a < b ? a : b;
  }

  push(t: number, ev: AwEvent, m: CompiledDetection[]): void {
    const qn = this.qn;
    if (qn === 0) {
      this.enqueue(t, ev, m);
      return;
    }
    let last = this.qh + qn - 1;
    if (last >= this.qt.length) last -= this.qt.length;
    const tl = this.qt[last];
    if (t > tl || (t === tl && ev.id >= this.qe[last]!.id)) {
      this.enqueue(t, ev, m);
      return;
    }
    this.heapPush(t, ev, m);
  }

  private enqueue(t: number, ev: AwEvent, m: CompiledDetection[]): void {
    const cap = this.qt.length;
    if (this.qn === cap) {
      // grow, unrolling the ring so the oldest is at 0
      const qt = new Float64Array(cap * 2);
      const qe: (AwEvent | undefined)[] = new Array(cap * 2).fill(undefined);
      const qm: (CompiledDetection[] | undefined)[] = new Array(cap * 2).fill(undefined);
      for (let i = 0, j = this.qh; i < cap; i++, j = j + 1 === cap ? 0 : j + 1) {
        qt[i] = this.qt[j];
        qe[i] = this.qe[j];
        qm[i] = this.qm[j];
      }
      this.qt = qt;
      this.qe = qe;
      this.qm = qm;
      this.qh = 0;
    }
    let i = this.qh + this.qn++;
    if (i >= this.qt.length) i -= this.qt.length;
    this.qt[i] = t;
    this.qe[i] = ev;
    this.qm[i] = m;
  }

  /** An emptied ring gives back what a backlog (e.g. a long lateness) made it grow to. */
  private shrinkRing(): void {
    this.qt = new Float64Array(1024);
    this.qe = new Array(1024).fill(undefined);
    this.qm = new Array(1024).fill(undefined);
    this.qh = 0;
  }

  private heapPush(t: number, ev: AwEvent, m: CompiledDetection[]): void {
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
    if (this.qn) {
      const h = this.qh;
      const tq = this.qt[h];
      const th = this.n ? this.ts[0] : Infinity;
      if (tq < th || (tq === th && this.qe[h]!.id < this.evs[0].id)) {
        this.poppedT = tq;
        this.poppedEv = this.qe[h];
        this.poppedM = this.qm[h];
        this.qe[h] = undefined;
        this.qm[h] = undefined;
        this.qh = h + 1 === this.qt.length ? 0 : h + 1;
        if (--this.qn === 0 && this.qt.length > 4096) this.shrinkRing();
        return;
      }
    }
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
    for (let k = 0, i = this.qh; k < this.qn; k++, i = i + 1 === this.qt.length ? 0 : i + 1) out.push({ t: this.qt[i], id: this.qe[i]!.id, ev: this.qe[i]!, m: this.qm[i]! });
    return out.sort((x, y) => (x.t < y.t || (x.t === y.t && x.id < y.id) ? -1 : x.t === y.t && x.id === y.id ? 0 : 1));
  }
}
