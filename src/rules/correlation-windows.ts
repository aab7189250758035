// Sliding-window state of one correlation rule, one slot per group key. Kept compact because a
// flood of unique keys (one event each) is the normal attack shape: such a slot is a few array
// cells (key, id, time, hash) and a cell of an open-addressing index (typed arrays: a JS Map
// entry costs ~30 bytes of heap per key, this ~14); only keys with two or more events get a JS
// object (`Overflow`).
// Slots sit in a ring in insertion order, so expiry and capacity eviction pop from its head. An
// update only marks its slot `moved` (no list surgery per event); a moved slot reaching the head
// is moved to the tail then. So the head is the least recently updated key up to that laziness:
// exact for expiry (a slot is evicted only once its newest event left the window), approximate
// for capacity eviction (a key updated after insertion may outlive one updated slightly later).

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
  /** updated since it took its ring position (absent: not) */
  m?: 1;
}

const NONE = -1;

/** FNV-1a over the UTF-16 code units; never 0 (0 marks an empty cell nowhere, but keeps it simple). */
function hashKey(k: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < k.length; i++) h = Math.imul(h ^ k.charCodeAt(i), 0x01000193);
  return h | 1;
}

export class CorrelationWindows {
  /** open addressing, linear probing: cell = slot + 1, 0 = empty; at most half full */
  private index = new Int32Array(32);
  private mask = 31;
  /** per slot: its key's hash */
  private hashes = new Int32Array(16);
  private keys: (string | undefined)[] = new Array(16).fill(undefined);
  /** per slot: the single event's id (a string), or the Overflow object once there is more */
  private ext: (string | Overflow | undefined)[] = new Array(16).fill(undefined);
  /** newest event time per slot (for a single-event slot: its event's time) */
  last = new Float64Array(16);
  /** per slot: updated since it took its ring position */
  private moved = new Uint8Array(16);
  private qh = 0; // ring index of the head (oldest)
  private qn = 0;

  constructor(readonly timespanMs: number) {}

  get size(): number {
    return this.qn;
  }

  /** Live keys (tests and diagnostics). */
  liveKeys(): string[] {
    const out: string[] = [];
    for (let k = 0, s = this.qh; k < this.qn; k++, s = s + 1 === this.keys.length ? 0 : s + 1) out.push(this.keys[s]!);
    return out;
  }

  /** The index cell holding slot s. */
  private cellOf(s: number): number {
    const mask = this.mask;
    const ix = this.index;
    let i = this.hashes[s] & mask;
    while (ix[i] !== s + 1) i = (i + 1) & mask;
    return i;
  }

  private indexInsert(s: number, h: number): void {
    const mask = this.mask;
    const ix = this.index;
    let i = h & mask;
    while (ix[i] !== 0) i = (i + 1) & mask;
    ix[i] = s + 1;
  }

  /** Remove a cell, shifting later cells of its probe run back (no tombstones). */
  private indexDelete(i: number): void {
    const mask = this.mask;
    const ix = this.index;
    let j = i;
    for (;;) {
      ix[i] = 0;
      for (;;) {
        j = (j + 1) & mask;
        const e = ix[j];
        if (e === 0) return;
        const home = this.hashes[e - 1] & mask;
        // e may move to i only if its home is not in the cyclic range (i, j]
        if (i <= j ? home <= i || home > j : home <= i && home > j) {
          ix[i] = e;
          i = j;
          break;
        }
      }
    }
  }

  private grow(): void {
    const cap = this.last.length;
    const n = cap * 2;
    const f = new Float64Array(n);
    f.set(this.last);
    this.last = f;
    const mv = new Uint8Array(n);
    mv.set(this.moved);
    this.moved = mv;
    const hs = new Int32Array(n);
    hs.set(this.hashes);
    this.hashes = hs;
    // the index stays at most half full: rebuild it at twice the slot capacity
    this.index = new Int32Array(n * 2);
    this.mask = n * 2 - 1;
    for (let i = 0; i < cap; i++) this.indexInsert(i, this.hashes[i]);
    const k: (string | undefined)[] = new Array(n).fill(undefined);
    const e: (string | Overflow | undefined)[] = new Array(n).fill(undefined);
    for (let i = 0; i < cap; i++) {
      k[i] = this.keys[i];
      e[i] = this.ext[i];
    }
    this.keys = k;
    this.ext = e;
    // the ring is full: its wrapped part [0, qh) moves behind the rest, to [cap, cap + qh)
    for (let i = 0; i < this.qh; i++) this.place(cap + i, i, this.moved[i]);
  }

  /** Move slot `from` (live) to the free slot `to`. */
  private place(to: number, from: number, moved: number): void {
    this.index[this.cellOf(from)] = to + 1;
    this.hashes[to] = this.hashes[from];
    this.keys[to] = this.keys[from];
    this.ext[to] = this.ext[from];
    this.last[to] = this.last[from];
    this.moved[to] = moved;
    this.keys[from] = undefined;
    this.ext[from] = undefined;
  }

  private tailIndex(): number {
    const i = this.qh + this.qn;
    return i >= this.last.length ? i - this.last.length : i;
  }

  /** The slot for key, or -1. */
  get(key: string): number {
    const h = hashKey(key);
    const mask = this.mask;
    const ix = this.index;
    const hs = this.hashes;
    let i = h & mask;
    for (;;) {
      const e = ix[i];
      if (e === 0) return NONE;
      if (hs[e - 1] === h && this.keys[e - 1] === key) return e - 1;
      i = (i + 1) & mask;
    }
  }

  /** Add a key (not present: call get first). */
  create(key: string, t: number, id: string): number {
    if (this.qn === this.last.length) this.grow();
    const s = this.tailIndex();
    this.qn++;
    const h = hashKey(key);
    this.hashes[s] = h;
    this.indexInsert(s, h);
    this.keys[s] = key;
    this.last[s] = t;
    this.ext[s] = id;
    this.moved[s] = 0;
    return s;
  }

  /** Mark a slot updated at t. */
  touch(s: number, t: number): void {
    if (t > this.last[s]) this.last[s] = t;
    this.moved[s] = 1;
  }

  /** Move a moved head to the tail (its place by update order). */
  private requeue(): void {
    const s = this.qh;
    this.qh = s + 1 === this.last.length ? 0 : s + 1;
    this.qn--;
    this.place(this.tailIndex(), s, 0);
    this.qn++;
  }

  /** The least recently updated slot (up to the laziness above), or -1. */
  oldest(): number {
    while (this.qn > 0 && this.moved[this.qh] === 1) this.requeue();
    return this.qn > 0 ? this.qh : NONE;
  }

  /** Evict the head slot. */
  evictOldest(): void {
    const s = this.qh;
    this.indexDelete(this.cellOf(s));
    this.keys[s] = undefined;
    this.ext[s] = undefined;
    this.qh = s + 1 === this.last.length ? 0 : s + 1;
    this.qn--;
  }

  /** Evict slots whose newest event left the window; returns how many. Amortised O(1) per event. */
  expire(now: number): number {
    const limit = now - this.timespanMs;
    let n = 0;
    while (this.qn > 0) {
      const s = this.qh;
      if (this.last[s] <= limit) {
        this.evictOldest();
        n++;
      } else if (this.moved[s] === 1) this.requeue();
      else break;
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
    const cap = this.last.length;
    for (let k = 0, s = this.qh; k < this.qn; k++, s = s + 1 === cap ? 0 : s + 1) {
      const o = this.ext[s];
      const m: { m?: 1 } = this.moved[s] === 1 ? { m: 1 } : {};
      if (typeof o === 'object') {
        const { vm, ...rest } = o;
        out.push({ k: this.keys[s]!, last: this.last[s], o: { ...rest, t: o.t.slice(o.s), s: 0, ...(vm ? { vm: [...vm] } : {}) }, ...m });
      } else out.push({ k: this.keys[s]!, last: this.last[s], id0: o, ...m });
    }
    return out;
  }

  restore(slots: SlotSnapshot[]): void {
    for (const x of slots) {
      const s = this.create(x.k, x.last, x.id0 ?? '');
      if (x.m === 1) this.moved[s] = 1;
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
