// The in-memory index of what gateways saw per kid: bounded, keyed by issuer, drained by
// the monitor; and the jwks-monitor job running a real round through the scheduler.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AwEvent } from '../../src/events/event.js';
import { TokenKidIndex } from '../../src/monitors/kid-index.js';
import { JwksMonitor } from '../../src/monitors/jwks-monitor.js';
import { configSchema } from '../../src/config/config.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { openStore, type Store } from '../../src/store/store.js';
import { createJobs } from '../../src/jobs/jobs.js';
import { JobScheduler } from '../../src/jobs/scheduler.js';
import { memoryLogger } from '../webhooks/support/fixtures.js';
import { makeKey, startJwksServer, type JwksServer } from './support/jwks-server.js';

function ev(result: string, kid: string | undefined, iss: string | undefined, i: number, exp?: number): AwEvent {
  return {
    id: `e${i}`,
    time: `2026-05-01T00:00:${String(i % 60).padStart(2, '0')}.000Z`,
    observer: { type: 'gateway', name: `gw-${i % 3}` },
    auth: { result },
    token: { ...(kid ? { kid } : {}), ...(iss ? { iss } : {}), ...(exp ? { exp } : {}) },
  } as unknown as AwEvent;
}

describe('TokenKidIndex', () => {
  it('groups unknown_kid by issuer and kid, drains per issuer, ignores events without kid', () => {
    const idx = new TokenKidIndex();
    for (let i = 0; i < 5; i++) idx.observe(ev('unknown_kid', 'k9', 'https://a/', i));
    idx.observe(ev('unknown_kid', 'k9', 'https://b/', 7));
    idx.observe(ev('unknown_kid', undefined, 'https://a/', 8));
    idx.observe(ev('bad_signature', 'k9', 'https://a/', 9));
    const a = idx.takeUnknownKid(['https://a/']);
    expect(a).toHaveLength(1);
    expect(a[0]).toMatchObject({ kid: 'k9', count: 5, first_seen: '2026-05-01T00:00:00.000Z', last_seen: '2026-05-01T00:00:04.000Z' });
    expect(a[0].observers.sort()).toEqual(['gw-0', 'gw-1', 'gw-2']);
    expect(idx.takeUnknownKid(['https://a/'])).toEqual([]);
    expect(idx.size().unknown).toBe(1);
  });

  it('keeps the latest exp of accepted tokens per kid, and stays within its cap', () => {
    const idx = new TokenKidIndex(3);
    idx.observe(ev('ok', 'k1', 'i', 1, 100));
    idx.observe(ev('ok', 'k1', 'i', 2, 300));
    idx.observe(ev('ok', 'k1', 'i', 3, 200));
    expect(idx.latestValidExp('i', 'k1')).toBe(300);
    for (let i = 0; i < 10; i++) idx.observe(ev('unknown_kid', `x${i}`, 'i', i));
    for (let i = 0; i < 10; i++) idx.observe(ev('ok', `y${i}`, 'i', i, 50));
    expect(idx.size()).toEqual({ unknown: 3, valid: 3 });
  });
});

describe('jwks-monitor job', () => {
  let srv: JwksServer | null = null;
  let store: Store | null = null;
  afterEach(async () => {
    await srv?.close();
    store?.db.close();
  });

  it('runs a monitor round through the scheduler, measured per idp', async () => {
    srv = await startJwksServer([await makeKey('k1', 'RS256'), await makeKey('k2', 'EdDSA')]);
    store = openStore(join(mkdtempSync(join(tmpdir(), 'aw-jwksjob-')), 'a.db'));
    const config = configSchema.parse({ idps: [{ name: 'idp-a', issuer: srv.issuer, jwks_uri: srv.jwksUrl }] });
    const metrics = createMetrics();
    const { logger } = memoryLogger();
    const jwksMonitor = new JwksMonitor({ idps: config.idps, db: store.db, store, logger, metrics });
    const jobs = createJobs({ config, store, jwksMonitor });
    expect(jobs.map((j) => j.name)).toEqual(['retention', 'action-expiry', 'digest', 'jwks-monitor']);
    const s = new JobScheduler(jobs, logger, metrics);
    expect(await s.runJob('jwks-monitor')).toEqual({ job: 'jwks-monitor', result: 'ok', summary: { idps: 1, failed: 0, alerts: 0 } });
    expect(jwksMonitor.history('idp-a').map((h) => [h.kid, h.kty])).toEqual([['k1', 'RSA'], ['k2', 'OKP']]);
    expect(await metrics.registry.getSingleMetricAsString('authwatch_jwks_keys')).toContain('authwatch_jwks_keys{idp="idp-a"} 2');
    // no idps → no jwks job at all
    expect(createJobs({ config: configSchema.parse({}), store, jwksMonitor }).map((j) => j.name)).not.toContain('jwks-monitor');
  });
});
