// Every metric a Grafana dashboard queries must be one the service exports (from
// createMetrics()), so a renamed metric cannot silently leave an empty panel behind.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { PACKAGE_ROOT } from '../../src/config/config.js';
import { createMetrics } from '../../src/observability/metrics.js';

const DIR = join(PACKAGE_ROOT, 'dashboards');
const files = readdirSync(DIR).filter((f) => f.endsWith('.json'));

interface Panel {
  id: number;
  title: string;
  datasource?: { uid?: string; type?: string };
  targets?: Array<{ expr?: string; datasource?: { uid?: string } }>;
  gridPos: { x: number; y: number; w: number; h: number };
  panels?: Panel[];
}

function panelsOf(d: { panels?: Panel[] }): Panel[] {
  return (d.panels ?? []).flatMap((p) => [p, ...panelsOf(p)]);
}

/** The series names a registry exposes: counters as named, histograms as _bucket/_sum/_count, summaries as _sum/_count and quantiles. */
async function exportedSeries(): Promise<Set<string>> {
  const m = createMetrics();
  const out = new Set<string>();
  for (const metric of await m.registry.getMetricsAsJSON()) {
    const name = metric.name;
    const type = String(metric.type);
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) out.add(name + s);
    else if (type === 'summary') for (const s of ['', '_sum', '_count']) out.add(name + s);
    else out.add(name);
  }
  return out;
}

describe('Grafana dashboards', () => {
  it('has the four dashboards', () => {
    expect(files.sort()).toEqual(['authwatch-api-auth.json', 'authwatch-ingest-health.json', 'authwatch-overview.json', 'authwatch-rules.json']);
  });

  it('every authwatch_* metric in every expression is exported by createMetrics()', async () => {
    const exported = await exportedSeries();
    const missing: string[] = [];
    let checked = 0;
    for (const f of files) {
      const d = JSON.parse(readFileSync(join(DIR, f), 'utf8')) as { panels?: Panel[]; templating?: { list?: Array<{ query?: unknown }> } };
      const exprs = panelsOf(d).flatMap((p) => (p.targets ?? []).map((t) => t.expr ?? ''));
      for (const v of d.templating?.list ?? []) if (typeof v.query === 'string') exprs.push(v.query);
      for (const e of exprs) {
        for (const name of e.match(/\bauthwatch_[a-z0-9_]+\b/g) ?? []) {
          checked++;
          if (!exported.has(name)) missing.push(`${f}: ${name}`);
        }
      }
    }
    expect(missing).toEqual([]);
    expect(checked).toBeGreaterThan(30);
  });

  it('the check catches an unknown metric name (it is not vacuous)', async () => {
    const exported = await exportedSeries();
    expect(exported.has('authwatch_webhook_deliveries_total')).toBe(true);
    expect(exported.has('authwatch_job_duration_seconds_bucket')).toBe(true);
    expect(exported.has('authwatch_job_duration_seconds')).toBe(false);
    expect(exported.has('authwatch_webhook_deliveries')).toBe(false);
  });

  it('every panel uses the provisioned Prometheus datasource, has a unique id and fits the 24-column grid', () => {
    for (const f of files) {
      const d = JSON.parse(readFileSync(join(DIR, f), 'utf8')) as { uid: string; panels: Panel[] };
      expect(d.uid, f).toMatch(/^authwatch-/);
      const panels = panelsOf(d);
      expect(panels.length, f).toBeGreaterThan(4);
      expect(new Set(panels.map((p) => p.id)).size, f).toBe(panels.length);
      for (const p of panels) {
        expect(p.datasource?.uid, `${f} ${p.title}`).toBe('prometheus');
        for (const t of p.targets ?? []) expect(t.datasource?.uid ?? 'prometheus').toBe('prometheus');
        expect(p.gridPos.x + p.gridPos.w, `${f} ${p.title}`).toBeLessThanOrEqual(24);
      }
    }
  });

  it('provisioning points Grafana at the dashboards folder and the prometheus datasource', () => {
    const ds = YAML.parse(readFileSync(join(DIR, 'provisioning/datasources/prometheus.yml'), 'utf8')) as { datasources: Array<{ uid: string; url: string; type: string }> };
    expect(ds.datasources[0]).toMatchObject({ uid: 'prometheus', type: 'prometheus', url: 'http://prometheus:9090' });
    const dash = YAML.parse(readFileSync(join(DIR, 'provisioning/dashboards/authwatch.yml'), 'utf8')) as { providers: Array<{ type: string; options: { path: string } }> };
    expect(dash.providers[0]).toMatchObject({ type: 'file', options: { path: '/var/lib/grafana/dashboards' } });
  });
});
