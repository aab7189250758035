// `authwatch replay` leaves NGINX line ids (SHA-256 of the line) underived for events no rule
// matches (PipelineDeps.deferLineIds): the alerts, their evidence ids and the numbering of
// repeated lines must be exactly those of a pipeline that derives every id; a rule that reads
// the field `id` turns the deferral off (the CLI checks).
import { mkdtempSync, rmSync, writeFileSync, copyFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createIngestor } from '../../src/events/ingestor.js';
import { compileRoutePolicy } from '../../src/events/route-policy.js';
import { loadRuleSet } from '../../src/rules/rule-loader.js';
import { createEngine } from '../../src/rules/engine.js';
import { Pipeline } from '../../src/pipeline.js';
import { RepeatedContentIds } from '../../src/events/repeated-content.js';
import type { Alert } from '../../src/alerts/alert.js';
import { ROOT, runCli } from '../support/cli.js';

const pad = (n: number) => String(n).padStart(2, '0');
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const timeLocal = (ms: number) => {
  const d = new Date(ms);
  return `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
};
const t0 = Date.UTC(2026, 10, 26, 10, 0, 0);
/** 401 bursts (some lines byte-identical), 403 probing, and plain traffic no rule matches */
function traffic(): string[] {
  const lines: string[] = [];
  for (let s = 0; s < 90; s++) {
    for (let k = 0; k < 3; k++) lines.push(`10.1.0.${k} - - [${timeLocal(t0 + s * 1000)}] "GET /api/v1/catalog HTTP/1.1" 200 512 "-" "app/${k}"`);
    if (s < 40) lines.push(`203.0.113.9 - - [${timeLocal(t0 + s * 1000)}] "GET /api/v1/orders HTTP/1.1" 401 12 "-" "python-requests/2.32"`);
    if (s < 5) for (let r = 0; r < 6; r++) lines.push(`203.0.113.10 - - [${timeLocal(t0 + s * 1000)}] "POST /oauth/token HTTP/1.1" 401 52 "-" "curl/8.5.0"`);
    if (s % 3 === 0) lines.push(`198.18.0.7 - - [${timeLocal(t0 + s * 1000)}] "DELETE /api/v1/admin/users/${s} HTTP/1.1" 403 0 "-" "scanner"`);
  }
  return lines;
}

function run(deferLineIds: boolean) {
  const { ruleset, errors } = loadRuleSet(resolve(ROOT, 'rules'));
  expect(errors).toEqual([]);
  const ingestor = createIngestor({ fingerprintSecret: Buffer.from('deferred-ids-secret-0123456789abcdef'), routePolicy: compileRoutePolicy({ routes: [{ pattern: '/api/**', class: 'protected' }] }), inputFormat: 'nginx', maxLineBytes: 65536 });
  const engine = createEngine(ruleset, { allowedLatenessMs: 1000, maxGroupKeys: 10_000 });
  const alerts: Alert[] = [];
  const events: { id: string; status: number }[] = [];
  const p = new Pipeline({ ingestor, engine, deferLineIds, alerts: { saveAlerts: (a) => alerts.push(...a) }, rejects: { saveRejections: () => {} }, onEvent: (e) => events.push({ id: e.id, status: e.http?.status ?? 0 }) });
  const stream = new RepeatedContentIds();
  const lines = traffic();
  for (let i = 0; i < lines.length; i += 50) p.ingestLines(lines.slice(i, i + 50), { source: 'file', name: 'access.log' }, i + 1, stream);
  p.finish();
  return { alerts, events, stats: engine.stats() };
}

describe('deferred line ids (replay)', () => {
  it('give the same alerts, evidence ids and repeat numbering as ids derived for every event', () => {
    const eager = run(false);
    const lazy = run(true);
    expect(eager.alerts.length).toBeGreaterThan(0);
    expect(eager.alerts.some((a) => a.rule.name === 'oauth-401-burst')).toBe(true);
    expect(JSON.stringify(lazy.alerts)).toBe(JSON.stringify(eager.alerts));
    expect(lazy.stats.duplicateEvents).toBe(eager.stats.duplicateEvents);
    // matched events carry the same id either way; unmatched ones (the 200s) were never derived
    const derived = lazy.events.filter((e) => e.id !== '');
    expect(derived.length).toBeGreaterThan(0);
    for (let i = 0; i < lazy.events.length; i++) if (lazy.events[i].id !== '') expect(lazy.events[i].id).toBe(eager.events[i].id);
    expect(lazy.events.filter((e) => e.status === 200).every((e) => e.id === '')).toBe(true);
    expect(eager.events.every((e) => e.id.startsWith('ev_'))).toBe(true);
    // the six identical token-endpoint lines of a second were numbered .2 to .6 on both paths
    expect(eager.events.some((e) => e.id.endsWith('.6'))).toBe(true);
  });

  describe('a rule that matches on the field `id`', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'aw-deferred-ids-'));
    afterAll(() => rmSync(tmp, { recursive: true, force: true }));
    it('still sees every id through the real CLI (the deferral is off for it)', async () => {
      const rules = join(tmp, 'rules');
      mkdirSync(rules);
      copyFileSync(join(ROOT, 'rules', 'stable', 'oauth-401-burst.yml'), join(rules, 'oauth-401-burst.yml'));
      writeFileSync(
        join(rules, 'ids.yml'),
        [
          'title: Any NGINX event by its derived id', 'id: 6b0f3d9e-4f3a-4b8e-9a51-2f1d3c4b5a60', 'name: derived-id-seen', 'status: experimental',
          'logsource:', '  product: authwatch', '  category: auth', 'detection:', '  selection:', "    id|startswith: 'ev_'", '    http.status: 200',
          '  condition: selection', 'level: low', 'authwatch:', '  maturity: stable', '  suppress: 1h', '',
        ].join('\n'),
      );
      const log = join(tmp, 'access.log');
      writeFileSync(log, traffic().join('\n') + '\n');
      const r = await runCli(['replay', '--input-format', 'nginx', '--workers', '0', '--rules', rules, log], { dataDir: join(tmp, 'data') });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('"derived-id-seen"');
      expect(r.stdout).toContain('oauth-401-burst');
    });
  });
});
