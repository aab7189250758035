// Event ids already evaluated, so the same event delivered twice (a retried POST, a file replayed
// twice, a Kafka redelivery) counts once. Ids are content-derived at ingest when the producer gives
// none, so equal ids mean equal events. Only events that matched a rule are remembered: the rest
// cost nothing twice. Memory is bounded twice: by event time (an id older than the horizon behind
// the newest event time is forgotten; by then its windows and suppression have ended) and by count
// (the oldest remembered id goes first).

export interface DedupStats {
  ids: number;
  duplicates: number;
  expired: number;
  capacity: number;
}

export class EventDedup {
  // Ids leave only from the front (oldest arrival), whether expired or over the cap, so a Set
  // plus a ring of ids and event times in the same order is enough: no per-entry object and no
  // boxed number per id. The ring names the id to delete: asking the Set for its first entry
  // instead (values().next()) walks over every deleted slot left at its front until the next
  // rehash, which made each eviction O(evicted so far) once the cap was reached (10^7 events).
  private readonly seen = new Set<string>();
  private times = new Float64Array(1024);
  private ids: (string | undefined)[] = new Array(1024).fill(undefined);
  private head = 0; // ring index of the oldest id
  private duplicates = 0;
  private expired = 0;
  private capacity = 0;

  constructor(
    private readonly horizonMs: number,
    private readonly cap: number,
  ) {}

  get size(): number {
    return this.seen.size;
  }

  /** True when the id was seen before (a duplicate, counted); else remembers it at time t. */
  check(id: string, t: number): boolean {
    if (this.cap <= 0) return false; // de-duplication off
    const s = this.seen;
    // one hash lookup, not has() then add(): an id already there leaves the size unchanged
    const n = s.size;
    s.add(id);
    if (s.size === n) {
      this.duplicates++;
      return true;
    }
    this.appendTime(n, id, t);
    if (n >= this.cap) {
      // over the cap: the oldest goes (never the id just added: the cap is at least 1)
      this.dropFront();
      this.capacity++;
    }
    return false;
  }

  private append(id: string, t: number): void {
    const n = this.seen.size;
    this.seen.add(id);
    this.appendTime(n, id, t);
  }

  /** Record the id and time that became entry n (0-based, in arrival order). */
  private appendTime(n: number, id: string, t: number): void {
    if (n === this.times.length) {
      // grow, unrolling the ring so the oldest is at 0
      const next = new Float64Array(n * 2);
      next.set(this.times.subarray(this.head));
      next.set(this.times.subarray(0, this.head), n - this.head);
      const ids: (string | undefined)[] = new Array(n * 2).fill(undefined);
      for (let k = 0, j = this.head; k < n; k++, j = j + 1 === n ? 0 : j + 1) ids[k] = this.ids[j];
      this.times = next;
      this.ids = ids;
      this.head = 0;
    }
    let i = this.head + n;
    if (i >= this.times.length) i -= this.times.length;
    this.times[i] = t;
    this.ids[i] = id;
  }

  private dropFront(): void {
    const h = this.head;
    this.seen.delete(this.ids[h]!);
    this.ids[h] = undefined;
    this.head = h + 1 === this.times.length ? 0 : h + 1;
  }

  /**
   * Forget ids older than the horizon behind `newest`. Stops at the first id (in arrival order)
   * still inside, so an id that arrived out of order may outlive the horizon by up to the lateness.
   */
  expire(newest: number): void {
    const limit = newest - this.horizonMs;
    const s = this.seen;
    while (s.size > 0 && this.times[this.head] < limit) {
      this.dropFront();
      this.expired++;
    }
  }

  stats(): DedupStats {
    return { ids: this.seen.size, duplicates: this.duplicates, expired: this.expired, capacity: this.capacity };
  }

  /** [id, event time] pairs, oldest arrival first */
  snapshot(): [string, number][] {
    const out: [string, number][] = [];
    let i = this.head;
    for (const id of this.seen) {
      out.push([id, this.times[i]]);
      if (++i === this.times.length) i = 0;
    }
    return out;
  }

  restore(entries: [string, number][], counters?: { duplicates: number; expired: number; capacity: number }): void {
    if (this.cap <= 0) return;
    for (const [id, t] of entries) {
      if (this.seen.has(id)) continue;
      if (this.seen.size >= this.cap) {
        this.dropFront();
        this.capacity++;
      }
      this.append(id, t);
    }
    if (counters) {
      this.duplicates = counters.duplicates;
      this.expired = counters.expired;
      this.capacity = counters.capacity;
    }
  }
}
