// Reads a rules directory (I/O) and hands the files to the pure compiler. Every *.yml/*.yaml
// file below dir is read, except inside folders named `*.fixtures` or `tests` (rule fixtures).
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { compileRuleSet, type CompileOptions, type CompileResult } from './rule-compiler.js';

export { compileRuleSet } from './rule-compiler.js';
export type { CompiledRuleSet, CompileOptions, CompileResult } from './rule-compiler.js';

function ruleFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    const entries = readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) {
        if (e.name.endsWith('.fixtures') || e.name === 'tests' || e.name === 'node_modules' || e.name.startsWith('.')) continue;
        walk(p);
      } else if (e.isFile() && /\.ya?ml$/i.test(e.name)) out.push(p);
    }
  };
  walk(dir);
  return out;
}

/** Load every rule file under dir. A missing or unreadable dir is an error, not an empty rule set. */
export function loadRuleSet(dir: string, opts: CompileOptions = {}): CompileResult {
  let files: string[];
  try {
    files = ruleFiles(dir);
  } catch (e) {
    const r = compileRuleSet([], opts);
    r.errors.push({ file: dir, line: 0, rule: null, code: 'RULE_DIR_UNREADABLE', message: (e as Error).message });
    return r;
  }
  const docs = files.map((f) => ({ file: relative(dir, f).split(sep).join('/'), text: readFileSync(f, 'utf8') }));
  return compileRuleSet(docs, opts);
}
