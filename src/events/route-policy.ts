// Route classification (public / protected / restricted) for events whose producer did not
// say. Patterns are globs on the templated route: `*` is one path segment, `**` any number
// of segments; the first matching entry wins. Compiled once at start-up.
import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import { ROUTE_CLASSES, type RouteClass } from './event.js';
import type { Config } from '../config/config.js';

export interface RoutePolicy {
  classify(method: string | undefined, route: string): RouteClass | undefined;
  /** number of compiled entries (for the start-up log) */
  readonly size: number;
}

export class RoutePolicyError extends Error {
  readonly code = 'ROUTE_POLICY_INVALID';
}

interface Entry {
  re: RegExp;
  methods: Set<string> | undefined;
  cls: RouteClass;
}

const escapeRe = (s: string) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&');

/** The glob as an anchored regex; exported for tests. */
export function globToRegExp(pattern: string): RegExp {
  // adjacent `**` mean the same as one, and would nest quantifiers (slow on long routes)
  const parts = pattern.replace(/^\/+/, '').split('/').filter((p, i, a) => !(p === '**' && a[i - 1] === '**'));
  let src = '^';
  for (const p of parts) {
    if (p === '**') src += '(?:/[^/]*)*';
    else if (p === '*') src += '/[^/]+';
    else src += '/' + p.split('*').map(escapeRe).join('[^/]*');
  }
  return new RegExp(src + '/?$');
}

type RawEntry = { pattern?: unknown; methods?: unknown; class?: unknown };

function compileEntry(raw: RawEntry, where: string): Entry {
  if (raw === null || typeof raw !== 'object') throw new RoutePolicyError(`${where}: must be a mapping with pattern and class`);
  if (typeof raw.pattern !== 'string' || raw.pattern.length === 0) throw new RoutePolicyError(`${where}: pattern must be a non-empty string`);
  if (!raw.pattern.startsWith('/')) throw new RoutePolicyError(`${where}: pattern "${raw.pattern}" must start with /`);
  if (!ROUTE_CLASSES.includes(raw.class as RouteClass)) throw new RoutePolicyError(`${where}: class must be one of ${ROUTE_CLASSES.join(', ')}`);
  let methods: Set<string> | undefined;
  if (raw.methods !== undefined) {
    if (!Array.isArray(raw.methods) || raw.methods.some((m) => typeof m !== 'string' || m.length === 0)) {
      throw new RoutePolicyError(`${where}: methods must be a list of HTTP methods`);
    }
    methods = new Set(raw.methods.map((m: string) => m.toUpperCase()));
  }
  return { re: globToRegExp(raw.pattern), methods, cls: raw.class as RouteClass };
}

function readPolicyFile(file: string): { routes: RawEntry[]; default_class?: unknown } {
  let doc: unknown;
  try {
    doc = YAML.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new RoutePolicyError(`route policy file ${file}: ${(err as Error).message}`);
  }
  if (doc === null || doc === undefined) return { routes: [] };
  // either a list of entries or {routes: [...], default_class?}
  if (Array.isArray(doc)) return { routes: doc };
  if (typeof doc !== 'object' || !Array.isArray((doc as { routes?: unknown }).routes)) {
    throw new RoutePolicyError(`route policy file ${file}: expected a list of routes or a mapping with "routes"`);
  }
  const d = doc as { routes: RawEntry[]; default_class?: unknown };
  return { routes: d.routes, default_class: d.default_class };
}

/**
 * Compile the configured policy: inline `route_policy.routes` first, then the entries of
 * `route_policy.file`; routes no entry matches get `default_class` (config, then file) or none.
 */
export function compileRoutePolicy(cfg: Config['route_policy']): RoutePolicy {
  const entries: Entry[] = cfg.routes.map((r, i) => compileEntry(r, `route_policy.routes[${i}]`));
  let defaultClass: RouteClass | undefined = cfg.default_class;
  if (cfg.file) {
    const f = readPolicyFile(cfg.file);
    f.routes.forEach((r, i) => entries.push(compileEntry(r, `route policy file ${cfg.file}: routes[${i}]${typeof r?.pattern === 'string' ? ` (${r.pattern})` : ''}`)));
    if (defaultClass === undefined && f.default_class !== undefined) {
      if (!ROUTE_CLASSES.includes(f.default_class as RouteClass)) throw new RoutePolicyError(`route policy file ${cfg.file}: default_class must be one of ${ROUTE_CLASSES.join(', ')}`);
      defaultClass = f.default_class as RouteClass;
    }
  }
  return {
    size: entries.length,
    classify(method, route) {
      const m = method?.toUpperCase();
      for (const e of entries) {
        if (e.methods && (!m || !e.methods.has(m))) continue;
        if (e.re.test(route)) return e.cls;
      }
      return defaultClass;
    },
  };
}
