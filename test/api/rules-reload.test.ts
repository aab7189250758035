// Hot reload of rules: through POST /v1/rules/reload and through the file watcher. A broken
// rule file is refused with its errors and the running rules keep working; a fixed file is
// picked up and its rule fires.
import { cpSync, mkdtempSync, rmSync, writeFileSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_SCOPES, eventClock, getJson, startService, type TestService } from '../auth/harness.js';

const REPO_RULES = resolve(import.meta.dirname, '../../rules');

function probeRule(name: string, observer: string): string {
  return `title: Reload probe ${name}
id: ${randomUUID()}
name: ${name}
status: stable
description: Fires on events from the ${observer} observer (hot-reload test).
author: authwatch tests
date: 2026-11-26
logsource:
  product: authwatch
  category: auth
detection:
  selection:
    observer.name: ${observer}
  condition: selection
level: low
authwatch:
  maturity: stable
  group_by:
    - observer.name
  suppress: 10m
`;
}

const BROKEN = `title: Broken rule
id: ${randomUUID()}
name: broken-rule
detection:
  selection:
    auth.result|nosuchmodifier: ok
  condition: selection and
level: nope
`;

async function waitFor(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('rule hot reload', () => {
  let svc: TestService;
  let rulesDir: string;
  let auth: Record<string, string>;
  let clock: ReturnType<typeof eventClock>;
  const tmp = mkdtempSync(join(tmpdir(), 'aw-rules-'));

  beforeAll(async () => {
    rulesDir = join(tmp, 'rules');
    cpSync(REPO_RULES, rulesDir, { recursive: true });
    svc = await startService({ 'rules.dir': rulesDir, 'rules.watch': false });
    auth = { authorization: `Bearer ${await svc.mint(ALL_SCOPES)}` };
    clock = eventClock(svc.app);
  });
  afterAll(async () => {
    await svc?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  const ruleNames = async () => ((await getJson(svc.url + '/v1/rules', { headers: auth })).body.rules as Array<{ name: string }>).map((r) => r.name);
  const post = async (observer: string) =>
    getJson(svc.url + '/v1/events', {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/x-ndjson' },
      body: JSON.stringify({ time: clock.at(1), observer: { type: 'idp', name: observer }, idp: { endpoint: 'token' }, auth: { result: 'ok' } }),
    });
  const alertsOf = (rule: string) => {
    clock.settle();
    return svc.app.store.listAlerts({ rule }, 10).items;
  };

  it('lists the loaded rules', async () => {
    const names = await ruleNames();
    expect(names).toContain('oauth-401-burst');
    expect(names).toContain('alg-not-allowed');
    const r = await getJson(svc.url + '/v1/rules', { headers: auth });
    expect(r.body.last_reload).toMatchObject({ ok: true, errors: [] });
  });

  it('refuses a broken rule file, keeps the running rules, and they keep firing', async () => {
    const before = await ruleNames();
    writeFileSync(join(rulesDir, 'stable', 'zz-broken.yml'), BROKEN);
    const r = await getJson(svc.url + '/v1/rules/reload', { method: 'POST', headers: auth });
    expect(r.status).toBe(422);
    expect(r.body.code).toBe('RULES_INVALID');
    expect(r.body.errors.length).toBeGreaterThan(0);
    expect(r.body.errors.some((e: { file: string }) => e.file.includes('zz-broken.yml'))).toBe(true);
    expect(await ruleNames()).toEqual(before);
    const listed = await getJson(svc.url + '/v1/rules', { headers: auth });
    expect(listed.body.last_reload.ok).toBe(false);
    const refused = (await svc.app.metrics.ruleReloads.get()).values.find((v) => v.labels.result === 'refused')?.value;
    expect(refused).toBe(1);
    // the old engine still works: a rule that was loaded before fires
    const ev = { time: clock.at(2), observer: { type: 'gateway', name: 'edge-r' }, source: { ip: '192.0.2.77' }, http: { method: 'GET', route: '/x', status: 401 }, auth: { result: 'alg_not_allowed' } };
    const ing = await getJson(svc.url + '/v1/events', { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(ev) });
    expect(ing.body.accepted).toBe(1);
    expect(alertsOf('alg-not-allowed').map((a) => a.group['source.ip'])).toContain('192.0.2.77');
  });

  it('picks up the fixed file, and the new rule fires', async () => {
    writeFileSync(join(rulesDir, 'stable', 'zz-broken.yml'), probeRule('reload-probe-rule', 'reload-probe-b'));
    const r = await getJson(svc.url + '/v1/rules/reload', { method: 'POST', headers: auth });
    expect(r.status).toBe(200);
    expect(r.body.ok).toBe(true);
    expect(await ruleNames()).toContain('reload-probe-rule');
    expect((await post('reload-probe-b')).body.accepted).toBe(1);
    const alerts = alertsOf('reload-probe-rule');
    expect(alerts).toHaveLength(1);
    expect(alerts[0].group).toEqual({ 'observer.name': 'reload-probe-b' });
  });

  it('needs rules:admin', async () => {
    const tok = await svc.mint(['alerts:read']);
    const r = await getJson(svc.url + '/v1/rules/reload', { method: 'POST', headers: { authorization: `Bearer ${tok}` } });
    expect(r.status).toBe(403);
    expect(r.headers.get('www-authenticate')).toContain('scope="rules:admin"');
  });
});

describe('rule hot reload by file watch', () => {
  it('a new valid file is loaded; a broken one is refused and the rules stay', { timeout: 120_000 }, async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'aw-rules-watch-'));
    const rulesDir = join(tmp, 'rules');
    cpSync(REPO_RULES, rulesDir, { recursive: true });
    const svc = await startService({ 'rules.dir': rulesDir, 'rules.watch': true });
    try {
      const names = () => svc.app.rules.list().map((r) => r.name);
      const n0 = names().length;
      writeFileSync(join(rulesDir, 'stable', 'watch-probe.yml'), probeRule('watch-probe-rule', 'watch-probe'));
      await waitFor(async () => names().includes('watch-probe-rule'), 'the watched rule to load');
      expect(names().length).toBe(n0 + 1);
      writeFileSync(join(rulesDir, 'stable', 'watch-broken.yml'), BROKEN);
      await waitFor(async () => svc.app.rules.lastReload().ok === false, 'the broken file to be refused');
      expect(names()).toContain('watch-probe-rule');
      expect(names().length).toBe(n0 + 1);
      unlinkSync(join(rulesDir, 'stable', 'watch-broken.yml'));
      await waitFor(async () => svc.app.rules.lastReload().ok === true, 'the rules to load again');
    } finally {
      await svc.close();
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
