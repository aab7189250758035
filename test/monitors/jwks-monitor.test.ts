// Key rotation scenarios against a real local JWKS server: normal rotation with overlap
// raises nothing; early removal, failures, invalid and leaked sets, and gateway unknown_kid
// rejections (stale cache vs forged kid) raise the right built-in alerts.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/config.js';
import { createLogger } from '../../src/observability/logger.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { openStore, type Store } from '../../src/store/store.js';
import { JwksMonitor, JWKS_MONITOR_RULES } from '../../src/monitors/jwks-monitor.js';
import { TokenKidIndex } from '../../src/monitors/kid-index.js';
import type { AwEvent } from '../../src/events/event.js';
import { makeKey, startJwksServer, type JwksServer } from './support/jwks-server.js';

const MIN = 60_000;
let server: JwksServer | null = null;
let store: Store | null = null;
afterEach(async () => {
  await server?.close();
  store?.db.close();
  server = null;
  store = null;
});

async function setup(opts: { discovery?: boolean; lifetime?: string; timeoutMs?: number } = {}) {
  const k1 = await makeKey('k1');
  server = await startJwksServer([k1]);
  store = openStore(join(mkdtempSync(join(tmpdir(), 'aw-jwks-')), 'a.db'));
  const cfg = configSchema.parse({
    idps: [
      opts.discovery
        ? { name: 'corp-idp', issuer: server.issuer, discovery_url: server.discoveryUrl, max_token_lifetime: opts.lifetime ?? '1h' }
        : { name: 'corp-idp', issuer: server.issuer, jwks_uri: server.jwksUrl, max_token_lifetime: opts.lifetime ?? '1h' },
    ],
  });
  let clock = Date.parse('2026-05-01T00:00:00Z');
  const kidIndex = new TokenKidIndex();
  const metrics = createMetrics();
  const logLines: string[] = [];
  const logger = createLogger({ level: 'debug', destination: new Writable({ write: (c, _e, cb) => (logLines.push(String(c)), cb()) }) });
  const monitor = new JwksMonitor({ idps: cfg.idps, db: store.db, store, kidIndex, logger, metrics, now: () => clock, fetchTimeoutMs: opts.timeoutMs ?? 2000 });
  const alertsBy = (name: string) => store!.listAlerts({ rule: name }, 100).items;
  const allMonitorAlerts = () => Object.values(JWKS_MONITOR_RULES).flatMap((r) => alertsBy(r.name));
  return { srv: server, monitor, kidIndex, metrics, logLines, alertsBy, allMonitorAlerts, k1, advance: (ms: number) => (clock += ms), now: () => clock };
}

function gatewayEvent(result: 'unknown_kid' | 'ok', iss: string, kid: string, i: number, exp?: number): AwEvent {
  return {
    id: `ev-${result}-${kid}-${i}`,
    time: new Date(Date.parse('2026-05-01T00:00:00Z') + i * 1000).toISOString(),
    observer: { type: 'gateway', name: `edge-${i % 2}` },
    source: { ip: '198.51.100.7' },
    http: { method: 'GET', route: '/api/orders', status: result === 'ok' ? 200 : 401 },
    auth: { result },
    token: { kid, iss, alg: 'ES256', ...(exp ? { exp } : {}) },
  } as AwEvent;
}

describe('JWKS monitor', () => {
  it('normal rotation with overlap raises no alert and records the history', async () => {
    const t = await setup();
    expect((await t.monitor.checkAll())[0]).toMatchObject({ ok: true, keys: ['k1'], added: [], removed: [] });
    t.advance(5 * MIN);
    const k2 = await makeKey('k2');
    t.srv.keys = [t.k1, k2]; // publish the successor first
    expect((await t.monitor.checkAll())[0]).toMatchObject({ ok: true, added: ['k2'], removed: [] });
    t.advance(30 * MIN);
    await t.monitor.checkAll();
    t.advance(61 * MIN); // k1 retired more than max_token_lifetime after k2 appeared
    t.srv.keys = [k2];
    const r = (await t.monitor.checkAll())[0];
    expect(r).toMatchObject({ ok: true, removed: ['k1'], alerts: [] });
    expect(t.allMonitorAlerts()).toEqual([]);
    const hist = t.monitor.history('corp-idp');
    expect(hist.map((h) => [h.kid, h.baseline, h.removed_at !== null])).toEqual([['k1', 1, true], ['k2', 0, false]]);
    expect(hist[0].thumbprint).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await t.metrics.registry.getSingleMetricAsString('authwatch_jwks_keys')).toContain('idp="corp-idp"} 1');
    expect(await t.metrics.registry.getSingleMetricAsString('authwatch_jwks_fetches_total')).toContain('result="ok"} 4');
  });

  it('a key removed before its tokens can have expired raises jwks-key-removed-early', async () => {
    const t = await setup({ lifetime: '1h' });
    await t.monitor.checkAll();
    t.advance(5 * MIN);
    const k2 = await makeKey('k2');
    t.srv.keys = [t.k1, k2];
    await t.monitor.checkAll();
    t.advance(10 * MIN); // only 10 minutes of overlap for 1h tokens
    t.srv.keys = [k2];
    await t.monitor.checkAll();
    const alerts = t.alertsBy('jwks-key-removed-early');
    expect(alerts).toHaveLength(1);
    expect(alerts[0].group).toEqual({ idp: 'corp-idp', kid: 'k1' });
    expect(alerts[0].rule.level).toBe('medium');
    expect(t.allMonitorAlerts()).toHaveLength(1);
  });

  it('an abrupt key swap (no overlap) raises jwks-key-removed-early', async () => {
    const t = await setup();
    await t.monitor.checkAll();
    t.advance(5 * MIN);
    t.srv.keys = [await makeKey('k3')];
    await t.monitor.checkAll();
    expect(t.alertsBy('jwks-key-removed-early').map((a) => a.group.kid)).toEqual(['k1']);
  });

  it('accepted tokens signed with a removed key that are still unexpired raise the alert even for baseline keys', async () => {
    const t = await setup();
    const k0 = await makeKey('k0');
    t.srv.keys = [k0, t.k1]; // both present at the first fetch: their order is unknown
    await t.monitor.checkAll();
    t.advance(5 * MIN);
    t.kidIndex.observe(gatewayEvent('ok', t.srv.issuer, 'k0', 1, Math.floor(t.now() / 1000) + 1800));
    t.srv.keys = [t.k1];
    await t.monitor.checkAll();
    const alerts = t.alertsBy('jwks-key-removed-early');
    expect(alerts.map((a) => a.group.kid)).toEqual(['k0']);
    expect(JSON.stringify(alerts[0].evidence.samples)).toMatch(/gateways accepted a token/);
  });

  it('baseline keys removed without token evidence raise nothing (age unknown, no false alert)', async () => {
    const t = await setup();
    const k0 = await makeKey('k0');
    t.srv.keys = [k0, t.k1];
    await t.monitor.checkAll();
    t.advance(5 * MIN);
    t.srv.keys = [t.k1];
    await t.monitor.checkAll();
    expect(t.allMonitorAlerts()).toEqual([]);
  });

  it('endpoint failures (HTTP 500, garbage, timeout, unreachable) raise jwks-endpoint-failure and keep the history', async () => {
    const t = await setup({ timeoutMs: 300 });
    await t.monitor.checkAll();
    for (const mode of ['http500', 'garbage', 'hang'] as const) {
      t.srv.mode = mode;
      const r = (await t.monitor.checkAll())[0];
      expect(r.ok).toBe(false);
      expect(r.error).toMatch(mode === 'http500' ? /HTTP 500/ : mode === 'garbage' ? /not JSON/ : /timed out/);
    }
    const alerts = t.alertsBy('jwks-endpoint-failure');
    expect(alerts).toHaveLength(1); // one alert per idp and hour, counting the failures
    expect(alerts[0].count).toBe(3);
    // history untouched: k1 was not "removed" by the failures
    expect(t.monitor.history('corp-idp').map((h) => [h.kid, h.removed_at])).toEqual([['k1', null]]);
    t.srv.mode = 'ok';
    t.advance(2 * 3_600_000);
    expect((await t.monitor.checkAll())[0].ok).toBe(true);
    expect(t.allMonitorAlerts().map((a) => a.rule.name)).toEqual(['jwks-endpoint-failure']);
    await t.srv.close();
    server = null;
    const r = (await t.monitor.checkAll())[0];
    expect(r.error).toMatch(/unreachable/);
    expect(await t.metrics.registry.getSingleMetricAsString('authwatch_jwks_fetches_total')).toMatch(/result="http"} 1[\s\S]*result="not_json"} 1[\s\S]*result="timeout"} 1/);
  });

  it('invalid sets (not a set, empty, missing and duplicate kid, alg/kty mismatch) raise jwks-invalid-set', async () => {
    const t = await setup();
    await t.monitor.checkAll();
    t.srv.mode = 'not-a-set';
    expect((await t.monitor.checkAll())[0].ok).toBe(false);
    t.srv.mode = 'ok';
    const { kid: _k, ...noKid } = t.k1;
    const rsa = await makeKey('r1', 'RS256');
    t.srv.override = { keys: [t.k1, { ...t.k1 }, noKid, { ...rsa, alg: 'ES256' }] };
    t.advance(2 * 3_600_000);
    const r = (await t.monitor.checkAll())[0];
    expect(r.ok).toBe(false);
    const alerts = t.alertsBy('jwks-invalid-set');
    expect(alerts).toHaveLength(2);
    const problems = JSON.stringify(alerts.map((a) => a.evidence.samples));
    expect(problems).toMatch(/not a JWK Set/);
    expect(problems).toMatch(/kid k1 appears more than once/);
    expect(problems).toMatch(/has no kid/);
    expect(problems).toMatch(/alg ES256 which does not fit kty RSA/);
  });

  it('a JWKS publishing private key material raises a critical jwks-private-key-published', async () => {
    const t = await setup({ discovery: true });
    await t.monitor.checkAll();
    t.srv.keys = [t.k1, await makeKey('leaky', 'ES256', { withPrivate: true })];
    await t.monitor.checkAll();
    const alerts = t.alertsBy('jwks-private-key-published');
    expect(alerts).toHaveLength(1);
    expect(alerts[0].rule.level).toBe('critical');
    expect(alerts[0].evidence.samples[0]).toEqual({ idp: 'corp-idp', kids: ['leaky'] });
    // the private member itself is never copied anywhere
    const d = (t.srv.keys[1] as { d: string }).d;
    expect(JSON.stringify(alerts)).not.toContain(d);
    expect(t.logLines.join('')).not.toContain(d);
  });

  it('a kid that now names a different key raises jwks-kid-key-changed', async () => {
    const t = await setup();
    await t.monitor.checkAll();
    t.srv.keys = [await makeKey('k1')];
    await t.monitor.checkAll();
    expect(t.alertsBy('jwks-kid-key-changed').map((a) => a.group)).toEqual([{ idp: 'corp-idp', kid: 'k1' }]);
  });

  it('gateway unknown_kid rejections: a published kid means stale caches, an unpublished one forgery, a retired one nothing', async () => {
    const t = await setup();
    await t.monitor.checkAll();
    t.advance(5 * MIN);
    const k2 = await makeKey('k2');
    t.srv.keys = [t.k1, k2];
    await t.monitor.checkAll();
    t.advance(90 * MIN);
    t.srv.keys = [k2]; // k1 retired properly
    await t.monitor.checkAll();
    for (let i = 0; i < 4; i++) t.kidIndex.observe(gatewayEvent('unknown_kid', t.srv.issuer, 'k2', i)); // gateways missed the rotation
    for (let i = 0; i < 3; i++) t.kidIndex.observe(gatewayEvent('unknown_kid', t.srv.issuer, 'attacker-kid', i));
    t.kidIndex.observe(gatewayEvent('unknown_kid', t.srv.issuer, 'k1', 9)); // a retired key: expected rejection
    t.kidIndex.observe(gatewayEvent('unknown_kid', 'https://other-issuer.example/', 'zzz', 1)); // not this provider
    await t.monitor.checkAll();
    const stale = t.alertsBy('jwks-stale-gateway-cache');
    expect(stale.map((a) => [a.group.kid, a.count])).toEqual([['k2', 4]]);
    expect(stale[0].evidence.event_ids).toHaveLength(4);
    expect(stale[0].evidence.samples[0]).toMatchObject({ observers: ['edge-0', 'edge-1'] });
    const forged = t.alertsBy('jwks-forged-kid');
    expect(forged.map((a) => [a.group.kid, a.count, a.rule.level])).toEqual([['attacker-kid', 3, 'high']]);
    expect(t.allMonitorAlerts()).toHaveLength(2);
    expect(t.kidIndex.size().unknown).toBe(1); // the other issuer's observation waits for its own monitor
  });
});
