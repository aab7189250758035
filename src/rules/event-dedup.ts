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
  /** id → event time; Map order is insertion order, which is close to time order within the lateness */
  private readonly seen = new Map<string, number>();
  private duplicates = 0;
  private expired = 0;
  private capacity = 0;
  /** event time of the first entry in Map order (-Infinity: unknown), so expire() is O(1) when nothing is due */
  private front = Infinity;

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
    if (s.has(id)) {
      this.duplicates++;
      return true;
    }
    if (s.size >= this.cap) {
      s.delete(s.keys().next().value!);
      this.capacity++;
      this.front = -Infinity;
    }
    if (s.size === 0) this.front = t;
    s.set(id, t);
    return false;
  }

  /**
   * Forget ids older than the horizon behind `newest`. Walks from the oldest insertion and stops at
   * the first id still inside, so an out-of-order id may outlive the horizon by up to the lateness.
   */
  expire(newest: number): void {
    const limit = newest - this.horizonMs;
    if (this.front >= limit) return;
    const s = this.seen;
    this.front = Infinity;
    for (const [id, t] of s) {
      if (t >= limit) {
        this.front = t;
        break;
      }
      s.delete(id);
      this.expired++;
    }
  }

  stats(): DedupStats {
    return { ids: this.seen.size, duplicates: this.duplicates, expired: this.expired, capacity: this.capacity };
  }

  snapshot(): [string, number][] {
    return [...this.seen];
  }

  restore(entries: [string, number][], counters?: { duplicates: number; expired: number; capacity: number }): void {
    for (const [id, t] of entries) if (!this.seen.has(id)) this.seen.set(id, t);
    this.front = -Infinity;
    while (this.seen.size > this.cap) {
      this.seen.delete(this.seen.keys().next().value!);
      this.capacity++;
    }
    if (counters) {
      this.duplicates = counters.duplicates;
      this.expired = counters.expired;
      this.capacity = counters.capacity;
    }
  }
}
