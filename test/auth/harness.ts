// A real authwatch service for API tests: temp data dir, real SQLite, real HTTP on 127.0.0.1
// (ephemeral port), log lines captured in memory so tests can search them for secrets.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import { mintAccessToken, type MintOptions } from '../../src/delivery/auth/dev-issuer.js';
import { createLogger } from '../../src/observability/logger.js';

export interface TestService {
  app: App;
  url: string;
  dir: string;
  logs: string[];
  mint(scopes: string[], o?: Partial<MintOptions>): Promise<string>;
  close(): Promise<void>;
}

export const ALL_SCOPES = ['events:write', 'alerts:read', 'alerts:write', 'actions:read', 'actions:write', 'rules:admin'];

export async function startService(overrides: Record<string, unknown> = {}, o: { dir?: string; selfMonitorIntervalMs?: number } = {}): Promise<TestService> {
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), 'aw-api-'));
  const logs: string[] = [];
  const logger = createLogger({ level: 'debug', destination: { write: (s: string) => void logs.push(s) } });
  const config = loadConfig({ env: {}, overrides: { data_dir: dir, 'http.port': 0, 'rules.watch': false, ...overrides } });
  const app = await createApp(config, { logger, selfMonitorIntervalMs: o.selfMonitorIntervalMs ?? 50 });
  const url = await app.listen();
  return {
    app,
    url,
    dir,
    logs,
    mint: (scopes, m = {}) =>
      mintAccessToken(app.auth.devIssuer!, { issuer: app.auth.issuer(), audience: config.auth.audience, scopes, ttlMs: 3_600_000, clientId: 'test-client', ...m }),
    async close() {
      await app.close();
      if (!o.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Value of authwatch_api_auth_total for one result (how the API classified its own auth check). */
export async function authCount(app: App, result: string): Promise<number> {
  const m = await app.metrics.apiAuth.get();
  return m.values.find((v) => v.labels.result === result)?.value ?? 0;
}

export async function getJson(url: string, init: RequestInit = {}): Promise<{ status: number; headers: Headers; body: any; text: string }> {
  const res = await fetch(url, init);
  const text = await res.text();
  let body: unknown = null;
  try {
    body = JSON.parse(text);
  } catch {
    body = null;
  }
  return { status: res.status, headers: res.headers, body, text };
}

/**
 * Event times for tests that ingest events and need their alerts: a virtual clock an hour
 * ahead of the wall clock (so the service's own 1 s ticker never makes them late), and
 * settle() advances the engine's watermark past everything stamped so far.
 */
export function eventClock(app: App) {
  let t = Date.now() + 3_600_000;
  return {
    at(offsetSec = 0): string {
      return new Date(t + offsetSec * 1000).toISOString();
    },
    settle(): void {
      app.pipeline.tick(t + 300_000);
      t += 900_000;
    },
  };
}
