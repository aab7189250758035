// Compiles Sigma detection items (`field|mod|mod: value(s)`) and selections into closures.
// Everything rule-dependent is decided here, once; the closures only read the event.
import ipaddr from 'ipaddr.js';
import safeRegex from 'safe-regex2';
import { RuleCompileError } from './rule-errors.js';
import { compileStringTest, escapeWildcard, parseWildcard, patternLiteral, type StringTest } from './sigma-pattern.js';

export type EventLike = Record<string, unknown>;
export type Getter = (ev: EventLike) => unknown;
export type Matcher = (ev: EventLike) => boolean;

/** Strings longer than this are cut before a regex runs on them (events cap strings at 4096). */
export const REGEX_INPUT_MAX = 4096;
const KEYWORD_MAX_DEPTH = 8;

export const SUPPORTED_MODIFIERS = new Set([
  'contains', 'startswith', 'endswith', 'all', 're', 'i', 'm', 's', 'cidr', 'exists',
  'gt', 'gte', 'lt', 'lte', 'neq', 'cased', 'fieldref', 'base64', 'base64offset', 'windash',
]);
/** Real Sigma modifiers that authwatch events can't need (UTF-16 encodings of Windows logs). */
const UNSUPPORTED_MODIFIERS = new Set(['utf16le', 'utf16be', 'utf16', 'wide', 'expand']);

/**
 * Field access by dotted path into nested objects (`source.ip` reads `{source: {ip}}`); when the
 * nested walk finds nothing, a literal dotted key (`{"source.ip": ...}`) is tried.
 */
/**
 * Field paths read by the getters made while a recorder is active (see recordFieldReads); `*`
 * means a keyword search that reads every string of the event.
 */
let fieldRecorder: Set<string> | null = null;

/** Runs fn (e.g. loading a rule set) and returns the event fields its compiled rules read. */
export function recordFieldReads<T>(fn: () => T): { result: T; fields: Set<string> } {
  const outer = fieldRecorder;
  const fields = new Set<string>();
  fieldRecorder = fields;
  try {
    return { result: fn(), fields };
  } finally {
    fieldRecorder = outer;
    if (outer) for (const f of fields) outer.add(f);
  }
}

export function fieldGetter(path: string): Getter {
  fieldRecorder?.add(path);
  const parts = path.split('.');
  if (parts.length === 1) return (ev) => ev[path];
  if (parts.length === 2) {
    const a = parts[0];
    const b = parts[1];
    return (ev) => {
      const o = ev[a];
      if (o !== null && typeof o === 'object') {
        const v = (o as EventLike)[b];
        if (v !== undefined) return v;
      }
      return ev[path];
    };
  }
  return (ev) => {
    let o: unknown = ev;
    for (let i = 0; i < parts.length; i++) {
      if (o === null || typeof o !== 'object') return ev[path];
      o = (o as EventLike)[parts[i]];
    }
    return o === undefined ? ev[path] : o;
  };
}

/** The text a scalar is compared as: numbers and booleans match their decimal/`true` text. */
function scalarText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '') return Number(v);
  return NaN;
}

/** A canonical dotted-decimal IPv4 address as an unsigned 32-bit number, or -1 for anything else. */
export function ipv4Bits(s: string): number {
  const n = s.length;
  if (n < 7 || n > 15) return -1;
  let out = 0;
  let part = 0;
  let digits = 0;
  let parts = 0;
  for (let i = 0; i <= n; i++) {
    const c = i === n ? 46 : s.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || part > 255 || ++parts > 4) return -1;
      out = out * 256 + part;
      part = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      // a leading zero ("010") may mean octal to other parsers: not canonical
      if (digits === 1 && part === 0) return -1;
      part = part * 10 + (c - 48);
      if (++digits > 3) return -1;
    } else return -1;
  }
  return parts === 4 ? out : -1;
}

/** A test on one scalar element of a field value. */
type ElementTest = (e: unknown, ev: EventLike) => boolean;

interface ValueSpec {
  test: ElementTest;
  negate: boolean;
}

/** One indexable requirement: `field` (lowercased text) is one of `values`. */
export interface EqConstraint {
  field: string;
  values: string[];
}

/** What the index may use: the matcher can only be true if one of these holds (null: unknown). */
export type Constraint = EqConstraint[] | null;

export interface CompiledItem {
  match: Matcher;
  eq: Constraint;
}

const COMPARE: Record<string, (a: number, b: number) => boolean> = {
  gt: (a, b) => a > b,
  gte: (a, b) => a >= b,
  lt: (a, b) => a < b,
  lte: (a, b) => a <= b,
};

function stringElementTest(t: StringTest): ElementTest {
  return (e) => {
    if (typeof e === 'string') return t(e);
    const s = scalarText(e);
    return s !== undefined && t(s);
  };
}

function windashVariants(v: string): string[] {
  // Windows accepts -, / and the dash look-alikes for command-line flags.
  const dashes = ['-', '/', '\u2013', '\u2014', '\u2015'];
  if (!/(^|\s)-/.test(v)) return [v];
  return dashes.map((d) => v.replace(/(^|\s)-/g, (_m, pre: string) => pre + d));
}

function base64OffsetVariants(v: string): string[] {
  // The three encodings of v at byte offsets 0,1,2 inside a longer base64 string, trimmed to the
  // characters that don't depend on the neighbours (as pySigma's base64offset does).
  const buf = Buffer.from(v, 'utf8');
  const start = [0, 2, 3];
  const endTrim = [0, 3, 2];
  const out: string[] = [];
  for (let i = 0; i < 3; i++) {
    const enc = Buffer.concat([Buffer.alloc(i, 0x20), buf]).toString('base64');
    out.push(enc.slice(start[i], enc.length - endTrim[(buf.length + i) % 3]));
  }
  return out;
}

/**
 * Compile one detection item. `key` is `field|mod|mod` (field may be empty for keywords handled
 * elsewhere), `raw` the YAML value (scalar or list). `path` locates errors.
 */
export function compileItem(key: string, raw: unknown, path: (string | number)[]): CompiledItem {
  const [field, ...mods] = key.split('|');
  if (!field) throw new RuleCompileError('RULE_INVALID', `empty field name in "${key}"`, path);
  for (const m of mods) {
    if (UNSUPPORTED_MODIFIERS.has(m)) throw new RuleCompileError('RULE_UNSUPPORTED_MODIFIER', `modifier "${m}" is not supported by authwatch`, path);
    if (!SUPPORTED_MODIFIERS.has(m)) throw new RuleCompileError('RULE_UNKNOWN_MODIFIER', `unknown modifier "${m}" in "${key}"`, path);
  }
  const has = (m: string) => mods.includes(m);
  const getter = fieldGetter(field);
  const values: unknown[] = Array.isArray(raw) ? raw : [raw];
  if (values.length === 0) throw new RuleCompileError('RULE_BAD_VALUE', `"${key}" has an empty value list`, path);
  const all = has('all');
  const reSubs = mods.filter((m) => m === 'i' || m === 'm' || m === 's');
  if (reSubs.length && !has('re')) throw new RuleCompileError('RULE_BAD_MODIFIER', `modifiers i/m/s only apply with |re`, path);
  const position = mods.filter((m) => m === 'contains' || m === 'startswith' || m === 'endswith');
  if (position.length > 1) throw new RuleCompileError('RULE_BAD_MODIFIER', `conflicting modifiers ${position.join(', ')}`, path);
  const cmp = mods.filter((m) => m in COMPARE);
  if (cmp.length > 1) throw new RuleCompileError('RULE_BAD_MODIFIER', `conflicting modifiers ${cmp.join(', ')}`, path);
  const kinds = [has('re'), has('cidr'), has('exists'), cmp.length > 0, has('fieldref')].filter(Boolean).length;
  if (kinds > 1) throw new RuleCompileError('RULE_BAD_MODIFIER', `modifiers re/cidr/exists/gt../fieldref can't be combined in "${key}"`, path);

  if (has('exists')) {
    if (values.length !== 1 || typeof values[0] !== 'boolean') throw new RuleCompileError('RULE_BAD_VALUE', `|exists takes true or false`, path);
    const want = values[0];
    return { match: (ev) => { const v = getter(ev); return (v !== undefined && v !== null) === want; }, eq: null };
  }

  const negate = has('neq');
  const cased = has('cased');
  const specs: ValueSpec[] = [];
  let eqValues: string[] | null = mods.every((m) => m === 'cased') ? [] : null;

  for (let vi = 0; vi < values.length; vi++) {
    const v = values[vi];
    const vpath = Array.isArray(raw) ? [...path, vi] : path;
    if (v === null) {
      if (mods.some((m) => m !== 'all' && m !== 'neq')) throw new RuleCompileError('RULE_BAD_VALUE', `null can't be combined with modifiers in "${key}"`, vpath);
      specs.push({ test: (e) => e === undefined || e === null, negate });
      eqValues = null;
      continue;
    }
    if (typeof v === 'object') throw new RuleCompileError('RULE_BAD_VALUE', `"${key}": values must be strings, numbers, booleans or null`, vpath);

    if (cmp.length) {
      const n = toNumber(v);
      if (!Number.isFinite(n)) throw new RuleCompileError('RULE_BAD_VALUE', `|${cmp[0]} needs a number, got ${JSON.stringify(v)}`, vpath);
      const op = COMPARE[cmp[0]];
      specs.push({ test: (e) => { const x = toNumber(e); return x === x && op(x, n); }, negate });
      continue;
    }
    if (has('cidr')) {
      const text = String(v);
      let range: [ipaddr.IPv4 | ipaddr.IPv6, number];
      try {
        range = ipaddr.parseCIDR(text);
      } catch {
        throw new RuleCompileError('RULE_BAD_CIDR', `invalid CIDR ${JSON.stringify(text)}`, vpath);
      }
      const kind = range[0].kind();
      // IPv4 ranges: canonical dotted quads (the usual input) are tested with integer masks;
      // anything else goes through ipaddr.js, which also accepts octal/hex and v4-mapped forms
      const net = kind === 'ipv4' ? ipv4Bits((range[0] as ipaddr.IPv4).toString()) : -1;
      const maskBits = kind === 'ipv4' && range[1] > 0 ? (~0 << (32 - range[1])) >>> 0 : 0;
      specs.push({
        test: (e) => {
          if (typeof e !== 'string') return false;
          if (net >= 0) {
            const x = ipv4Bits(e);
            if (x >= 0) return ((x & maskBits) >>> 0) === ((net & maskBits) >>> 0);
          }
          if (!ipaddr.isValid(e)) return false;
          const a = ipaddr.process(e); // v4-mapped v6 addresses compare as v4
          return a.kind() === kind && a.match(range);
        },
        negate,
      });
      continue;
    }
    if (has('re')) {
      if (typeof v !== 'string') throw new RuleCompileError('RULE_BAD_VALUE', `|re needs a string`, vpath);
      let re: RegExp;
      try {
        re = new RegExp(v, reSubs.join(''));
      } catch (err) {
        throw new RuleCompileError('RULE_BAD_REGEX', `invalid regular expression: ${(err as Error).message}`, vpath);
      }
      if (!safeRegex(re)) throw new RuleCompileError('RULE_UNSAFE_REGEX', `regular expression ${JSON.stringify(v)} may backtrack catastrophically`, vpath);
      specs.push({
        test: (e) => {
          const s = scalarText(e);
          if (s === undefined) return false;
          return re.test(s.length > REGEX_INPUT_MAX ? s.slice(0, REGEX_INPUT_MAX) : s);
        },
        negate,
      });
      continue;
    }

    let texts = [String(v)];
    if (has('fieldref')) {
      const other = fieldGetter(String(v));
      const pos = position[0];
      specs.push({
        test: (e, ev) => {
          const a = scalarText(e);
          const b = scalarText(other(ev));
          if (a === undefined || b === undefined) return false;
          const x = cased ? a : a.toLowerCase();
          const y = cased ? b : b.toLowerCase();
          return pos === 'contains' ? x.includes(y) : pos === 'startswith' ? x.startsWith(y) : pos === 'endswith' ? x.endsWith(y) : x === y;
        },
        negate,
      });
      continue;
    }
    if (has('windash')) texts = texts.flatMap(windashVariants);
    if (has('base64')) texts = texts.map((t) => escapeWildcard(Buffer.from(t, 'utf8').toString('base64')));
    if (has('base64offset')) texts = texts.flatMap((t) => base64OffsetVariants(t).map(escapeWildcard));
    // base64 output is case-sensitive by nature
    const caseSensitive = cased || has('base64') || has('base64offset');
    const tests: StringTest[] = [];
    for (let t of texts) {
      if (position[0] === 'contains') t = '*' + t + '*';
      else if (position[0] === 'startswith') t = t + '*';
      else if (position[0] === 'endswith') t = '*' + t;
      const p = parseWildcard(t);
      const l = patternLiteral(p);
      if (eqValues && l !== null && !negate) eqValues.push(l.toLowerCase());
      else eqValues = null;
      tests.push(compileStringTest(p, caseSensitive));
    }
    const t = tests.length === 1 ? tests[0] : (s: string) => tests.some((f) => f(s));
    specs.push({ test: stringElementTest(t), negate });
  }

  const matchOne = (spec: ValueSpec, fv: unknown, ev: EventLike): boolean => {
    let r: boolean;
    if (Array.isArray(fv)) {
      // array-valued field: a value matches when any element matches
      r = false;
      for (let i = 0; i < fv.length; i++) if (spec.test(fv[i], ev)) { r = true; break; }
    } else r = spec.test(fv, ev);
    return spec.negate ? !r : r;
  };

  let match: Matcher;
  if (specs.length === 1) {
    const s = specs[0];
    const t = s.test;
    match = s.negate
      ? (ev) => matchOne(s, getter(ev), ev)
      : (ev) => { const fv = getter(ev); return Array.isArray(fv) ? matchOne(s, fv, ev) : t(fv, ev); };
  } else if (all) {
    match = (ev) => { const fv = getter(ev); for (const s of specs) if (!matchOne(s, fv, ev)) return false; return true; };
  } else {
    match = (ev) => { const fv = getter(ev); for (const s of specs) if (matchOne(s, fv, ev)) return true; return false; };
  }
  const eq = eqValues && eqValues.length && !(all && eqValues.length > 1) ? [{ field, values: eqValues }] : null;
  return { match, eq };
}

/** Keywords (a plain list of strings): match when any string leaf of the event matches one. */
export function compileKeywords(raw: unknown, path: (string | number)[]): CompiledItem {
  fieldRecorder?.add('*');
  const values = Array.isArray(raw) ? raw : [raw];
  const tests: StringTest[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || typeof v === 'object') throw new RuleCompileError('RULE_BAD_VALUE', `keywords must be strings or numbers`, [...path, i]);
    tests.push(compileStringTest(parseWildcard(String(v)), false));
  }
  const anyLeaf = (o: unknown, depth: number): boolean => {
    if (typeof o === 'string') {
      for (const t of tests) if (t(o)) return true;
      return false;
    }
    if (o === null || typeof o !== 'object' || depth > KEYWORD_MAX_DEPTH) return false;
    if (Array.isArray(o)) {
      for (const x of o) if (anyLeaf(x, depth + 1)) return true;
      return false;
    }
    for (const k in o) if (anyLeaf((o as EventLike)[k], depth + 1)) return true;
    return false;
  };
  return { match: (ev) => anyLeaf(ev, 0), eq: null };
}

/** Under AND any one child's requirement is valid: take the most selective (preferred fields first). */
export function andConstraint(cs: Constraint[], prefer: string[]): Constraint {
  let best: EqConstraint[] | null = null;
  let bestScore = Infinity;
  for (const c of cs) {
    if (!c) continue;
    const rank = Math.max(...c.map((x) => (prefer.includes(x.field) ? prefer.indexOf(x.field) : prefer.length)));
    const score = rank * 1e6 + c.reduce((n, x) => n + x.values.length, 0);
    if (score < bestScore) {
      bestScore = score;
      best = c;
    }
  }
  return best;
}

/** Under OR every branch needs a requirement; the result is any of them (same fields merged). */
export function orConstraint(cs: Constraint[]): Constraint {
  if (!cs.length || cs.some((c) => c === null)) return null;
  const byField = new Map<string, Set<string>>();
  for (const c of cs) for (const x of c!) {
    const set = byField.get(x.field) ?? new Set<string>();
    for (const v of x.values) set.add(v);
    byField.set(x.field, set);
  }
  return [...byField].map(([field, values]) => ({ field, values: [...values] }));
}

/** A selection (search identifier): a map (AND of items), a list of maps (OR), or keywords. */
export function compileSelection(raw: unknown, path: (string | number)[], prefer: string[]): CompiledItem {
  if (raw === null || raw === undefined) throw new RuleCompileError('RULE_BAD_VALUE', `selection is empty`, path);
  if (Array.isArray(raw)) {
    if (raw.length === 0) throw new RuleCompileError('RULE_BAD_VALUE', `selection is an empty list`, path);
    if (raw.every((x) => x !== null && typeof x === 'object' && !Array.isArray(x))) {
      const parts = raw.map((m, i) => compileMap(m as Record<string, unknown>, [...path, i], prefer));
      const fns = parts.map((p) => p.match);
      return { match: (ev) => { for (const f of fns) if (f(ev)) return true; return false; }, eq: orConstraint(parts.map((p) => p.eq)) };
    }
    if (raw.some((x) => x !== null && typeof x === 'object')) throw new RuleCompileError('RULE_BAD_VALUE', `a selection list must hold only maps or only keywords`, path);
    return compileKeywords(raw, path);
  }
  if (typeof raw === 'object') return compileMap(raw as Record<string, unknown>, path, prefer);
  return compileKeywords(raw, path);
}

function compileMap(m: Record<string, unknown>, path: (string | number)[], prefer: string[]): CompiledItem {
  const keys = Object.keys(m);
  if (!keys.length) throw new RuleCompileError('RULE_BAD_VALUE', `selection map is empty`, path);
  const items = keys.map((k) => compileItem(k, m[k], [...path, k]));
  const fns = items.map((i) => i.match);
  let match: Matcher;
  if (fns.length === 1) match = fns[0];
  else if (fns.length === 2) { const [a, b] = fns; match = (ev) => a(ev) && b(ev); }
  else match = (ev) => { for (const f of fns) if (!f(ev)) return false; return true; };
  return { match, eq: andConstraint(items.map((i) => i.eq), prefer) };
}
