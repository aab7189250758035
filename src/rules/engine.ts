// The rule engine: compiled rules + event-time windows. Pure: no I/O, no wall clock. Events are
// buffered in a (time, id) min-heap and evaluated once the watermark (newest event time minus
// the allowed lateness) passes them, so arrival order within the lateness never changes alerts.
import { alertId, EVIDENCE_MAX_IDS, EVIDENCE_MAX_SAMPLES, type Alert } from '../alerts/alert.js';
import type { AwEvent } from '../events/event.js';
import { CorrelationWindows, dropOld, insertSorted, rememberEvidence, type Overflow, type SlotSnapshot } from './correlation-windows.js';
import { EventDedup } from './event-dedup.js';
import { fullEventCopy } from '../events/event-projection.js';
import { EventHeap } from './event-heap.js';
import { epochMs } from '../events/event-time.js';
import type { CompiledCorrelation, CompiledDetection, CompiledRule, CompiledRuleSet } from './rule-compiler.js';
import { fieldGetter, type EventLike, type Getter } from './sigma-matcher.js';
import type { ContentNumbering, EngineOptions, EngineSnapshot, EngineStats, RuleEngine, RuleInfo } from './types.js';

/** Whether matches of source `src` can start an ordered sequence (the source is its first step). */
function opensSequence(rt: CorrRuntime, src: number): boolean {
  const ps = rt.positions.get(src);
  if (ps === undefined) return true;
  for (let k = 0; k < ps.length; k++) if (ps[k] === 0) return true;
  return false;
}

export class SnapshotMismatchError extends Error {
  readonly code = 'ENGINE_SNAPSHOT_MISMATCH';
}

type GroupValue = string | number | boolean | null;
type Group = Record<string, GroupValue>;

/** One suppression window of one rule and group key: the state behind one alert. */
interface AlertState {
  rule: number;
  key: string;
  group: Group;
  start: number; // window start (event time of the match that opened it)
  end: number; // start + suppress: a match at or after end opens a new window
  startIso: string;
  count: number;
  first: number;
  last: number;
  ids: string[];
  samples: Record<string, unknown>[];
}

/**
 * Window state of one correlation, or of several whose windows would hold the same state (same
 * `windowKey`: copies of a rule with other thresholds). Each window is fed once per event and
 * source; the outcome of the last feed is kept so the other sharers read it instead of feeding again.
 */
interface SharedWindow {
  windows: CorrelationWindows;
  /** the largest evidence cap among the sharers (each rule takes its own share when it alerts) */
  idCap: number;
  /** index of the rule whose snapshot entry holds the windows */
  owner: number;
  shared: boolean;
  /** the last feed: apply() sequence number and source match group, and what it produced */
  seq: number;
  cls: number;
  key: string;
  v0: GroupValue;
  values: GroupValue[] | null;
  /** newest event time of the key's window after the feed (slots may move; the time is kept) */
  newest: number;
  n: number;
  events: number;
  o: Overflow | undefined;
}

interface CorrRuntime {
  rule: CompiledCorrelation;
  win: SharedWindow;
  /** per source rule index: getters of the group-by fields and of the value_count field */
  groupGetters: ({ names: string[]; fields: string[]; getters: Getter[] } | undefined)[];
  valueGetters: (Getter | undefined)[];
  /** per source rule index: its positions in `rules` (temporal) */
  positions: Map<number, number[]>;
  /** how many recent event ids a window keeps for evidence: enough for the threshold, at most EVIDENCE_MAX_IDS */
  idCap: number;
}

// v2: rules sharing a window snapshot it once (the others name it in `windowsOf`); v1 still loads
const STATE_VERSION = 2;

function evidenceCap(r: CompiledCorrelation): number {
  const c = r.condition;
  const threshold = c.gte ?? (c.gt !== undefined ? c.gt + 1 : undefined) ?? c.eq ?? c.lte ?? c.lt ?? 10;
  return Math.min(EVIDENCE_MAX_IDS, Math.max(10, 2 * Math.ceil(threshold)));
}

export function rulesetHash(ruleset: CompiledRuleSet): string {
  return ruleset.hash;
}

/** Group values are scalars: arrays become their comma-joined text, objects their JSON. */
function groupValue(v: unknown): GroupValue {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  if (Array.isArray(v)) return v.map((x) => (typeof x === 'object' ? JSON.stringify(x) : String(x))).join(',');
  return JSON.stringify(v);
}

/**
 * Map key of a group. A single string value is its own key (no allocation, the event's string
 * is shared); everything else is JSON behind a NUL, which no plain string key starts with.
 */
function groupKey(values: GroupValue[]): string {
  if (values.length === 1) {
    const v = values[0];
    if (typeof v === 'string' && v.charCodeAt(0) !== 0) return v;
    return '\u0000' + JSON.stringify(v);
  }
  return '\u0000' + JSON.stringify(values);
}

/** Evidence samples are frozen copies, so alerts can share them instead of copying per drain. */
function deepFreeze<T>(o: T): T {
  if (o !== null && typeof o === 'object' && !Object.isFrozen(o)) {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

function frozenCopy(ev: AwEvent): Record<string, unknown> {
  // a projected event (ingest threads) carries its full redacted JSON for exactly this
  return deepFreeze(fullEventCopy(ev));
}

function iso(t: number): string {
  return new Date(t).toISOString();
}

function eventTime(ev: AwEvent): number {
  // consecutive events mostly share their time text (a log line's clock has one-second steps)
  return epochMs(ev.time);
}

class Engine implements RuleEngine {
  readonly rules: readonly RuleInfo[];
  private readonly compiled: CompiledRule[];
  private readonly heap = new EventHeap();
  private watermark = -Infinity;
  private maxSeen = -Infinity;
  /** newest event time evaluated so far (drives expiry) */
  private clock = -Infinity;
  /** how far correlation windows have been expired (evaluated events or the watermark) */
  private windowClock = -Infinity;
  private readonly corr: (CorrRuntime | undefined)[] = [];
  /** distinct window states (shared ones once) */
  private readonly winList: SharedWindow[] = [];
  private readonly open: Map<string, AlertState>[] = [];
  /** per rule: a lower bound of the earliest `end` among its open windows (skip expiry walks) */
  private openLow: Float64Array;
  private openCount = 0;
  private readonly dirty = new Set<AlertState>();
  private readonly matches: number[];
  private lateEvents = 0;
  private invalidTime = 0;
  private evictedExpired = 0;
  private evictedCapacity = 0;
  private groupKeys = 0;
  // the detection index: field → lowercased value → rules; plus rules that must always be tried
  private readonly indexFields: { get: Getter; map: Map<string, CompiledDetection[]> }[] = [];
  private readonly unindexed: CompiledDetection[] = [];
  private readonly evalStamp: Int32Array;
  private stamp = 0;
  /**
   * per representative detection rule: the rules with the same match (itself first), also used as
   * a shared match list (most events match one group; no array per event)
   */
  private readonly single: CompiledDetection[][] = [];
  /** whether the match list being built is one of `single` (copy before appending) */
  private outShared = false;
  /** per rule: the representative of its match group (itself for correlations) */
  private readonly repOf: Int32Array;
  /** apply() calls so far: identifies one event's evaluation for shared windows */
  private seq = 0;
  /** ids of matching events already evaluated: a second delivery is ignored */
  private readonly dedup: EventDedup;

  constructor(private readonly ruleset: CompiledRuleSet, private readonly opts: EngineOptions) {
    this.compiled = ruleset.rules;
    this.rules = ruleset.infos;
    this.matches = new Array(this.compiled.length).fill(0);
    this.evalStamp = new Int32Array(this.compiled.length);
    this.openLow = new Float64Array(this.compiled.length).fill(Infinity);
    this.repOf = new Int32Array(this.compiled.length);
    const byField = new Map<string, Map<string, CompiledDetection[]>>();
    const byMatch = new Map<string, CompiledDetection[]>();
    const byWindow = new Map<string, SharedWindow>();
    for (const r of this.compiled) {
      this.open.push(new Map());
      this.repOf[r.index] = r.index;
      if (r.kind === 'detection') {
        // copies of a detection (same match) are evaluated once: only the first is indexed
        const same = byMatch.get(r.matchKey);
        if (same) {
          same.push(r);
          this.repOf[r.index] = same[0].index;
          continue;
        }
        const group = [r];
        byMatch.set(r.matchKey, group);
        this.single[r.index] = group;
        if (!r.eq) {
          this.unindexed.push(r);
          continue;
        }
        for (const c of r.eq) {
          let m = byField.get(c.field);
          if (!m) byField.set(c.field, (m = new Map()));
          for (const v of c.values) {
            const l = m.get(v) ?? [];
            l.push(r);
            m.set(v, l);
          }
        }
      } else {
        const cap = evidenceCap(r);
        let win = r.windowKey === null ? undefined : byWindow.get(r.windowKey);
        if (win) {
          win.shared = true;
          win.idCap = Math.max(win.idCap, cap);
        } else {
          win = {
            windows: new CorrelationWindows(r.timespanMs), idCap: cap, owner: r.index, shared: false,
            seq: -1, cls: -1, key: '', v0: null, values: null, newest: 0, n: 0, events: 0, o: undefined,
          };
          if (r.windowKey !== null) byWindow.set(r.windowKey, win);
          this.winList.push(win);
        }
        const rt: CorrRuntime = {
          rule: r,
          win,
          groupGetters: [],
          valueGetters: [],
          positions: new Map(),
          idCap: cap,
        };
        for (const [src, fields] of r.groupFields) rt.groupGetters[src] = { names: r.info.group_by, fields, getters: fields.map(fieldGetter) };
        for (const [src, f] of r.valueFields) rt.valueGetters[src] = fieldGetter(f);
        r.sources.forEach((s, pos) => rt.positions.set(s, [...(rt.positions.get(s) ?? []), pos]));
        this.corr[r.index] = rt;
      }
    }
    for (const [field, map] of byField) this.indexFields.push({ get: fieldGetter(field), map });
    // an id must be remembered as long as a copy could still change a window or an open alert
    let span = 0;
    for (const r of this.compiled) span = Math.max(span, r.alerts ? r.suppressMs || 0 : 0, r.kind === 'correlation' ? r.timespanMs : 0);
    this.dedup = new EventDedup(span + opts.allowedLatenessMs, opts.maxEventIds ?? opts.maxGroupKeys);
  }

  // ---- input ---------------------------------------------------------------------------------

  push(event: AwEvent, numbering?: ContentNumbering): void {
    // detection matching is stateless, so it runs on arrival: only matching events are buffered
    const m = this.matchRules(event);
    const t = eventTime(event);
    if (m !== null) {
      // (numbering only what matched saves a map entry per event; see RuleEngine.push)
      if (numbering !== undefined) numbering.renumber(event);
      if (this.dedup.check(event.id, t === t ? t : this.clock === -Infinity ? 0 : this.clock)) return;
    }
    if (t !== t) {
      // unparseable time: evaluated now at the current clock rather than dropped
      this.invalidTime++;
      if (m) this.apply(event, this.clock === -Infinity ? 0 : this.clock, m);
      return;
    }
    if (t < this.watermark) {
      this.lateEvents++;
      if (m) this.apply(event, t, m);
      return;
    }
    if (m) this.heap.push(t, event, m);
    if (t > this.maxSeen) {
      this.maxSeen = t;
      const w = t - this.opts.allowedLatenessMs;
      if (w > this.watermark) this.watermark = w;
      this.dedup.expire(t);
    }
    this.release(this.watermark);
  }

  advanceTo(epochMs: number): void {
    const w = epochMs - this.opts.allowedLatenessMs;
    if (w > this.watermark) this.watermark = w;
    this.dedup.expire(epochMs);
    this.release(this.watermark);
  }

  flush(): void {
    this.release(Infinity);
    if (this.maxSeen > this.watermark) this.watermark = this.maxSeen;
  }

  private release(upTo: number): void {
    const h = this.heap;
    while (h.size > 0 && h.minTime() <= upTo) {
      h.pop();
      this.apply(h.poppedEv!, h.poppedT, h.poppedM!);
    }
    h.poppedEv = h.poppedM = undefined; // don't keep the last event alive
    // everything up to the watermark is evaluated: windows that ended before it can go.
    // Suppression windows wait for a later evaluated event, so a late match can still join one.
    const w = Math.min(upTo, this.maxSeen);
    if (w > this.windowClock) {
      this.windowClock = w;
      this.expireWindows(w);
    }
  }

  private advanceClock(t: number): void {
    if (t > this.clock) {
      this.clock = t;
      this.expire(t);
    }
  }

  // ---- evaluation ----------------------------------------------------------------------------

  /** The detection rules the event matches (index lookups first), or null. */
  private matchRules(ev: AwEvent): CompiledDetection[] | null {
    const stamp = ++this.stamp;
    const e = ev as EventLike;
    let out: CompiledDetection[] | null = null;
    this.outShared = false;
    for (let i = 0; i < this.indexFields.length; i++) {
      const f = this.indexFields[i];
      const v = f.get(e);
      if (v === undefined || v === null) continue;
      if (Array.isArray(v)) {
        for (const x of v) out = this.tryList(f.map.get(String(x).toLowerCase()), e, stamp, out);
      } else out = this.tryList(f.map.get(typeof v === 'string' ? v.toLowerCase() : String(v).toLowerCase()), e, stamp, out);
    }
    for (let i = 0; i < this.unindexed.length; i++) out = this.tryRule(this.unindexed[i], e, stamp, out);
    return out;
  }

  private tryList(list: CompiledDetection[] | undefined, e: EventLike, stamp: number, out: CompiledDetection[] | null): CompiledDetection[] | null {
    if (list === undefined) return out;
    for (let i = 0; i < list.length; i++) out = this.tryRule(list[i], e, stamp, out);
    return out;
  }

  private tryRule(r: CompiledDetection, e: EventLike, stamp: number, out: CompiledDetection[] | null): CompiledDetection[] | null {
    if (this.evalStamp[r.index] === stamp) return out;
    this.evalStamp[r.index] = stamp;
    if (!r.match(e)) return out;
    const group = this.single[r.index];
    if (out === null) {
      this.outShared = true;
      return group;
    }
    if (this.outShared) {
      out = out.slice();
      this.outShared = false;
    }
    // a group's rules stay adjacent in the list: shared windows rely on it (see feed)
    for (let i = 0; i < group.length; i++) out.push(group[i]);
    return out;
  }

  /** Evaluate a matched event at its event time (in (time, id) order unless late). */
  private apply(ev: AwEvent, t: number, matched: CompiledDetection[]): void {
    this.advanceClock(t);
    this.seq++;
    for (let i = 0; i < matched.length; i++) this.onMatch(matched[i], ev, t);
  }

  private onMatch(r: CompiledDetection, ev: AwEvent, t: number): void {
    this.matches[r.index]++;
    if (r.alerts) {
      const gg = r.groupGetters;
      const values: GroupValue[] = new Array(gg.length);
      for (let i = 0; i < gg.length; i++) values[i] = groupValue(gg[i](ev as EventLike));
      const key = gg.length === 0 ? '' : groupKey(values);
      const a = this.openAlert(r, key, t);
      if (a) this.grow(a, ev, t);
      else {
        const group: Group = {};
        for (let i = 0; i < gg.length; i++) group[r.info.group_by[i]] = values[i];
        this.startAlert(r, key, group, ev, t, 1, t, [ev.id]);
      }
    }
    for (let i = 0; i < r.consumers.length; i++) this.feed(this.corr[r.consumers[i]]!, r.index, ev, t, null);
  }

  /** The open suppression window of rule r for key at time t, if any. */
  private openAlert(r: CompiledRule, key: string, t: number): AlertState | undefined {
    const m = this.open[r.index];
    if (m.size === 0) return undefined;
    const a = m.get(key);
    if (a === undefined) return undefined;
    if (t >= a.end) {
      this.open[r.index].delete(key);
      this.openCount--;
      return undefined;
    }
    return a;
  }

  private grow(a: AlertState, ev: AwEvent, t: number): void {
    a.count++;
    if (t > a.last) a.last = t;
    if (t < a.first) a.first = t;
    if (a.ids.length < EVIDENCE_MAX_IDS) a.ids.push(ev.id);
    if (a.samples.length < EVIDENCE_MAX_SAMPLES) a.samples.push(frozenCopy(ev));
    const r = this.compiled[a.rule];
    if (r.kind === 'correlation') this.matches[a.rule]++;
    if (r.alerts) this.dirty.add(a);
  }

  private startAlert(r: CompiledRule, key: string, group: Group, ev: AwEvent, t: number, count: number, first: number, ids: string[]): AlertState {
    if (this.openCount >= this.opts.maxGroupKeys) this.evictOldestAlert();
    const a: AlertState = {
      rule: r.index, key, group, start: t, end: t + r.suppressMs, startIso: ev.time && eventTime(ev) === t ? ev.time : iso(t),
      count, first, last: t, ids: ids.slice(0, EVIDENCE_MAX_IDS), samples: [frozenCopy(ev)],
    };
    this.open[r.index].set(key, a);
    this.openCount++;
    if (a.end < this.openLow[r.index]) this.openLow[r.index] = a.end;
    if (r.kind === 'correlation') this.matches[r.index]++;
    if (r.alerts) this.dirty.add(a);
    return a;
  }

  private evictOldestAlert(): void {
    let best: Map<string, AlertState> | undefined;
    let bestStart = Infinity;
    for (const m of this.open) {
      const first = m.values().next();
      if (!first.done && first.value.start < bestStart) {
        bestStart = first.value.start;
        best = m;
      }
    }
    if (!best) return;
    best.delete(best.keys().next().value!);
    this.openCount--;
    this.evictedCapacity++;
  }

  /** A match of source rule `src` reaches correlation c. `up` is the group of an upstream correlation alert. */
  private feed(rt: CorrRuntime, src: number, ev: AwEvent, t: number, up: Group | null): void {
    const c = rt.rule;
    const gg = rt.groupGetters[src]!;
    const W = rt.win;
    const cls = this.repOf[src];
    // A shared window already fed with this event from this source group (by another sharer):
    // read the outcome. The rules of one match group are adjacent in the match list, so no
    // other feed of this window comes in between.
    if (!W.shared || W.seq !== this.seq || W.cls !== cls) {
      this.addToWindow(rt, W, gg, src, ev, t, up);
      W.seq = this.seq;
      W.cls = cls;
    }
    const key = W.key;
    const a = this.openAlert(c, key, t);
    if (a) {
      this.grow(a, ev, t);
      return;
    }
    if (!c.test(W.n)) return;
    const group: Group = {};
    const values = W.values;
    if (values === null) group[gg.names[0]] = W.v0;
    else for (let i = 0; i < values.length; i++) group[gg.names[i]] = values[i];
    let first = t;
    let ids: string[] = [ev.id];
    const o = W.o;
    if (o) {
      first = o.t[o.s] ?? t;
      const lim = W.newest - c.timespanMs;
      // this rule's evidence: the newest ids up to its own cap (the window keeps the sharers' largest), in the window
      ids = [];
      for (let i = Math.max(0, o.rid.length - rt.idCap); i < o.rid.length; i++) if (o.rt[i] > lim) ids.push(o.rid[i]);
    }
    const na = this.startAlert(c, key, group, ev, t, W.events, first, ids);
    for (let i = 0; i < c.consumers.length; i++) this.feed(this.corr[c.consumers[i]]!, c.index, ev, t, na.group);
  }

  /** Add one event to a window state; the outcome (key, slot, tested number, event count) is left in W. */
  private addToWindow(rt: CorrRuntime, W: SharedWindow, gg: { fields: string[]; getters: Getter[] }, src: number, ev: AwEvent, t: number, up: Group | null): void {
    const c = rt.rule;
    const nf = gg.fields.length;
    let key: string;
    let v0: GroupValue = null;
    let values: GroupValue[] | null = null;
    if (nf === 1) {
      // the common shape (one group-by field): no array, and a string value is its own key
      const f = gg.fields[0];
      v0 = up !== null && f in up ? up[f] : groupValue(gg.getters[0](ev as EventLike));
      key = typeof v0 === 'string' && v0.charCodeAt(0) !== 0 ? v0 : groupKey([v0]);
    } else {
      values = new Array(nf);
      for (let i = 0; i < nf; i++) {
        const f = gg.fields[i];
        values[i] = up !== null && f in up ? up[f] : groupValue(gg.getters[i](ev as EventLike));
      }
      key = groupKey(values);
    }
    const w = W.windows;
    let s = w.get(key);
    let o: Overflow | undefined;
    if (s < 0 && c.type === 'temporal_ordered' && !opensSequence(rt, src)) {
      // A later step of an ordered sequence with no window for its group: no earlier step was
      // seen within the timespan, so it can start nothing. Opening a window for it would hold a
      // group key for every such event (every accepted token, for failures-then-success): memory,
      // time, and keys that a flood of ordinary traffic could use to evict real sequences.
      W.n = W.events = 0;
      W.key = key;
      W.v0 = v0;
      W.values = values;
      W.newest = t;
      W.o = undefined;
      return;
    }
    if (s < 0) {
      if (this.groupKeys >= this.opts.maxGroupKeys) this.evictOldestWindow();
      s = w.create(key, t, ev.id);
      this.groupKeys++;
      if (c.type === 'event_count') {
        W.n = W.events = 1;
      } else {
        o = w.overflow(s, true);
        W.n = this.addToOverflow(rt, W.idCap, o, src, ev, t, t);
        W.events = o.t.length - o.s;
      }
    } else {
      const newest = Math.max(t, w.last[s]);
      o = w.overflow(s, false);
      w.touch(s, t);
      W.n = this.addToOverflow(rt, W.idCap, o, src, ev, t, newest);
      W.events = o.t.length - o.s;
    }
    W.key = key;
    W.v0 = v0;
    W.values = values;
    W.newest = w.last[s];
    W.o = o;
  }

  /** Add one event to a window; returns the number the correlation condition is tested on. */
  private addToOverflow(rt: CorrRuntime, idCap: number, o: Overflow, src: number, ev: AwEvent, t: number, newest: number): number {
    const c = rt.rule;
    const limit = newest - c.timespanMs;
    if (t <= limit) return this.metric(rt, o, limit); // late and already outside the window
    insertSorted(o, t);
    if (c.type === 'value_count') {
      const v = groupValue(rt.valueGetters[src]!(ev as EventLike));
      const text = v === null ? null : String(v);
      if (text !== null) {
        const vm = (o.vm ??= new Map());
        if (text === o.vlast) {
          // already the newest entry: updating in place keeps the time order (the common case)
          if (t >= vm.get(text)!) vm.set(text, t);
        } else {
          const prev = vm.get(text);
          // re-insert so the map stays ordered by newest time (oldest values expire from the front)
          if (prev === undefined || t >= prev) {
            vm.delete(text);
            vm.set(text, t);
            o.vlast = text;
          }
        }
        if (o.vlow === undefined || t < o.vlow) o.vlow = t;
      }
    } else if (c.type === 'temporal') {
      const seen = (o.seen ??= new Array(c.sources.length).fill(-Infinity));
      for (const p of rt.positions.get(src)!) if (t > seen[p]) seen[p] = t;
    } else if (c.type === 'temporal_ordered') {
      const chain = (o.chain ??= new Array(c.sources.length).fill(-Infinity));
      const ps = rt.positions.get(src)!;
      for (let k = ps.length - 1; k >= 0; k--) {
        const p = ps[k];
        if (p === 0) chain[0] = Math.max(chain[0], t);
        else if (chain[p - 1] > t - c.timespanMs && chain[p - 1] <= t) chain[p] = Math.max(chain[p], chain[p - 1]);
      }
    }
    rememberEvidence(o, ev.id, t, idCap);
    dropOld(o, limit);
    return this.metric(rt, o, limit);
  }

  private metric(rt: CorrRuntime, o: Overflow, limit: number): number {
    switch (rt.rule.type) {
      case 'event_count':
        return o.t.length - o.s;
      case 'value_count':
        return o.vm?.size ?? 0;
      case 'temporal': {
        let k = 0;
        for (const x of o.seen ?? []) if (x > limit) k++;
        return k;
      }
      case 'temporal_ordered': {
        const chain = o.chain ?? [];
        let k = 0;
        while (k < chain.length && chain[k] > limit) k++;
        return k;
      }
    }
  }

  private evictOldestWindow(): void {
    let best: SharedWindow | undefined;
    let bestT = Infinity;
    for (const W of this.winList) {
      const h = W.windows.oldest();
      if (h >= 0 && W.windows.last[h] < bestT) {
        bestT = W.windows.last[h];
        best = W;
      }
    }
    if (!best) return;
    best.windows.evictOldest();
    this.groupKeys--;
    this.evictedCapacity++;
  }

  private expire(now: number): void {
    if (now > this.windowClock) {
      this.windowClock = now;
      this.expireWindows(now);
    }
    const low = this.openLow;
    for (let r = 0; r < low.length; r++) {
      if (low[r] > now) continue;
      const m = this.open[r];
      let next = Infinity;
      for (const [k, a] of m) {
        if (a.end > now) {
          next = a.end;
          break;
        }
        m.delete(k);
        this.openCount--;
      }
      low[r] = next;
    }
  }

  private expireWindows(now: number): void {
    for (let i = 0; i < this.winList.length; i++) {
      const n = this.winList[i].windows.expire(now);
      if (n) {
        this.groupKeys -= n;
        this.evictedExpired += n;
      }
    }
  }

  // ---- output --------------------------------------------------------------------------------

  drainAlerts(): Alert[] {
    if (!this.dirty.size) return [];
    const out: Alert[] = [];
    for (const a of this.dirty) out.push(this.toAlert(a));
    this.dirty.clear();
    return out;
  }

  private toAlert(a: AlertState): Alert {
    const r = this.compiled[a.rule].info;
    return {
      id: alertId(r.id, a.group, a.startIso),
      rule: { id: r.id, name: r.name, title: r.title, level: r.level },
      group: { ...a.group },
      count: a.count,
      first_seen: iso(a.first),
      last_seen: iso(a.last),
      evidence: { event_ids: [...a.ids], samples: [...a.samples] }, // samples are frozen: shared, not copied
      status: 'open',
      proposed: r.response.map((p) => ({ ...p })),
    };
  }

  stats(): EngineStats {
    const matchesByRule: Record<string, number> = {};
    for (const r of this.compiled) matchesByRule[r.info.name] = this.matches[r.index];
    const d = this.dedup.stats();
    return {
      groupKeys: this.groupKeys,
      evictions: { expired: this.evictedExpired, capacity: this.evictedCapacity },
      lateEvents: this.lateEvents,
      buffered: this.heap.size,
      watermark: Number.isFinite(this.watermark) ? iso(this.watermark) : null,
      matchesByRule,
      openAlerts: this.openCount,
      invalidTimeEvents: this.invalidTime,
      duplicateEvents: d.duplicates,
      eventIds: d.ids,
      eventIdEvictions: { expired: d.expired, capacity: d.capacity },
    };
  }

  // ---- state ---------------------------------------------------------------------------------

  snapshot(): EngineSnapshot {
    return { rulesetHash: this.ruleset.hash, state: this.exportState() };
  }

  exportState(): EngineState {
    const num = (x: number) => (Number.isFinite(x) ? x : null);
    const d = this.dedup.stats();
    const alertJson = (a: AlertState, open: boolean, dirty: boolean) => ({ ...a, rule: this.compiled[a.rule].info.id, open, dirty });
    const alerts: AlertStateJson[] = [];
    const seen = new Set<AlertState>();
    for (const m of this.open) for (const a of m.values()) {
      seen.add(a);
      alerts.push(alertJson(a, true, this.dirty.has(a)));
    }
    for (const a of this.dirty) if (!seen.has(a)) alerts.push(alertJson(a, false, true));
    return {
      v: STATE_VERSION,
      watermark: num(this.watermark),
      maxSeen: num(this.maxSeen),
      clock: num(this.clock),
      windowClock: num(this.windowClock),
      buffer: this.heap.sorted().map((e) => e.ev),
      rules: this.compiled.map((r) => {
        const W = this.corr[r.index]?.win;
        const own = W === undefined || W.owner === r.index;
        return {
          id: r.info.id,
          def: r.defHash,
          matches: this.matches[r.index],
          windows: own ? (W?.windows.snapshot() ?? []) : [],
          ...(own ? {} : { windowsOf: this.compiled[W.owner].info.id }),
        };
      }),
      alerts,
      counters: { late: this.lateEvents, invalid: this.invalidTime, expired: this.evictedExpired, capacity: this.evictedCapacity },
      seen: { ids: this.dedup.snapshot(), duplicates: d.duplicates, expired: d.expired, capacity: d.capacity },
    };
  }

  restore(snapshot: EngineSnapshot): void {
    if (snapshot.rulesetHash !== this.ruleset.hash) throw new SnapshotMismatchError('snapshot was taken with a different rule set');
    this.importState(snapshot.state as EngineState, false);
  }

  /** Load state; with `partial`, only rules whose definition hash is unchanged get their windows back (hot reload). */
  importState(st: EngineState, partial: boolean): void {
    if (!st || (st.v !== STATE_VERSION && st.v !== 1)) throw new SnapshotMismatchError('unknown snapshot format');
    if (this.heap.size || this.groupKeys || this.openCount || this.dirty.size) throw new SnapshotMismatchError('restore needs a fresh engine');
    const val = (x: number | null) => (x === null ? -Infinity : x);
    this.watermark = val(st.watermark);
    this.maxSeen = val(st.maxSeen);
    this.clock = val(st.clock);
    this.windowClock = val(st.windowClock ?? null);
    for (const ev of st.buffer) {
      const m = this.matchRules(ev);
      if (m) this.heap.push(eventTime(ev), ev, m);
    }
    const byId = new Map(this.compiled.map((r) => [r.info.id, r]));
    const stRules = new Map(st.rules.map((x) => [x.id, x]));
    const restored = new Set<SharedWindow>();
    for (const rs of st.rules) {
      const r = byId.get(rs.id);
      if (!r || (partial && r.defHash !== rs.def)) continue;
      this.matches[r.index] = rs.matches;
      const rt = this.corr[r.index];
      // a window shared in the snapshot is stored once, under the rule named by windowsOf; a
      // window shared here is restored once (in a v1 snapshot every sharer has an equal copy)
      const windows = rs.windowsOf !== undefined ? (stRules.get(rs.windowsOf)?.windows ?? []) : rs.windows;
      if (rt && windows.length && !restored.has(rt.win)) {
        restored.add(rt.win);
        rt.win.windows.restore(windows);
        this.groupKeys += windows.length;
      }
    }
    for (const j of st.alerts) {
      const r = byId.get(j.rule);
      const prev = st.rules.find((x) => x.id === j.rule);
      if (!r || (partial && (!prev || prev.def !== r.defHash))) continue;
      const a: AlertState = { ...j, rule: r.index, samples: j.samples.map(deepFreeze) };
      delete (a as unknown as Record<string, unknown>).open;
      delete (a as unknown as Record<string, unknown>).dirty;
      if (j.open) {
        this.open[r.index].set(a.key, a);
        this.openCount++;
        if (a.end < this.openLow[r.index]) this.openLow[r.index] = a.end;
      }
      if (j.dirty && !partial) this.dirty.add(a);
    }
    // hot reload keeps the ids too: an event evaluated under the old rules is still the same event
    if (st.seen) this.dedup.restore(st.seen.ids, partial ? undefined : st.seen);
    if (!partial) {
      this.lateEvents = st.counters.late;
      this.invalidTime = st.counters.invalid;
      this.evictedExpired = st.counters.expired;
      this.evictedCapacity = st.counters.capacity;
    }
  }
}

type AlertStateJson = Omit<AlertState, 'rule'> & { rule: string; open: boolean; dirty: boolean };

export interface EngineState {
  v: number;
  watermark: number | null;
  maxSeen: number | null;
  clock: number | null;
  windowClock?: number | null;
  buffer: AwEvent[];
  /** windowsOf (v2): the rule whose entry holds this rule's (shared) windows */
  rules: { id: string; def: string; matches: number; windows: SlotSnapshot[]; windowsOf?: string }[];
  alerts: AlertStateJson[];
  counters: { late: number; invalid: number; expired: number; capacity: number };
  /** evaluated event ids ([id, event time], oldest first) and de-duplication counters; absent in older snapshots */
  seen?: { ids: [string, number][]; duplicates: number; expired: number; capacity: number };
}

/**
 * Build an engine. With `previous` (hot reload), the new engine takes over the previous one's
 * buffered events and watermark, and the windows and suppression state of every rule whose
 * definition (and dependencies) is unchanged; changed rules start empty.
 */
export function createEngine(ruleset: CompiledRuleSet, opts: EngineOptions, previous?: RuleEngine): RuleEngine {
  const e = new Engine(ruleset, opts);
  if (previous instanceof Engine) e.importState(previous.exportState(), true);
  return e;
}
