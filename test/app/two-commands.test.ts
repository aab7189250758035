// The newcomer's path, as real processes: `authwatch serve` on an ephemeral port with a temp
// data dir, `authwatch token` to mint a token, POST events, GET the alerts, SIGTERM shuts down
// cleanly. All waits are bounded.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/authwatch.js');
const run = promisify(execFile);
const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? tmpdir() };

const dataDir = mkdtempSync(join(tmpdir(), 'aw-two-commands-'));
let server: ChildProcess | null = null;

afterAll(() => {
  if (server && server.exitCode === null) server.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

function waitForUrl(child: ChildProcess): Promise<string> {
  return new Promise((resolveUrl, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`serve did not print its URL within 60 s\nstdout: ${out}\nstderr: ${err.slice(-2000)}`)), 60_000);
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolveUrl(m[1]);
      }
    });
    child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code}\nstdout: ${out}\nstderr: ${err.slice(-2000)}`));
    });
  });
}

describe('authwatch serve + authwatch token', () => {
  it('serves, mints a working token, ingests, lists alerts, and stops on SIGTERM', async () => {
    server = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--data', dataDir], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const url = await waitForUrl(server);

    let ready = 0;
    for (let i = 0; i < 100 && ready !== 200; i++) {
      ready = (await fetch(url + '/readyz')).status;
      if (ready !== 200) await new Promise((r) => setTimeout(r, 100));
    }
    expect(ready).toBe(200);

    const { stdout: tokenOut, stderr: tokenErr } = await run(process.execPath, [BIN, 'token', '--scope', 'events:write alerts:read', '--data', dataDir], { cwd: ROOT, env, timeout: 60_000 });
    const token = tokenOut.trim();
    expect(token.split('.')).toHaveLength(3);
    expect(tokenErr).toBe('');
    expect(statSync(join(dataDir, 'dev-issuer', 'signing-key.jwk.json')).mode & 0o777).toBe(0o600);

    // inside the allowed lateness (30 s), so the events are on time and final within seconds
    const t = Date.now() - 20_000;
    const events = Array.from({ length: 3 }, (_, i) => ({
      time: new Date(t + i * 1000).toISOString(),
      observer: { type: 'gateway', name: 'edge-two-commands' },
      source: { ip: '203.0.113.99' },
      http: { method: 'GET', route: '/api/orders', status: 401 },
      auth: { result: 'alg_not_allowed', scheme: 'bearer' },
      token: { alg: 'none' },
    }));
    const ing = await fetch(url + '/v1/events', {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson' },
      body: events.map((e) => JSON.stringify(e)).join('\n'),
    });
    expect(ing.status).toBe(200);
    expect(await ing.json()).toMatchObject({ accepted: 3, rejected: 0 });

    // The service's 1 s ticker closes the window once the events are older than the lateness (30 s).
    let found: Array<{ rule: { name: string }; group: Record<string, unknown> }> = [];
    for (let i = 0; i < 300 && found.length === 0; i++) {
      const res = await fetch(url + '/v1/alerts?rule=alg-not-allowed', { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { items: typeof found };
      found = body.items.filter((a) => a.group['source.ip'] === '203.0.113.99');
      if (found.length === 0) await new Promise((r) => setTimeout(r, 100));
    }
    expect(found).toHaveLength(1);
    expect(found[0].rule.name).toBe('alg-not-allowed');

    // a token without alerts:read cannot list alerts
    const { stdout: writeOnly } = await run(process.execPath, [BIN, 'token', '--scope', 'events:write', '--data', dataDir], { cwd: ROOT, env, timeout: 60_000 });
    expect((await fetch(url + '/v1/alerts', { headers: { authorization: `Bearer ${writeOnly.trim()}` } })).status).toBe(403);

    const exited = new Promise<number | null>((r) => server!.on('exit', (code) => r(code)));
    server.kill('SIGTERM');
    const code = await Promise.race([exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 20_000))]);
    expect(code).toBe(0);
  }, 120_000);

  it('token refuses in oidc mode with a clear message', async () => {
    const err = await run(process.execPath, [BIN, 'token', '--scope', 'alerts:read', '--data', dataDir], {
      cwd: ROOT,
      env: { ...env, AUTHWATCH_AUTH_MODE: 'oidc', AUTHWATCH_AUTH_ISSUER: 'https://idp.example.test/' },
      timeout: 60_000,
    }).then(
      () => null,
      (e: { code: number; stderr: string; stdout: string }) => e,
    );
    expect(err).not.toBeNull();
    expect(err!.code).toBe(1);
    expect(err!.stdout).toBe('');
    expect(err!.stderr).toMatch(/dev issuer is off/);
  }, 60_000);
});
