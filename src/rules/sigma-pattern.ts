// Sigma string values: whole-value matching with `*` (any run) and `?` (one character)
// wildcards, `\` escapes, case-insensitive unless `cased`. Compiled once per value into the
// cheapest test that implements it (equality, startsWith, endsWith, includes, or a linear-time
// glob walk); no regular expression is built from rule text here.

export type StringTest = (s: string) => boolean;

const STAR = -1;
const QMARK = -2;

/** Parsed pattern: literal char codes and wildcard markers. */
export interface ParsedPattern {
  codes: number[];
  hasWildcard: boolean;
}

/**
 * Sigma escaping: `\*` and `\?` are literal wildcard characters, `\\` is one literal backslash,
 * and a backslash before any other character is itself literal (so Windows paths need no doubling).
 */
export function parseWildcard(text: string): ParsedPattern {
  const codes: number[] = [];
  let hasWildcard = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 92 /* \ */) {
      const n = text.charCodeAt(i + 1);
      if (n === 42 || n === 63 || n === 92) {
        codes.push(n);
        i++;
      } else codes.push(92);
    } else if (c === 42) {
      codes.push(STAR);
      hasWildcard = true;
    } else if (c === 63) {
      codes.push(QMARK);
      hasWildcard = true;
    } else codes.push(c);
  }
  return { codes, hasWildcard };
}

/** Escape a literal so parseWildcard reads it back verbatim (used for base64/fieldref values). */
export function escapeWildcard(literal: string): string {
  return literal.replace(/[\\*?]/g, (m) => '\\' + m);
}

function lit(codes: number[]): string {
  return String.fromCharCode(...codes);
}

/** The literal text of a wildcard-free pattern (for index keys). */
export function patternLiteral(p: ParsedPattern): string | null {
  return p.hasWildcard ? null : lit(p.codes);
}

export function compileStringTest(p: ParsedPattern, cased: boolean): StringTest {
  const fold = (s: string) => (cased ? s : s.toLowerCase());
  const codes = cased ? p.codes : p.codes.map((c) => (c >= 0 ? fold(String.fromCharCode(c)).charCodeAt(0) : c));
  if (!p.hasWildcard) {
    const l = lit(codes);
    return cased ? (s) => s === l : (s) => s === l || (s.length === l.length && s.toLowerCase() === l);
  }
  const stars = codes.filter((c) => c === STAR).length;
  const qs = codes.filter((c) => c === QMARK).length;
  if (qs === 0) {
    if (codes.length === 1) return () => true; // "*"
    const first = codes[0] === STAR;
    const last = codes[codes.length - 1] === STAR;
    if (stars === 2 && first && last) {
      const l = lit(codes.slice(1, -1));
      return cased ? (s) => s.includes(l) : (s) => s.toLowerCase().includes(l);
    }
    if (stars === 1 && last) {
      const l = lit(codes.slice(0, -1));
      return cased ? (s) => s.startsWith(l) : (s) => s.length >= l.length && s.slice(0, l.length).toLowerCase() === l;
    }
    if (stars === 1 && first) {
      const l = lit(codes.slice(1));
      return cased ? (s) => s.endsWith(l) : (s) => s.length >= l.length && s.slice(s.length - l.length).toLowerCase() === l;
    }
  }
  return cased ? (s) => globMatch(codes, s) : (s) => globMatch(codes, s.toLowerCase());
}

/** Iterative wildcard match with single-star backtracking: O(len(s) * len(pattern)) worst case. */
function globMatch(p: number[], s: string): boolean {
  let pi = 0;
  let si = 0;
  let starP = -1;
  let starS = 0;
  const pl = p.length;
  const sl = s.length;
  while (si < sl) {
    if (pi < pl && (p[pi] === QMARK || p[pi] === s.charCodeAt(si))) {
      pi++;
      si++;
    } else if (pi < pl && p[pi] === STAR) {
      starP = pi++;
      starS = si;
    } else if (starP >= 0) {
      pi = starP + 1;
      si = ++starS;
    } else return false;
  }
  while (pi < pl && p[pi] === STAR) pi++;
  return pi === pl;
}
