// The public face of the rule engine: what the rest of authwatch may use. The engine is a
// pure core: it takes events and watermarks (event time) and returns alerts; it does no I/O
// and never reads the wall clock. Loading rule files (I/O) is in rule-loader.ts.
import type { Alert, Level, ProposedResponse, RuleRef } from '../alerts/alert.js';
import type { AwEvent } from '../events/event.js';

export type RuleKind = 'detection' | 'correlation' | 'filter';
export type Maturity = 'stable' | 'experimental';

/** One loaded rule, as listed by `GET /v1/rules` and `authwatch rules lint`. */
export interface RuleInfo extends RuleRef {
  kind: RuleKind;
  file: string; // path relative to the rules dir
  line: number; // line of the YAML document in the file
  maturity: Maturity;
  /** for correlations: group-by fields; the Kafka path re-keys by these */
  group_by: string[];
  timespan_ms: number | null;
  suppress_ms: number | null;
  response: ProposedResponse[];
  /** correlation rules: whether the base rules' own matches are also alerts (Sigma `generate`) */
  generate: boolean;
  tags: string[];
  level: Level;
}

/** A rule file that failed to load: every error names its file, line and rule. */
export interface RuleLoadError {
  file: string;
  line: number;
  rule: string | null; // rule id or name when known
  code: string; // stable error code, e.g. RULE_YAML_SYNTAX, RULE_UNKNOWN_MODIFIER, RULE_UNSAFE_REGEX
  message: string;
}

export interface EngineOptions {
  /** how far behind the newest event time an event may arrive and still be windowed in order */
  allowedLatenessMs: number;
  /** cap on group keys held across all correlation windows; beyond it the oldest are evicted */
  maxGroupKeys: number;
  /** cap on remembered event ids for de-duplication (oldest forgotten first); default maxGroupKeys; 0 turns it off */
  maxEventIds?: number;
}

export interface EngineStats {
  groupKeys: number;
  evictions: { expired: number; capacity: number };
  lateEvents: number;
  buffered: number;
  watermark: string | null;
  /** detection rules: matching events; correlations: events that opened or grew an alert */
  matchesByRule: Record<string, number>;
  /** open suppression windows (one per rule and group key), capped by maxGroupKeys too */
  openAlerts?: number;
  /** events whose `time` could not be parsed; evaluated at the current clock */
  invalidTimeEvents?: number;
  /** matching events ignored because an event with the same id was already evaluated */
  duplicateEvents?: number;
  /** event ids remembered for de-duplication */
  eventIds?: number;
  /** remembered ids forgotten: past the time horizon, or over the cap (oldest first) */
  eventIdEvictions?: { expired: number; capacity: number };
}

/**
 * The compiled rule set plus window state. Usage, identical in replay, tests and the service:
 *   engine.push(event)            // any arrival order; reordered by (time, id) within lateness
 *   engine.advanceTo(epochMs)     // optional: the adapter's clock says "no event older than this will come"
 *   engine.flush()                // end of input: process everything buffered
 *   engine.drainAlerts()          // alerts new or changed since the last drain (latest state each)
 */
/** What the engine needs of events/repeated-content.ts's RepeatedContentIds. */
export interface ContentNumbering {
  renumber(event: { id: string; time: string }): void;
}

export interface RuleEngine {
  readonly rules: readonly RuleInfo[];
  /**
   * `numbering`: the input stream's numbering of repeated content, for an event whose id was
   * derived from its content (events/repeated-content.ts). The engine applies it only to an
   * event some rule matches: identical content matches identically, so the n-th repetition
   * among matching events is the n-th in the stream, and no other event's id is read again.
   */
  push(event: AwEvent, numbering?: ContentNumbering): void;
  advanceTo(epochMs: number): void;
  flush(): void;
  drainAlerts(): Alert[];
  stats(): EngineStats;
  /**
   * Window, buffer and suppression state as plain JSON, and its inverse, so a Kafka worker can
   * store state with its offsets and resume after a crash or rebalance without double counting.
   * restore() accepts only a snapshot taken from an engine with the same rule set hash.
   */
  snapshot(): EngineSnapshot;
  restore(snapshot: EngineSnapshot): void;
}

export interface EngineSnapshot {
  rulesetHash: string;
  state: unknown;
}
