// `authwatch rules lint`: load every rule (experimental ones included) and report errors and
// warnings with file, line and rule.
import { loadRuleSet } from './rule-loader.js';
import type { RuleInfo, RuleLoadError } from './types.js';

export function lintRules(dir: string): { errors: RuleLoadError[]; warnings: RuleLoadError[]; rules: RuleInfo[] } {
  const { ruleset, errors, warnings } = loadRuleSet(dir, { includeExperimental: true });
  const order = (a: RuleLoadError, b: RuleLoadError) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line);
  return { errors: [...errors].sort(order), warnings: warnings.filter((w) => w.code !== 'RULE_EXPERIMENTAL_SKIPPED').sort(order), rules: ruleset.infos };
}
