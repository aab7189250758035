// Sigma documents (text) → a compiled, immutable rule set. Pure: the loader reads files and
// hands their text here; tests call it with inline YAML. Every error carries file, line and
// the rule's id or name. Maturity precedence: `authwatch.maturity` > folder > `status`.
import { createHash } from 'node:crypto';
import { LineCounter, parseAllDocuments, type Document } from 'yaml';
import { ACTION_TYPES, LEVELS, type ActionType, type Level, type ProposedResponse } from '../alerts/alert.js';
import { parseDuration } from '../util/duration.js';
import { RuleCompileError, type RuleErrorCode, type RuleWarningCode } from './rule-errors.js';
import { compileCondition, parseCondition } from './sigma-condition.js';
import { compileSelection, fieldGetter, type CompiledItem, type Constraint, type Getter, type Matcher } from './sigma-matcher.js';
import type { Maturity, RuleInfo, RuleKind, RuleLoadError } from './types.js';

export const DEFAULT_DETECTION_SUPPRESS_MS = 10 * 60_000;
/** Fields the index prefers when a rule constrains several (cheap, highly selective). */
const INDEX_PREFER = ['auth.result', 'idp.error', 'http.status', 'observer.type'];

export type CorrelationType = 'event_count' | 'value_count' | 'temporal' | 'temporal_ordered';

export interface CountCondition {
  gt?: number;
  gte?: number;
  lt?: number;
  lte?: number;
  eq?: number;
}

interface RuleBase {
  index: number;
  info: RuleInfo;
  /** whether a match of this rule is itself an alert (false for base rules of a non-`generate` correlation) */
  alerts: boolean;
  /** correlations fed by this rule's matches */
  consumers: number[];
  suppressMs: number;
  /** changes whenever this rule or anything it depends on changes (hot reload keeps state only if equal) */
  defHash: string;
}

export interface CompiledDetection extends RuleBase {
  kind: 'detection';
  match: Matcher;
  /** the rule can only match when one of these fields has one of its (lowercased) values */
  eq: Constraint;
  groupGetters: Getter[];
  /**
   * Equal for rules whose match is the same function of the event (same detection block and
   * filters): the engine evaluates one of them per event and shares the result (copied rules).
   */
  matchKey: string;
}

export interface CompiledCorrelation extends RuleBase {
  kind: 'correlation';
  type: CorrelationType;
  sources: number[];
  timespanMs: number;
  condition: CountCondition;
  test: (n: number) => boolean;
  /** per source rule index: how to read each group-by field (aliases resolved) */
  groupFields: Map<number, string[]>;
  /** value_count: the field counted, per source rule index */
  valueFields: Map<number, string>;
  /**
   * Equal for correlations whose windows hold the same state (type, timespan, value field, and
   * per source the same match and group-by fields); they share one window state in the engine and
   * differ only in threshold and alert state. null: not shareable (a correlation among its sources).
   */
  windowKey: string | null;
}

export type CompiledRule = CompiledDetection | CompiledCorrelation;

export interface CompiledRuleSet {
  hash: string;
  /** detection and correlation rules in use (filters are folded into their targets) */
  rules: CompiledRule[];
  /** everything loaded, filters included, for listing */
  infos: RuleInfo[];
}

export interface CompileOptions {
  includeExperimental?: boolean;
}

export interface CompileResult {
  ruleset: CompiledRuleSet;
  errors: RuleLoadError[];
  warnings: RuleLoadError[];
}

const KNOWN_TOP = new Set([
  'title', 'id', 'name', 'status', 'description', 'author', 'date', 'modified', 'references', 'tags',
  'logsource', 'detection', 'falsepositives', 'level', 'fields', 'related', 'license', 'correlation',
  'filter', 'authwatch', 'scope', 'taxonomy', 'sigma-version', 'version',
]);
const KNOWN_AUTHWATCH = new Set(['suppress', 'response', 'maturity', 'group_by']);
const KNOWN_CORRELATION = new Set(['type', 'rules', 'group-by', 'timespan', 'condition', 'aliases', 'generate']);

interface ParsedDoc {
  file: string;
  line: number;
  kind: RuleKind;
  raw: Record<string, unknown>;
  ref: string | null;
  lineOf: (path: (string | number)[]) => number;
}

interface Pending {
  doc: ParsedDoc;
  info: RuleInfo;
  detection?: { match: Matcher; eq: Constraint; groupBy: string[]; matchHash: string };
  filter?: { match: Matcher; targets: string[] | 'any'; matchHash: string };
  correlation?: { type: CorrelationType; refs: string[]; groupBy: string[]; timespanMs: number; condition: CountCondition; valueField: string | null; aliases: Record<string, Record<string, string>>; generate: boolean };
  ownHash: string;
}

function err(code: RuleErrorCode, message: string, path: (string | number)[] = []): never {
  throw new RuleCompileError(code, message, path);
}

function lineFinder(doc: Document, lc: LineCounter, fallback: number) {
  return (path: (string | number)[]): number => {
    for (let n = path.length; n > 0; n--) {
      const node = doc.getIn(path.slice(0, n), true) as { range?: [number, number, number] } | undefined;
      if (node && typeof node === 'object' && node.range) return lc.linePos(node.range[0]).line;
    }
    return fallback;
  };
}

function asStringList(v: unknown, what: string, path: (string | number)[]): string[] {
  if (v === undefined || v === null) return [];
  const list = Array.isArray(v) ? v : [v];
  for (const x of list) if (typeof x !== 'string' || x === '') err('RULE_INVALID', `${what} must be a string or a list of strings`, path);
  return list as string[];
}

function duration(v: unknown, what: string, path: (string | number)[]): number {
  try {
    if (typeof v !== 'string' && typeof v !== 'number') throw new Error();
    const ms = parseDuration(v);
    if (ms <= 0) throw new Error();
    return ms;
  } catch {
    return err('RULE_BAD_DURATION', `${what}: invalid duration ${JSON.stringify(v)} (e.g. 30s, 5m, 1h)`, path);
  }
}

function maturityOf(raw: Record<string, unknown>, file: string, warn: (code: RuleWarningCode, msg: string) => void): Maturity {
  const aw = raw.authwatch as Record<string, unknown> | undefined;
  if (aw && aw.maturity !== undefined) {
    if (aw.maturity !== 'stable' && aw.maturity !== 'experimental') err('RULE_BAD_EXTENSION', `authwatch.maturity must be stable or experimental`, ['authwatch', 'maturity']);
    return aw.maturity;
  }
  const segs = file.split(/[\\/]/).slice(0, -1);
  if (segs.includes('experimental')) return 'experimental';
  if (segs.includes('stable')) return 'stable';
  const st = raw.status;
  if (st === undefined) return 'stable';
  if (st === 'stable' || st === 'test') return 'stable';
  if (st === 'experimental' || st === 'deprecated' || st === 'unsupported') return 'experimental';
  warn('RULE_UNKNOWN_STATUS', `unknown status ${JSON.stringify(st)}; treated as experimental`);
  return 'experimental';
}

function parseResponse(v: unknown): ProposedResponse[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) err('RULE_BAD_EXTENSION', `authwatch.response must be a list`, ['authwatch', 'response']);
  return v.map((r, i) => {
    const p = ['authwatch', 'response', i];
    if (!r || typeof r !== 'object') err('RULE_BAD_EXTENSION', `response entries are maps {action, ttl, approval}`, p);
    const o = r as Record<string, unknown>;
    for (const k of Object.keys(o)) if (!['action', 'ttl', 'approval'].includes(k)) err('RULE_BAD_EXTENSION', `unknown response key "${k}"`, [...p, k]);
    if (!ACTION_TYPES.includes(o.action as ActionType)) err('RULE_BAD_EXTENSION', `response action must be one of ${ACTION_TYPES.join(', ')}`, [...p, 'action']);
    const ttl = o.ttl === undefined ? '1h' : String(o.ttl);
    duration(ttl, 'response ttl', [...p, 'ttl']);
    const approval = o.approval === undefined ? 'required' : o.approval;
    if (approval !== 'required' && approval !== 'auto') err('RULE_BAD_EXTENSION', `response approval must be required or auto`, [...p, 'approval']);
    return { action: o.action as ActionType, ttl, approval };
  });
}

/** Compile a `detection:`-shaped block (selections + condition). */
function compileDetectionBlock(block: Record<string, unknown>, base: (string | number)[], skip: string[] = []): CompiledItem {
  if (!block || typeof block !== 'object' || Array.isArray(block)) err('RULE_MISSING_DETECTION', `detection must be a map of search identifiers and a condition`, base);
  const names = Object.keys(block).filter((k) => k !== 'condition' && !skip.includes(k));
  if (block.timeframe !== undefined) err('RULE_INVALID', `"timeframe" (Sigma v1) is not supported; write a correlation rule`, [...base, 'timeframe']);
  if (block.condition === undefined) err('RULE_MISSING_CONDITION', `detection has no condition`, base);
  if (!names.length) err('RULE_MISSING_DETECTION', `detection has no search identifiers`, base);
  const sels = new Map<string, CompiledItem>();
  for (const n of names) sels.set(n, compileSelection(block[n], [...base, n], INDEX_PREFER));
  const conds = Array.isArray(block.condition) ? block.condition : [block.condition];
  const parts = conds.map((c, i) => {
    const p = Array.isArray(block.condition) ? [...base, 'condition', i] : [...base, 'condition'];
    if (typeof c !== 'string') err('RULE_BAD_CONDITION', `condition must be a string`, p);
    return compileCondition(parseCondition(c, names, p), sels, INDEX_PREFER);
  });
  if (parts.length === 1) return parts[0];
  // a list of conditions means any of them (Sigma v1 form)
  const fns = parts.map((p) => p.match);
  return { match: (ev) => fns.some((f) => f(ev)), eq: null };
}

function compileCountCondition(v: unknown, type: CorrelationType, nRules: number, path: (string | number)[]): { condition: CountCondition; valueField: string | null } {
  if (v === undefined) {
    if (type === 'temporal' || type === 'temporal_ordered') return { condition: { gte: nRules }, valueField: null };
    err('RULE_BAD_CORRELATION', `${type} needs a condition (e.g. gte: 10)`, path);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) err('RULE_BAD_CORRELATION', `condition must be a map like {gte: 10}`, path);
  const o = v as Record<string, unknown>;
  const condition: CountCondition = {};
  let valueField: string | null = null;
  for (const [k, x] of Object.entries(o)) {
    if (k === 'field') {
      if (type !== 'value_count') err('RULE_BAD_CORRELATION', `condition.field only applies to value_count`, [...path, k]);
      if (typeof x !== 'string' || !x) err('RULE_BAD_CORRELATION', `condition.field must be a field name`, [...path, k]);
      valueField = x;
    } else if (k === 'gt' || k === 'gte' || k === 'lt' || k === 'lte' || k === 'eq') {
      if (typeof x !== 'number' || !Number.isFinite(x)) err('RULE_BAD_CORRELATION', `condition.${k} must be a number`, [...path, k]);
      condition[k] = x;
    } else err('RULE_BAD_CORRELATION', `unknown condition operator "${k}" (gt, gte, lt, lte, eq, field)`, [...path, k]);
  }
  if (Object.keys(condition).length === 0) err('RULE_BAD_CORRELATION', `condition needs gt, gte, lt, lte or eq`, path);
  if (type === 'value_count' && !valueField) err('RULE_BAD_CORRELATION', `value_count needs condition.field`, path);
  return { condition, valueField };
}

export function conditionTest(c: CountCondition): (n: number) => boolean {
  const { gt, gte, lt, lte, eq } = c;
  return (n) =>
    (gt === undefined || n > gt) && (gte === undefined || n >= gte) && (lt === undefined || n < lt) && (lte === undefined || n <= lte) && (eq === undefined || n === eq);
}

function sha(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

/** Compile a set of rule files. Rules with errors are left out; the rest still load. */
export function compileRuleSet(docs: Array<{ file: string; text: string }>, opts: CompileOptions = {}): CompileResult {
  const errors: RuleLoadError[] = [];
  const warnings: RuleLoadError[] = [];
  const pendings: Pending[] = [];
  const sorted = [...docs].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));

  for (const { file, text } of sorted) {
    const lc = new LineCounter();
    let ydocs: Document[];
    try {
      ydocs = parseAllDocuments(text, { lineCounter: lc, uniqueKeys: true, prettyErrors: false }) as unknown as Document[];
    } catch (e) {
      errors.push({ file, line: 1, rule: null, code: 'RULE_YAML_SYNTAX', message: (e as Error).message });
      continue;
    }
    if (!Array.isArray(ydocs)) ydocs = [];
    if (!ydocs.length || ydocs.every((d) => d.contents === null)) warnings.push({ file, line: 1, rule: null, code: 'RULE_EMPTY_FILE', message: 'no YAML documents' });
    for (const yd of ydocs) {
      if (yd.errors.length) {
        for (const e of yd.errors) errors.push({ file, line: e.linePos?.[0]?.line ?? lc.linePos(e.pos[0]).line, rule: null, code: 'RULE_YAML_SYNTAX', message: e.message.split('\n')[0] });
        continue;
      }
      if (yd.contents === null) continue;
      const range = (yd.contents as { range?: [number, number, number] }).range;
      const line = range ? lc.linePos(range[0]).line : 1;
      const raw = yd.toJS({ maxAliasCount: 100 }) as unknown;
      if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
        errors.push({ file, line, rule: null, code: 'RULE_INVALID', message: 'a rule document must be a YAML map' });
        continue;
      }
      const r = raw as Record<string, unknown>;
      const ref = typeof r.id === 'string' ? r.id : typeof r.name === 'string' ? r.name : typeof r.title === 'string' ? r.title : null;
      const lineOf = lineFinder(yd, lc, line);
      const push = (list: RuleLoadError[], code: string, message: string, path: (string | number)[] = []) =>
        list.push({ file, line: path.length ? lineOf(path) : line, rule: ref, code, message });
      try {
        const kind: RuleKind = r.correlation !== undefined ? 'correlation' : r.filter !== undefined ? 'filter' : 'detection';
        if (kind === 'detection' && r.detection === undefined) err('RULE_MISSING_DETECTION', `rule has no detection, correlation or filter section`);
        const doc: ParsedDoc = { file, line, kind, raw: r, ref, lineOf };
        pendings.push(parseDoc(doc, (code, msg, path) => push(warnings, code, msg, path)));
      } catch (e) {
        if (e instanceof RuleCompileError) push(errors, e.code, e.message, [...e.path]);
        else push(errors, 'RULE_INVALID', (e as Error).message);
      }
    }
  }

  // ids and names are both references; each must be unique
  const byRef = new Map<string, Pending>();
  const ok: Pending[] = [];
  for (const p of pendings) {
    const refs = [...new Set([p.info.id, p.info.name])];
    const dup = refs.find((x) => byRef.has(x));
    if (dup) {
      const first = byRef.get(dup)!;
      errors.push({ file: p.doc.file, line: p.doc.line, rule: p.doc.ref, code: 'RULE_DUPLICATE_ID', message: `id/name "${dup}" is already used by ${first.doc.file}:${first.doc.line}` });
      continue;
    }
    for (const x of refs) byRef.set(x, p);
    ok.push(p);
  }

  // correlations: resolve references, drop those referring to broken/unknown rules or in a cycle
  const failed = new Set<Pending>();
  const resolveRefs = (p: Pending): Pending[] | null => {
    const out: Pending[] = [];
    for (const [i, ref] of p.correlation!.refs.entries()) {
      const t = byRef.get(ref);
      if (!t || t.filter) {
        errors.push({ file: p.doc.file, line: p.doc.lineOf(['correlation', 'rules', i]), rule: p.doc.ref, code: 'RULE_UNKNOWN_REFERENCE', message: `correlation references "${ref}", which is not a loaded detection or correlation rule` });
        return null;
      }
      out.push(t);
    }
    return out;
  };
  const deps = new Map<Pending, Pending[]>();
  for (const p of ok) if (p.correlation) {
    const d = resolveRefs(p);
    if (d) deps.set(p, d);
    else failed.add(p);
  }
  // cycle / failure propagation by DFS
  const state = new Map<Pending, 1 | 2>();
  const visit = (p: Pending, stack: Pending[]): boolean => {
    if (failed.has(p)) return false;
    if (!p.correlation) return true;
    const s = state.get(p);
    if (s === 2) return true;
    if (s === 1) {
      errors.push({ file: p.doc.file, line: p.doc.line, rule: p.doc.ref, code: 'RULE_CORRELATION_CYCLE', message: `correlation cycle: ${[...stack, p].map((x) => x.info.name).join(' → ')}` });
      failed.add(p);
      return false;
    }
    state.set(p, 1);
    for (const d of deps.get(p) ?? []) {
      if (!visit(d, [...stack, p])) {
        if (!failed.has(p)) {
          failed.add(p);
          if (state.get(d) !== 1) errors.push({ file: p.doc.file, line: p.doc.line, rule: p.doc.ref, code: 'RULE_UNKNOWN_REFERENCE', message: `correlation depends on "${d.info.name}", which failed to load` });
        }
        state.set(p, 2);
        return false;
      }
    }
    state.set(p, 2);
    return true;
  };
  for (const p of ok) visit(p, []);
  const valid = ok.filter((p) => !failed.has(p));

  // filters: resolve targets (by id or name); a filter naming an unknown rule is an error
  const filtersFor = new Map<Pending, Pending[]>();
  const validFilters: Pending[] = [];
  for (const f of valid) if (f.filter) {
    const targets = f.filter.targets === 'any' ? valid.filter((p) => p.detection) : f.filter.targets.map((t) => byRef.get(t));
    const bad = f.filter.targets === 'any' ? -1 : targets.findIndex((t) => !t || !t.detection || failed.has(t));
    if (bad >= 0) {
      errors.push({ file: f.doc.file, line: f.doc.lineOf(['filter', 'rules', bad]), rule: f.doc.ref, code: 'RULE_BAD_FILTER', message: `filter targets "${(f.filter.targets as string[])[bad]}", which is not a loaded detection rule` });
      continue;
    }
    validFilters.push(f);
    for (const t of targets as Pending[]) {
      const l = filtersFor.get(t) ?? [];
      l.push(f);
      filtersFor.set(t, l);
    }
  }

  // active set: wanted maturity plus everything an active correlation depends on
  const include = opts.includeExperimental === true;
  const wanted = new Set<Pending>(valid.filter((p) => !p.filter && (include || p.info.maturity === 'stable')));
  const active = new Set<Pending>();
  const addDeps = (p: Pending) => {
    if (active.has(p)) return;
    active.add(p);
    for (const d of deps.get(p) ?? []) addDeps(d);
  };
  for (const p of wanted) addDeps(p);
  for (const p of valid) if (!p.filter && !active.has(p)) {
    warnings.push({ file: p.doc.file, line: p.doc.line, rule: p.doc.ref, code: 'RULE_EXPERIMENTAL_SKIPPED', message: `experimental rule not loaded (enable experimental rules to run it)` });
  }

  const ordered = valid.filter((p) => active.has(p));
  const indexOf = new Map<Pending, number>(ordered.map((p, i) => [p, i]));
  const rules: CompiledRule[] = [];
  const defHashes = new Map<Pending, string>();
  const defHash = (p: Pending): string => {
    let h = defHashes.get(p);
    if (h) return h;
    const parts = [p.ownHash, ...(filtersFor.get(p) ?? []).map((f) => f.ownHash), ...(deps.get(p) ?? []).map(defHash)];
    h = sha(parts.join('|'));
    defHashes.set(p, h);
    return h;
  };

  for (const p of ordered) {
    const index = indexOf.get(p)!;
    const base = { index, info: p.info, alerts: wanted.has(p), consumers: [] as number[], suppressMs: p.info.suppress_ms!, defHash: defHash(p) };
    if (p.detection) {
      let match = p.detection.match;
      const fs = filtersFor.get(p) ?? [];
      if (fs.length) {
        // pySigma: the filter's condition is ANDed to the rule's (exclusions say `not selection`)
        const fms = fs.map((f) => f.filter!.match);
        const orig = match;
        match = (ev) => {
          if (!orig(ev)) return false;
          for (const f of fms) if (!f(ev)) return false;
          return true;
        };
      }
      const matchKey = sha(JSON.stringify([p.detection.matchHash, ...fs.map((f) => f.filter!.matchHash).sort()]));
      rules.push({ ...base, kind: 'detection', match, eq: p.detection.eq, groupGetters: p.detection.groupBy.map(fieldGetter), matchKey });
    } else {
      const c = p.correlation!;
      const srcs = deps.get(p)!;
      const groupFields = new Map<number, string[]>();
      const valueFields = new Map<number, string>();
      for (const s of srcs) {
        const si = indexOf.get(s)!;
        groupFields.set(si, c.groupBy.map((g) => {
          const a = c.aliases[g];
          return a ? (a[s.info.id] ?? a[s.info.name] ?? g) : g;
        }));
        if (c.valueField) valueFields.set(si, c.valueField);
      }
      rules.push({
        ...base, kind: 'correlation', type: c.type, sources: srcs.map((s) => indexOf.get(s)!), timespanMs: c.timespanMs,
        condition: c.condition, test: conditionTest(c.condition), groupFields, valueFields, windowKey: null,
      });
    }
  }
  // wire consumers; `generate: false` silences a base rule unless another consumer generates or it was wanted on its own and unreferenced
  const referenced = new Set<number>();
  const generated = new Set<number>();
  for (const r of rules) if (r.kind === 'correlation') {
    for (const s of new Set(r.sources)) {
      rules[s].consumers.push(r.index);
      referenced.add(s);
      if (r.info.generate) generated.add(s);
    }
  }
  for (const r of rules) if (referenced.has(r.index) && !generated.has(r.index)) r.alerts = false;
  for (const r of rules) if (r.kind === 'correlation' && r.sources.every((s) => rules[s].kind === 'detection')) {
    const srcs = r.sources.map((s) => [(rules[s] as CompiledDetection).matchKey, r.groupFields.get(s)]);
    // two sources with the same match would feed one window twice per event: not shared (rare)
    if (new Set(srcs.map((x) => x[0])).size !== srcs.length) continue;
    r.windowKey = sha(JSON.stringify([r.type, r.timespanMs, r.valueFields.get(r.sources[0]) ?? null, srcs]));
  }

  const infos = [...ordered.map((p) => p.info), ...validFilters.map((f) => f.info)];
  const hash = sha(JSON.stringify([include, sorted.map((d) => [d.file, d.text])]));
  return { ruleset: { hash, rules, infos }, errors, warnings };
}

function parseDoc(doc: ParsedDoc, warn: (code: RuleWarningCode, msg: string, path?: (string | number)[]) => void): Pending {
  const r = doc.raw;
  for (const k of Object.keys(r)) if (!KNOWN_TOP.has(k)) warn('RULE_UNKNOWN_FIELD', `unknown top-level field "${k}"`, [k]);
  if (r.id !== undefined && typeof r.id !== 'string') err('RULE_INVALID', `id must be a string`, ['id']);
  if (r.name !== undefined && typeof r.name !== 'string') err('RULE_INVALID', `name must be a string`, ['name']);
  const id = (r.id as string | undefined) ?? (r.name as string | undefined);
  if (!id) err('RULE_INVALID', `rule needs an id or a name`);
  if (r.id === undefined) warn('RULE_MISSING_ID', `no id; the name is used as id`);
  const name = (r.name as string | undefined) ?? id;
  if (typeof r.title !== 'string' || !r.title) warn('RULE_MISSING_TITLE', `no title`);
  const title = typeof r.title === 'string' && r.title ? r.title : name;
  if (doc.kind !== 'filter' && (typeof r.description !== 'string' || !r.description)) warn('RULE_MISSING_DESCRIPTION', `no description`);
  let level: Level = 'medium';
  if (r.level === undefined) {
    if (doc.kind !== 'filter') warn('RULE_MISSING_LEVEL', `no level; medium is used`);
  } else if (!LEVELS.includes(r.level as Level)) err('RULE_INVALID', `level must be one of ${LEVELS.join(', ')}`, ['level']);
  else level = r.level as Level;
  const tags = asStringList(r.tags, 'tags', ['tags']);

  const aw = (r.authwatch ?? {}) as Record<string, unknown>;
  if (typeof aw !== 'object' || Array.isArray(aw)) err('RULE_BAD_EXTENSION', `authwatch must be a map`, ['authwatch']);
  for (const k of Object.keys(aw)) if (!KNOWN_AUTHWATCH.has(k)) err('RULE_BAD_EXTENSION', `unknown authwatch key "${k}" (${[...KNOWN_AUTHWATCH].join(', ')})`, ['authwatch', k]);
  const maturity = maturityOf(r, doc.file, (c, m) => warn(c, m, ['status']));
  const response = parseResponse(aw.response);
  const suppressGiven = aw.suppress === undefined ? null : duration(aw.suppress, 'authwatch.suppress', ['authwatch', 'suppress']);

  const info: RuleInfo = {
    id, name, title, level, kind: doc.kind, file: doc.file, line: doc.line, maturity, group_by: [], timespan_ms: null,
    suppress_ms: null, response, generate: false, tags,
  };
  const ownHash = sha(JSON.stringify(r));

  if (doc.kind === 'detection') {
    const det = compileDetectionBlock(r.detection as Record<string, unknown>, ['detection']);
    const groupBy = asStringList(aw.group_by, 'authwatch.group_by', ['authwatch', 'group_by']);
    info.group_by = groupBy;
    info.suppress_ms = suppressGiven ?? DEFAULT_DETECTION_SUPPRESS_MS;
    return { doc, info, detection: { ...det, groupBy, matchHash: sha(JSON.stringify(r.detection)) }, ownHash };
  }
  if (doc.kind === 'filter') {
    const f = r.filter as Record<string, unknown>;
    if (!f || typeof f !== 'object' || Array.isArray(f)) err('RULE_BAD_FILTER', `filter must be a map with rules, selections and a condition`, ['filter']);
    if (r.authwatch !== undefined) err('RULE_BAD_EXTENSION', `filters take no authwatch block`, ['authwatch']);
    const det = compileDetectionBlock(f, ['filter'], ['rules']);
    const targets = f.rules === undefined || f.rules === 'any' ? 'any' : asStringList(f.rules, 'filter.rules', ['filter', 'rules']);
    if (Array.isArray(targets) && !targets.length) err('RULE_BAD_FILTER', `filter.rules is empty`, ['filter', 'rules']);
    const { rules: _targets, ...block } = f;
    return { doc, info, filter: { match: det.match, targets, matchHash: sha(JSON.stringify(block)) }, ownHash };
  }
  // correlation
  if (aw.group_by !== undefined) err('RULE_BAD_EXTENSION', `correlations group with correlation.group-by, not authwatch.group_by`, ['authwatch', 'group_by']);
  const c = r.correlation as Record<string, unknown>;
  const cp = ['correlation'];
  if (!c || typeof c !== 'object' || Array.isArray(c)) err('RULE_BAD_CORRELATION', `correlation must be a map`, cp);
  for (const k of Object.keys(c)) if (!KNOWN_CORRELATION.has(k)) err('RULE_BAD_CORRELATION', `unknown correlation field "${k}"`, [...cp, k]);
  const type = c.type as CorrelationType;
  if (!['event_count', 'value_count', 'temporal', 'temporal_ordered'].includes(type)) err('RULE_BAD_CORRELATION', `correlation.type must be event_count, value_count, temporal or temporal_ordered`, [...cp, 'type']);
  const refs = asStringList(c.rules, 'correlation.rules', [...cp, 'rules']);
  if (!refs.length) err('RULE_BAD_CORRELATION', `correlation.rules is empty`, [...cp, 'rules']);
  if ((type === 'temporal' || type === 'temporal_ordered') && refs.length < 2) err('RULE_BAD_CORRELATION', `${type} needs at least two rules`, [...cp, 'rules']);
  const groupBy = asStringList(c['group-by'], 'correlation.group-by', [...cp, 'group-by']);
  if (c.timespan === undefined) err('RULE_BAD_CORRELATION', `correlation.timespan is required`, cp);
  const timespanMs = duration(c.timespan, 'correlation.timespan', [...cp, 'timespan']);
  const { condition, valueField } = compileCountCondition(c.condition, type, refs.length, [...cp, 'condition']);
  const aliases: Record<string, Record<string, string>> = {};
  if (c.aliases !== undefined) {
    if (!c.aliases || typeof c.aliases !== 'object' || Array.isArray(c.aliases)) err('RULE_BAD_CORRELATION', `aliases must map alias → {rule: field}`, [...cp, 'aliases']);
    for (const [alias, m] of Object.entries(c.aliases as Record<string, unknown>)) {
      if (!m || typeof m !== 'object' || Array.isArray(m) || Object.values(m).some((x) => typeof x !== 'string')) err('RULE_BAD_CORRELATION', `alias "${alias}" must map rule names to field names`, [...cp, 'aliases', alias]);
      for (const k of Object.keys(m)) if (!refs.includes(k)) err('RULE_BAD_CORRELATION', `alias "${alias}" names rule "${k}", which is not in correlation.rules`, [...cp, 'aliases', alias, k]);
      if (!groupBy.includes(alias)) warn('RULE_UNKNOWN_FIELD', `alias "${alias}" is not used in group-by`, [...cp, 'aliases', alias]);
      aliases[alias] = m as Record<string, string>;
    }
  }
  if (c.generate !== undefined && typeof c.generate !== 'boolean') err('RULE_BAD_CORRELATION', `generate must be true or false`, [...cp, 'generate']);
  const generate = c.generate === true;
  info.group_by = groupBy;
  info.timespan_ms = timespanMs;
  info.suppress_ms = suppressGiven ?? timespanMs;
  info.generate = generate;
  return { doc, info, correlation: { type, refs, groupBy, timespanMs, condition, valueField, aliases, generate }, ownHash };
}
