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
