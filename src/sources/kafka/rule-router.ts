// Re-keying for the rule stage (docs/kafka.md, "Scale-out"): which partitions of the internal
// rules topic an event must reach, and which partition owns each (rule, group).
//
// Every rule belongs to a key class: its group-by field set ("source.ip", "token.fp",
// "" for rules without group-by). A (rule, group) is owned by the partition that the key
// `<class>|<group values>` hashes to. Stage 1 sends each event once to every partition owning a
// (rule, group) the event contributes to (found by running the detection matchers, and the
// group getters each rule uses for the matched source, aliases included). Stage 2 runs the whole
// engine on what its partition receives and keeps only the alerts of (rule, group)s it owns: the
// owner sees every event of its groups (complete state), other partitions' partial views are
// dropped. Correlations over correlations take their group values partly from the upstream
// alert, so they are not re-keyed: class "*", one fixed partition that receives every event
// reaching the chain (like replay, for those rules only).
import type { Alert } from '../../alerts/alert.js';
import type { AwEvent } from '../../events/event.js';
import type { CompiledRuleSet } from '../../rules/rule-loader.js';
import type { CompiledCorrelation, CompiledDetection, CompiledRule } from '../../rules/rule-compiler.js';
import { fieldGetter, type EventLike, type Getter } from '../../rules/sigma-matcher.js';

/** The class of rules that cannot be re-keyed (chained correlations): one fixed partition. */
export const UNKEYED_CLASS = '*';

type GroupValue = string | number | boolean | null;

/** Same normalisation as the engine's group values (arrays comma-joined, objects as JSON). */
function groupValue(v: unknown): GroupValue {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  if (Array.isArray(v)) return v.map((x) => (typeof x === 'object' ? JSON.stringify(x) : String(x))).join(',');
  return JSON.stringify(v);
}

/** FNV-1a over UTF-16 code units: stable across processes and versions (unlike a library default). */
function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export function routingKey(cls: string, values: readonly GroupValue[]): string {
  return cls === UNKEYED_CLASS ? UNKEYED_CLASS : `${cls}|${JSON.stringify(values)}`;
}

interface Route {
  cls: string;
  getters: Getter[];
}

export class RuleRouter {
  private readonly byId = new Map<string, CompiledRule>();
  private readonly classOf: string[] = [];
  private readonly detections: CompiledDetection[] = [];
  /** per detection index: the (class, getters) of each rule it feeds directly (itself if it alerts) */
  private readonly routes = new Map<number, Route[]>();
  /** per detection index: whether some chained (unkeyed) correlation depends on it */
  private readonly feedsUnkeyed = new Set<number>();
  private readonly unkeyedPartition: number;

  constructor(
    ruleset: CompiledRuleSet,
    readonly partitions: number,
  ) {
    const rules = ruleset.rules;
    for (const r of rules) {
      this.byId.set(r.info.id, r);
      const chained = r.kind === 'correlation' && r.sources.some((s) => rules[s]?.kind === 'correlation');
      this.classOf[r.index] = chained ? UNKEYED_CLASS : [...r.info.group_by].join(',');
    }
    this.unkeyedPartition = this.partitionOf(UNKEYED_CLASS);
    // a correlation fed by an unkeyed one is unkeyed too (its upstream state lives in that partition)
    for (let changed = true; changed; ) {
      changed = false;
      for (const r of rules) {
        if (r.kind !== 'correlation' || this.classOf[r.index] === UNKEYED_CLASS) continue;
        if (r.sources.some((s) => this.classOf[s] === UNKEYED_CLASS)) {
          this.classOf[r.index] = UNKEYED_CLASS;
          changed = true;
        }
      }
    }
    for (const r of rules) {
      if (r.kind !== 'detection') continue;
      this.detections.push(r);
      const list: Route[] = [];
      if (r.alerts) list.push({ cls: this.classOf[r.index], getters: r.groupGetters });
      for (const ci of r.consumers) {
        const c = rules[ci] as CompiledCorrelation;
        const cls = this.classOf[ci];
        if (cls === UNKEYED_CLASS) continue;
        list.push({ cls, getters: (c.groupFields.get(r.index) ?? []).map(fieldGetter) });
      }
      this.routes.set(r.index, list);
      if (this.reachesUnkeyed(r, rules, new Set())) this.feedsUnkeyed.add(r.index);
    }
  }

  private reachesUnkeyed(r: CompiledRule, rules: readonly CompiledRule[], seen: Set<number>): boolean {
    if (seen.has(r.index)) return false;
    seen.add(r.index);
    if (this.classOf[r.index] === UNKEYED_CLASS) return true;
    return r.consumers.some((ci) => this.reachesUnkeyed(rules[ci], rules, seen));
  }

  partitionOf(key: string): number {
    return hash32(key) % this.partitions;
  }

  /**
   * The partitions this event must reach, each with the routing key of one (rule, group) it
   * owns there (the message key). Empty when the event matches no detection rule: no rule can use it.
   */
  targets(ev: AwEvent): Map<number, string> {
    const out = new Map<number, string>();
    const e = ev as unknown as EventLike;
    for (const d of this.detections) {
      if (!d.match(e)) continue;
      for (const r of this.routes.get(d.index)!) {
        const key = routingKey(r.cls, r.getters.map((g) => groupValue(g(e))));
        const p = this.partitionOf(key);
        if (!out.has(p)) out.set(p, key);
      }
      if (this.feedsUnkeyed.has(d.index) && !out.has(this.unkeyedPartition)) out.set(this.unkeyedPartition, UNKEYED_CLASS);
    }
    return out;
  }

  /** The partition that owns an alert's (rule, group). */
  owner(alert: Pick<Alert, 'rule' | 'group'>): number {
    const r = this.byId.get(alert.rule.id);
    if (!r) return this.unkeyedPartition;
    const cls = this.classOf[r.index];
    const group = alert.group as Record<string, GroupValue | undefined>;
    return this.partitionOf(routingKey(cls, r.info.group_by.map((f) => group[f] ?? null)));
  }
}
