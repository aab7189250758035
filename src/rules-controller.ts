// Hot reload of the rule set for the running service: load and compile the rules dir, and only
// when it compiles cleanly swap the pipeline's engine. A broken rule file never replaces
// working rules; the errors are returned (API) and logged (file watch), and counted.
import { watch, type FSWatcher } from 'node:fs';
import type { RulesController } from './delivery/api/deps.js';
import type { Logger } from './observability/logger.js';
import type { Metrics } from './observability/metrics.js';
import type { Pipeline } from './pipeline.js';
import type { RuleEngine, RuleInfo, RuleLoadError } from './rules/types.js';

/** Builds an engine from the rules on disk; `previous` lets the engine carry window state when it can. */
export type EngineBuilder = (previous: RuleEngine | null) => Promise<{ engine: RuleEngine | null; errors: RuleLoadError[] }>;

export interface RulesControllerOptions {
  pipeline: Pipeline;
  build: EngineBuilder;
  metrics?: Metrics;
  logger?: Logger;
  /** watch this dir and reload on changes (debounced) */
  watchDir?: string;
  debounceMs?: number;
}

export interface ManagedRulesController extends RulesController {
  close(): void;
}

export function setRulesGauge(metrics: Metrics | undefined, rules: readonly RuleInfo[]): void {
  if (!metrics) return;
  metrics.rulesLoaded.reset();
  for (const kind of ['detection', 'correlation', 'filter'] as const) metrics.rulesLoaded.set({ kind }, rules.filter((r) => r.kind === kind).length);
}

export function createRulesController(o: RulesControllerOptions): ManagedRulesController {
  let last: { at: string | null; ok: boolean; errors: RuleLoadError[] } = { at: null, ok: true, errors: [] };
  let chain: Promise<unknown> = Promise.resolve();
  let watcher: FSWatcher | null = null;
  let timer: NodeJS.Timeout | null = null;
  setRulesGauge(o.metrics, o.pipeline.ruleEngine.rules);

  async function doReload(): Promise<{ ok: boolean; errors: RuleLoadError[]; rules: number }> {
    const at = new Date().toISOString();
    let built: { engine: RuleEngine | null; errors: RuleLoadError[] };
    try {
      built = await o.build(o.pipeline.ruleEngine);
    } catch (err) {
      built = { engine: null, errors: [{ file: '', line: 0, rule: null, code: 'RULE_LOAD_FAILED', message: (err as Error).message }] };
    }
    if (built.errors.length > 0 || !built.engine) {
      const errors = built.errors.length ? built.errors : [{ file: '', line: 0, rule: null, code: 'RULE_LOAD_FAILED', message: 'no engine was built' }];
      last = { at, ok: false, errors };
      o.metrics?.ruleReloads.inc({ result: 'refused' });
      o.logger?.warn({ errors: errors.slice(0, 20) }, 'rule reload refused; the running rules stay');
      return { ok: false, errors, rules: o.pipeline.ruleEngine.rules.length };
    }
    o.pipeline.setEngine(built.engine);
    last = { at, ok: true, errors: [] };
    o.metrics?.ruleReloads.inc({ result: 'ok' });
    setRulesGauge(o.metrics, built.engine.rules);
    o.logger?.info({ rules: built.engine.rules.length }, 'rules reloaded');
    return { ok: true, errors: [], rules: built.engine.rules.length };
  }

  const controller: ManagedRulesController = {
    list: () => o.pipeline.ruleEngine.rules,
    // Reloads run one at a time, in order, so two quick edits cannot race each other.
    reload() {
      const p = chain.then(doReload, doReload);
      chain = p.catch(() => undefined);
      return p;
    },
    lastReload: () => last,
    close() {
      if (timer) clearTimeout(timer);
      timer = null;
      watcher?.close();
      watcher = null;
    },
  };

  if (o.watchDir) {
    try {
      watcher = watch(o.watchDir, { recursive: true, persistent: false }, () => {
        if (timer) clearTimeout(timer);
        timer = setTimeout(() => {
          timer = null;
          void controller.reload();
        }, o.debounceMs ?? 300);
        timer.unref();
      });
      watcher.on('error', (err) => o.logger?.warn({ err: { message: err.message } }, 'rules dir watch failed; use POST /v1/rules/reload'));
    } catch (err) {
      o.logger?.warn({ err: { message: (err as Error).message } }, 'cannot watch the rules dir; use POST /v1/rules/reload');
    }
  }
  return controller;
}
