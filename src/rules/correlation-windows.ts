// Sliding-window state of one correlation rule, one slot per group key. Kept compact because a
// flood of unique keys (one event each) is the normal attack shape: such a slot is a Map entry
// plus a few typed-array cells; only keys with two or more events get a JS object (`Overflow`).
// Slots sit in a least-recently-updated list so expiry and capacity eviction pop from its head.

/** Per-key state once a key has more than one event (or for value_count/temporal rules). */
export interface Overflow {
  /** timestamps of the events in the window, sorted; live part starts at `s` */
  t: number[];
  s: number;
  /** value_count: distinct value → newest time seen, kept in time order (oldest first) */
  vm?: Map<string, number>;
  /** value_count: a lower bound of the oldest time in vm, so most events skip the expiry walk */
  vlow?: number;
  /** value_count: the value inserted last (the map's newest entry) */
  vlast?: string;
  /** temporal: newest time each source position was seen */
  seen?: number[];
  /** temporal_ordered: per position, the latest start of a chain completed up to that position */
  chain?: number[];
  /** the most recent event ids and times (evidence), capped per rule */
  rid: string[];
  rt: number[];
}

export interface SlotSnapshot {
  k: string;
  last: number;
  id0?: string;
  o?: Omit<Overflow, 'vm'> & { vm?: [string, number][] };
}

const NONE = -1;

export class CorrelationWindows {
  readonly map = new Map<string, number>();
  private keys: (string | undefined)[] = new Array(16).fill(undefined);
  /** per slot: the single event's id (a string), or the Overflow object once there is more */
  private ext: (string | Overflow | undefined)[] = new Array(16).fill(undefined);
  /** newest event time per slot (for a single-event slot: its event's time) */
  last = new Float64Array(16);
  private prev = new Int32Array(16);
  private next = new Int32Array(16);
  private free: number[] = [];
  private used = 0;
  head = NONE;
  private tail = NONE;

  constructor(readonly timespanMs: number) {}

  get size(): number {
    return this.map.size;
  }

  private grow(): void {
    const n = this.last.length * 2;
    const f = new Float64Array(n);
    f.set(this.last);
    this.last = f;
    const p = new Int32Array(n);
    p.set(this.prev);
    this.prev = p;
    const x = new Int32Array(n);
    x.set(this.next);
    this.next = x;
    // the key and ext arrays grow with the typed arrays (doubling, same capacity), not by 1.5x
    const k: (string | undefined)[] = new Array(n).fill(undefined);
    const e: (string | Overflow | undefined)[] = new Array(n).fill(undefined);
    for (let i = 0; i < this.used; i++) {
      k[i] = this.keys[i];
      e[i] = this.ext[i];
    }
    this.keys = k;
    this.ext = e;
  }

  private unlink(s: number): void {
    const p = this.prev[s];
    const n = this.next[s];
    if (p === NONE) this.head = n;
    else this.next[p] = n;
    if (n === NONE) this.tail = p;
    else this.prev[n] = p;
  }

  private append(s: number): void {
    this.prev[s] = this.tail;
    this.next[s] = NONE;
    if (this.tail === NONE) this.head = s;
    else this.next[this.tail] = s;
    this.tail = s;
  }

  /** The slot for key, or -1. */
  get(key: string): number {
    const s = this.map.get(key);
    return s === undefined ? NONE : s;
  }

  create(key: string, t: number, id: string): number {
    let s = this.free.pop();
    if (s === undefined) {
      if (this.used === this.last.length) this.grow();
      s = this.used++;
    }
    this.map.set(key, s);
    this.keys[s] = key;
    this.last[s] = t;
    this.ext[s] = id;
    this.append(s);
    return s;
  }

  /** Mark a slot updated at t (moves it to the list tail). */
  touch(s: number, t: number): void {
    if (t > this.last[s]) this.last[s] = t;
    if (this.tail !== s) {
      this.unlink(s);
      this.append(s);
    }
  }

  evict(s: number): void {
    this.unlink(s);
    this.map.delete(this.keys[s]!);
    this.keys[s] = undefined;
    this.ext[s] = undefined;
    this.free.push(s);
  }

  /** Evict slots whose newest event left the window; returns how many. Amortised O(1) per event. */
  expire(now: number): number {
    const limit = now - this.timespanMs;
    let n = 0;
    while (this.head !== NONE && this.last[this.head] <= limit) {
      this.evict(this.head);
      n++;
    }
    return n;
  }

  /**
   * The slot's overflow object, created from its single event when needed (call before touch).
   * `empty`: temporal rules keep their own per-source state, not the single event.
   */
  overflow(s: number, empty: boolean): Overflow {
    const x = this.ext[s];
    if (typeof x === 'object') return x;
    const o: Overflow = empty ? { t: [], s: 0, rid: [], rt: [] } : { t: [this.last[s]], s: 0, rid: [x!], rt: [this.last[s]] };
    this.ext[s] = o;
    return o;
  }

  snapshot(): SlotSnapshot[] {
    const out: SlotSnapshot[] = [];
    for (let s = this.head; s !== NONE; s = this.next[s]) {
      const o = this.ext[s];
      if (typeof o === 'object') {
        const { vm, ...rest } = o;
        out.push({ k: this.keys[s]!, last: this.last[s], o: { ...rest, t: o.t.slice(o.s), s: 0, ...(vm ? { vm: [...vm] } : {}) } });
      } else out.push({ k: this.keys[s]!, last: this.last[s], id0: o });
    }
    return out;
  }

  restore(slots: SlotSnapshot[]): void {
    for (const x of slots) {
      const s = this.create(x.k, x.last, x.id0 ?? '');
      if (x.o) {
        const { vm, ...rest } = x.o;
        this.ext[s] = { ...rest, ...(vm ? { vm: new Map(vm) } : {}) };
      }
    }
  }
}

/** Append an event id/time to an overflow's evidence ring (cap = how many ids the rule keeps). */
export function rememberEvidence(o: Overflow, id: string, t: number, cap: number): void {
  o.rid.push(id);
  o.rt.push(t);
  if (o.rid.length > cap) {
    o.rid.shift();
    o.rt.shift();
  }
}

/** Insert t keeping o.t sorted (late events). */
export function insertSorted(o: Overflow, t: number): void {
  const a = o.t;
  let i = a.length;
  if (i === o.s || a[i - 1] <= t) {
    a.push(t);
    return;
  }
  while (i > o.s && a[i - 1] > t) i--;
  a.splice(i, 0, t);
}

/** Drop timestamps (and value_count values) at or before limit: the window is (limit, newest]. */
export function dropOld(o: Overflow, limit: number): void {
  const a = o.t;
  let s = o.s;
  while (s < a.length && a[s] <= limit) s++;
  if (s > 64 && s * 2 > a.length) {
    o.t = a.slice(s);
    s = 0;
  }
  o.s = s;
  if (o.vm && o.vlow! <= limit) {
    let low = Infinity;
    for (const [v, t] of o.vm) {
      if (t > limit) {
        low = t;
        break;
      }
      o.vm.delete(v);
      if (v === o.vlast) o.vlast = undefined;
    }
    o.vlow = low;
  }
}
