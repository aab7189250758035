// What gateways saw of each key id, fed from Pipeline's onEvent hook: `unknown_kid`
// rejections waiting to be correlated with the provider's key history, and the latest
// expiry of accepted tokens per kid (evidence that a removed key still had live tokens).
// Bounded: the oldest entries go first when the caps are reached.
import type { AwEvent } from '../events/event.js';

export interface UnknownKidObservation {
  iss: string; // '' when the event carried no token.iss
  kid: string;
  count: number;
  first_seen: string;
  last_seen: string;
  observers: string[];
  event_ids: string[];
}

const MAX_OBSERVERS = 10;
const MAX_EVENT_IDS = 20;

export class TokenKidIndex {
  private readonly unknown = new Map<string, UnknownKidObservation>();
  private readonly validExp = new Map<string, number>();

  constructor(private readonly maxEntries = 10_000) {}

  observe(event: AwEvent): void {
    const tok = event.token;
    const kid = tok?.kid;
    if (!kid) return;
    const iss = tok.iss ?? '';
    const key = `${iss}\u0000${kid}`;
    if (event.auth.result === 'unknown_kid') {
      let o = this.unknown.get(key);
      if (!o) {
        if (this.unknown.size >= this.maxEntries) this.unknown.delete(this.unknown.keys().next().value!);
        o = { iss, kid, count: 0, first_seen: event.time, last_seen: event.time, observers: [], event_ids: [] };
        this.unknown.set(key, o);
      }
      o.count++;
      if (event.time < o.first_seen) o.first_seen = event.time;
      if (event.time > o.last_seen) o.last_seen = event.time;
      if (o.observers.length < MAX_OBSERVERS && !o.observers.includes(event.observer.name)) o.observers.push(event.observer.name);
      if (o.event_ids.length < MAX_EVENT_IDS) o.event_ids.push(event.id);
    } else if (event.auth.result === 'ok' && typeof tok.exp === 'number') {
      const prev = this.validExp.get(key);
      if (prev === undefined || tok.exp > prev) {
        if (prev === undefined && this.validExp.size >= this.maxEntries) this.validExp.delete(this.validExp.keys().next().value!);
        this.validExp.set(key, tok.exp);
      }
    }
  }

  /** Removes and returns the unknown_kid observations for these issuers ('' = events without iss). */
  takeUnknownKid(issuers: readonly string[]): UnknownKidObservation[] {
    const out: UnknownKidObservation[] = [];
    for (const [key, o] of this.unknown) {
      if (issuers.includes(o.iss)) {
        out.push(o);
        this.unknown.delete(key);
      }
    }
    return out;
  }

  /** Latest `exp` (epoch seconds) of an accepted token with this issuer and kid, or null. */
  latestValidExp(iss: string, kid: string): number | null {
    return this.validExp.get(`${iss}\u0000${kid}`) ?? null;
  }

  size(): { unknown: number; valid: number } {
    return { unknown: this.unknown.size, valid: this.validExp.size };
  }
}
