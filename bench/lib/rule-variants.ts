// Writes a rules directory with exactly N detection/correlation rules, made from the default
// pack's rule files: each copy gets new names and ids (references inside correlations follow)
// and a slightly different threshold, so the engine cannot share state between copies. Used to
// show how cost per event grows with the number of rules loaded.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';

interface RuleFile {
  name: string;
  docs: Record<string, unknown>[];
}

function uuidFrom(s: string): string {
  const h = createHash('sha256').update(s).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export function packFiles(rulesDir: string): RuleFile[] {
  const out: RuleFile[] = [];
  for (const sub of ['stable', 'experimental']) {
    let names: string[] = [];
    try {
      names = readdirSync(join(rulesDir, sub)).filter((f) => /\.ya?ml$/.test(f)).sort();
    } catch {
      continue;
    }
    for (const f of names) {
      const docs = YAML.parseAllDocuments(readFileSync(join(rulesDir, sub, f), 'utf8')).map((d) => d.toJS() as Record<string, unknown>);
      out.push({ name: f.replace(/\.ya?ml$/, ''), docs });
    }
  }
  return out;
}

function variant(file: RuleFile, k: number): Record<string, unknown>[] {
  const suffix = `-v${k}`;
  const names = new Set(file.docs.map((d) => String(d.name)));
  return file.docs.map((d) => {
    const c = structuredClone(d);
    c.name = `${String(d.name)}${suffix}`;
    c.id = uuidFrom(`${String(d.id)}${suffix}`);
    c.title = `${String(d.title)} (variant ${k})`;
    const corr = c.correlation as Record<string, unknown> | undefined;
    if (corr) {
      if (Array.isArray(corr.rules)) corr.rules = corr.rules.map((r: unknown) => (names.has(String(r)) ? `${String(r)}${suffix}` : r));
      const cond = corr.condition as Record<string, unknown> | undefined;
      if (cond && typeof cond.gte === 'number') cond.gte = cond.gte + (k % 3);
    }
    return c;
  });
}

/** Writes `count` rules (YAML documents) into dir; returns the number written. */
export function writeRuleVariants(rulesDir: string, dir: string, count: number): number {
  const files = packFiles(rulesDir);
  if (files.length === 0) throw new Error(`no rule files under ${rulesDir}/stable or /experimental`);
  const singles = files.filter((f) => f.docs.length === 1);
  mkdirSync(dir, { recursive: true });
  let written = 0;
  let i = 0;
  while (written < count) {
    let f = files[i % files.length];
    const left = count - written;
    if (f.docs.length > left) {
      const fit = singles.find((s) => s.docs.length <= left);
      if (!fit) break;
      f = fit;
    }
    // the variant number is unique per written file, so names and ids never collide
    const docs = variant(f, i);
    writeFileSync(join(dir, `${f.name}-v${i}.yml`), docs.map((d) => YAML.stringify(d)).join('---\n'));
    written += docs.length;
    i++;
  }
  return written;
}

// ---- distinct rules ------------------------------------------------------------------------
// A large real pack is mostly distinct rules, each narrow: this route with that failure, this
// IdP client's errors. writeDistinctRules makes N such rules over the value space of
// datagen.authwatchLines (routes, auth results, observers, IdP clients), so every rule is a
// different selection (no sharing between them) and most events match only a few rules.

const ROUTES = ['/api/v1/orders/{id}', '/api/v1/orders', '/api/v1/customers/{id}', '/api/v1/catalog', '/api/v1/catalog/{sku}', '/api/v1/payments', '/api/v1/reports/{id}', '/api/v1/sessions/{id}'];
const RESULTS = ['missing_token', 'expired', 'bad_signature', 'malformed_token', 'unknown_kid', 'wrong_issuer', 'wrong_audience', 'insufficient_scope', 'revoked', 'ok'];
const OBSERVERS = ['edge-eu-1', 'edge-eu-2', 'edge-us-1', 'edge-us-2'];

function distinctDocs(k: number, kind = k & 3): Record<string, unknown>[] {
  const id = (s: string) => uuidFrom(`distinct-${k}-${s}`);
  const combo = k >> 2; // the k-th combination of route and result; each kind its own observer
  const route = ROUTES[combo % ROUTES.length];
  const result = RESULTS[Math.floor(combo / ROUTES.length) % RESULTS.length];
  const observer = OBSERVERS[(Math.floor(combo / (ROUTES.length * RESULTS.length)) + kind) % OBSERVERS.length];
  const base = { description: 'generated distinct rule (benchmark)', status: 'stable' };
  switch (kind) {
    case 0: // one alert per source and route/result/observer
      return [{ ...base, title: `route ${route} ${result} at ${observer}`, id: id('d'), name: `distinct-${k}`, level: 'low',
        detection: { sel: { 'http.route': route, 'auth.result': result, 'observer.name': observer }, condition: 'sel' },
        authwatch: { group_by: ['source.ip'] } }];
    case 1: // a burst of one failure on one route, per source
    case 2: {
      const name = `distinct-${k}-base`;
      return [
        { ...base, title: `base ${k}`, id: id('b'), name, level: 'low',
          detection: { sel: { 'http.route': route, 'auth.result': result, 'observer.name': observer }, condition: 'sel' } },
        { ...base, title: `burst ${route} ${result} at ${observer}`, id: id('c'), name: `distinct-${k}`, level: 'medium',
          correlation: { type: k & 1 ? 'event_count' : 'value_count', rules: [name], 'group-by': k & 1 ? ['source.ip'] : ['token.fp'], timespan: '1m',
            condition: k & 1 ? { gte: 5 + (k % 7) } : { field: 'source.ip', gte: 3 } } },
      ];
    }
    default: // one IdP client's failed client authentications, per source
      return [{ ...base, title: `client app-${combo % 200} failing`, id: id('i'), name: `distinct-${k}`, level: 'medium',
        detection: { sel: { 'idp.client_id': `app-${combo % 200}`, 'idp.error': 'invalid_client' }, condition: 'sel' },
        authwatch: { group_by: ['source.ip'] } }];
  }
}

/** Writes exactly `count` distinct rules (YAML documents) into dir; returns the number written. */
export function writeDistinctRules(dir: string, count: number): number {
  mkdirSync(dir, { recursive: true });
  let written = 0;
  for (let k = 0; written < count; k++) {
    let docs = distinctDocs(k);
    if (docs.length > count - written) docs = distinctDocs(k, 0); // a one-document kind fits
    writeFileSync(join(dir, `distinct-${k}.yml`), docs.map((d) => YAML.stringify(d)).join('---\n'));
    written += docs.length;
  }
  return written;
}
