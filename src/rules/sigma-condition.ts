// The Sigma condition grammar, precedence `not` > `and` > `or`:
//   expr    := and ('or' and)*
//   and     := unary ('and' unary)*
//   unary   := 'not' unary | '(' expr ')' | quant 'of' (pattern | 'them') | name
//   quant   := '1' | 'any' | 'all'
// Names are search identifiers; a pattern may use `*`. `them` and patterns skip names starting
// with `_` (a pattern that itself starts with `_` may match them).
import { RuleCompileError } from './rule-errors.js';
import { andConstraint, orConstraint, type CompiledItem, type EventLike, type Matcher } from './sigma-matcher.js';

export type ConditionNode =
  | { t: 'id'; name: string }
  | { t: 'not'; e: ConditionNode }
  | { t: 'and'; es: ConditionNode[] }
  | { t: 'or'; es: ConditionNode[] }
  | { t: 'of'; all: boolean; names: string[] };

const TOKEN_RE = /\s*(\(|\)|[^\s()]+)/gy;

function tokenize(text: string, path: (string | number)[]): string[] {
  const out: string[] = [];
  TOKEN_RE.lastIndex = 0;
  let m: RegExpExecArray | null;
  while (TOKEN_RE.lastIndex < text.length && (m = TOKEN_RE.exec(text))) out.push(m[1]);
  if (text.trim() !== '' && out.length === 0) throw new RuleCompileError('RULE_BAD_CONDITION', `can't read condition "${text}"`, path);
  return out;
}

function globToRegExp(p: string): RegExp {
  return new RegExp('^' + p.replace(/[.+^${}()|[\]\\?]/g, '\\$&').replace(/\*/g, '.*') + '$');
}

/** Parse a condition against the rule's selection names (unknown names are errors). */
export function parseCondition(text: string, names: readonly string[], path: (string | number)[]): ConditionNode {
  if (typeof text !== 'string' || text.trim() === '') throw new RuleCompileError('RULE_BAD_CONDITION', `condition is empty`, path);
  if (text.includes('|')) throw new RuleCompileError('RULE_BAD_CONDITION', `aggregations ("| count() ...") are not supported; write a correlation rule`, path);
  const toks = tokenize(text, path);
  let i = 0;
  const fail = (msg: string): never => {
    throw new RuleCompileError('RULE_BAD_CONDITION', `${msg} in condition "${text}"`, path);
  };
  const peek = () => (i < toks.length ? toks[i].toLowerCase() : undefined);
  const KEYWORDS = new Set(['and', 'or', 'not', 'of', '(', ')']);

  const resolve = (pattern: string): string[] => {
    if (pattern.toLowerCase() === 'them') {
      const r = names.filter((n) => !n.startsWith('_'));
      if (!r.length) fail(`"them" matches no search identifier`);
      return r;
    }
    const re = globToRegExp(pattern);
    const r = names.filter((n) => re.test(n) && (pattern.startsWith('_') || !n.startsWith('_')));
    if (!r.length) throw new RuleCompileError('RULE_UNKNOWN_SELECTION', `"${pattern}" matches no search identifier (have: ${names.join(', ')})`, path);
    return r;
  };

  const unary = (): ConditionNode => {
    const t = peek();
    if (t === undefined) return fail('unexpected end');
    if (t === 'not') {
      i++;
      return { t: 'not', e: unary() };
    }
    if (t === '(') {
      i++;
      const e = expr();
      if (peek() !== ')') fail('missing ")"');
      i++;
      return e;
    }
    if (t === ')' || t === 'and' || t === 'or' || t === 'of') return fail(`unexpected "${toks[i]}"`);
    if ((t === '1' || t === 'all' || t === 'any') && toks[i + 1]?.toLowerCase() === 'of') {
      i += 2;
      const target = toks[i];
      if (target === undefined || KEYWORDS.has(target.toLowerCase())) fail(`"of" needs a pattern or "them"`);
      i++;
      return { t: 'of', all: t === 'all', names: resolve(target) };
    }
    if (/^\d+$/.test(t) && toks[i + 1]?.toLowerCase() === 'of') fail(`only "1 of" and "all of" are defined`);
    const name = toks[i++];
    if (name.includes('*')) fail(`pattern "${name}" needs "1 of" or "all of"`);
    if (!names.includes(name)) throw new RuleCompileError('RULE_UNKNOWN_SELECTION', `condition names "${name}", which is not a search identifier (have: ${names.join(', ')})`, path);
    return { t: 'id', name };
  };
  const and = (): ConditionNode => {
    const es = [unary()];
    while (peek() === 'and') {
      i++;
      es.push(unary());
    }
    return es.length === 1 ? es[0] : { t: 'and', es };
  };
  const expr = (): ConditionNode => {
    const es = [and()];
    while (peek() === 'or') {
      i++;
      es.push(and());
    }
    return es.length === 1 ? es[0] : { t: 'or', es };
  };
  const root = expr();
  if (i < toks.length) fail(`unexpected "${toks[i]}"`);
  return root;
}

function allOf(fns: Matcher[]): Matcher {
  if (fns.length === 1) return fns[0];
  if (fns.length === 2) {
    const [a, b] = fns;
    return (ev) => a(ev) && b(ev);
  }
  return (ev) => {
    for (const f of fns) if (!f(ev)) return false;
    return true;
  };
}

function anyOf(fns: Matcher[]): Matcher {
  if (fns.length === 1) return fns[0];
  if (fns.length === 2) {
    const [a, b] = fns;
    return (ev) => a(ev) || b(ev);
  }
  return (ev) => {
    for (const f of fns) if (f(ev)) return true;
    return false;
  };
}

/** Compile a parsed condition into one matcher plus the index constraint it implies. */
export function compileCondition(node: ConditionNode, sels: ReadonlyMap<string, CompiledItem>, prefer: string[]): CompiledItem {
  switch (node.t) {
    case 'id':
      return sels.get(node.name)!;
    case 'not': {
      const inner = compileCondition(node.e, sels, prefer).match;
      return { match: (ev: EventLike) => !inner(ev), eq: null };
    }
    case 'and': {
      const parts = node.es.map((e) => compileCondition(e, sels, prefer));
      return { match: allOf(parts.map((p) => p.match)), eq: andConstraint(parts.map((p) => p.eq), prefer) };
    }
    case 'or': {
      const parts = node.es.map((e) => compileCondition(e, sels, prefer));
      return { match: anyOf(parts.map((p) => p.match)), eq: orConstraint(parts.map((p) => p.eq)) };
    }
    case 'of': {
      const parts = node.names.map((n) => sels.get(n)!);
      return node.all
        ? { match: allOf(parts.map((p) => p.match)), eq: andConstraint(parts.map((p) => p.eq), prefer) }
        : { match: anyOf(parts.map((p) => p.match)), eq: orConstraint(parts.map((p) => p.eq)) };
    }
  }
}

