// `authwatch replay` as a user runs it: the real CLI in a child process over the mixed
// fixture file, compared with the alerts the generator planted (fixtures/mixed/generate.ts).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync, mkdirSync, cpSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { randomUUID } from 'node:crypto';
import { SignJWT, generateKeyPair } from 'jose';
import { commandPath } from '../support/env.js';

import { ROOT, runCli, type CliRun } from '../support/cli.js';
const MIXED = join(ROOT, 'fixtures', 'mixed', 'events.ndjson');
const EXPECTED = readFileSync(join(ROOT, 'fixtures', 'mixed', 'expected-alerts.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const PLAN = JSON.parse(readFileSync(join(ROOT, 'fixtures', 'mixed', 'plan.json'), 'utf8'));

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'aw-replay-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

type Run = CliRun;
const cli = (args: string[], stdin?: string): Promise<Run> => runCli(args, { dataDir: join(tmp, 'data'), stdin });
const parseAlerts = (out: string) => out.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
const project = (a: any) => ({ rule: a.rule.name, group: a.group, count: a.count, first_seen: a.first_seen, last_seen: a.last_seen });
const key = (x: unknown) => JSON.stringify(x);
const sortBy = <T>(xs: T[], f: (x: T) => string) => [...xs].sort((a, b) => f(a).localeCompare(f(b)));

let baseline: Run;
describe('replay over the mixed realistic file', { timeout: 90_000 }, () => {
  beforeAll(async () => {
    baseline = await cli(['replay', MIXED]);
  });

  it('raises exactly the planted alerts, one per group per suppression window', () => {
    expect(baseline.code).toBe(0);
    const alerts = parseAlerts(baseline.stdout);
    expect(sortBy(alerts.map(project), key)).toEqual(sortBy(EXPECTED, key));
    // the default pack's rules fired, most of them
    expect(new Set(alerts.map((a) => a.rule.name)).size).toBeGreaterThanOrEqual(12);
  });

  it('writes the full alert object, each alert once', () => {
    const alerts = parseAlerts(baseline.stdout);
    expect(new Set(alerts.map((a) => a.id)).size).toBe(alerts.length);
    for (const a of alerts) {
      expect(a.id).toMatch(/^al_/);
      expect(Object.keys(a.rule).sort()).toEqual(['id', 'level', 'name', 'title']);
      expect(a.status).toBe('open');
      expect(Array.isArray(a.proposed)).toBe(true);
      expect(a.evidence.event_ids.length).toBeGreaterThan(0);
      expect(a.evidence.event_ids.length).toBeLessThanOrEqual(a.count);
    }
    const burst = alerts.find((a) => a.rule.name === 'oauth-401-burst');
    expect(burst.proposed).toEqual([{ action: 'block_ip', ttl: '1h', approval: 'required' }]);
  });

  it('summarises on stderr: lines read, accepted, rejected by reason, alerts by rule', () => {
    const s = baseline.stderr;
    expect(s).toContain(`${PLAN.events + PLAN.malformed} read, ${PLAN.events} accepted, ${PLAN.malformed} rejected`);
    for (const reason of ['malformed_json', 'schema_violation', 'invalid_time', 'not_an_object', 'not_utf8']) expect(s).toContain(`${reason} 1`);
    expect(s).toMatch(/events\.ndjson:\d+ malformed_json/);
    expect(s).toContain(`alerts: ${EXPECTED.length} (`);
    expect(s).toContain(`oauth-401-burst ${EXPECTED.filter((e: any) => e.rule === 'oauth-401-burst').length}`);
    // not a terminal: no progress bar escape codes
    expect(s).not.toMatch(/\u001b\[/);
  });

  it('gives the same alerts (ids included) when the file is shuffled within the allowed lateness', async () => {
    const lines = readFileSync(MIXED, 'utf8').trim().split('\n');
    let last = 0;
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    // each line moves by less than 20 s of event time (lateness is 30 s)
    const keyed = lines.map((l) => {
      const m = /"time":"([^"]+)"/.exec(l);
      const t = m && !Number.isNaN(Date.parse(m[1])) ? Date.parse(m[1]) : last;
      last = t;
      return { l, k: t + rnd() * 20_000 };
    });
    keyed.sort((a, b) => a.k - b.k);
    const moved = keyed.filter((x, i) => x.l !== lines[i]).length;
    expect(moved).toBeGreaterThan(lines.length / 2);
    const file = join(tmp, 'shuffled.ndjson');
    writeFileSync(file, keyed.map((x) => x.l).join('\n') + '\n');
    const r = await cli(['replay', file]);
    expect(r.code).toBe(0);
    const a = sortBy(parseAlerts(r.stdout), (x) => x.id);
    const b = sortBy(parseAlerts(baseline.stdout), (x) => x.id);
    expect(a.map((x) => ({ id: x.id, ...project(x) }))).toEqual(b.map((x) => ({ id: x.id, ...project(x) })));
    expect(r.stderr).not.toContain('late events');
  });

  it('reads stdin with -', async () => {
    const r = await cli(['replay', '-'], readFileSync(MIXED, 'utf8'));
    expect(r.code).toBe(0);
    expect(sortBy(parseAlerts(r.stdout).map(project), key)).toEqual(sortBy(EXPECTED, key));
    expect(r.stderr).toMatch(/-:\d+ malformed_json/);
  });

  it('splits input across several files like one stream', async () => {
    const lines = readFileSync(MIXED, 'utf8').trim().split('\n');
    const half = Math.floor(lines.length / 2);
    writeFileSync(join(tmp, 'a.ndjson'), lines.slice(0, half).join('\n') + '\n');
    writeFileSync(join(tmp, 'b.ndjson'), lines.slice(half).join('\n') + '\n');
    const r = await cli(['replay', join(tmp, 'a.ndjson'), join(tmp, 'b.ndjson')]);
    expect(r.code).toBe(0);
    expect(sortBy(parseAlerts(r.stdout).map(project), key)).toEqual(sortBy(EXPECTED, key));
  });
});

describe('replay never leaks a token', { timeout: 90_000 }, () => {
  it('a canary token planted everywhere appears in no output, no summary and no rejects file', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    const canary = await new SignJWT({ sub: 'canary-' + randomUUID(), scope: 'orders:read' })
      .setProtectedHeader({ alg: 'ES256', kid: 'canary' }).setIssuer('https://idp.example.com/').setExpirationTime('1h').sign(privateKey);
    const opaque = 'cnry' + randomUUID().replace(/-/g, '');
    const base = {
      time: '2026-03-03T09:30:00.000Z', observer: { type: 'gateway', name: 'leaky-gw', env: 'prod' },
      source: { ip: '203.0.113.250' }, http: { method: 'GET', route: '/api/v1/orders', status: 200 }, auth: { result: 'ok' },
    };
    const planted = [
      { ...base, id: 'c1', request: { headers: { authorization: `Bearer ${canary}` } } },
      { ...base, id: 'c2', time: '2026-03-03T09:30:01.000Z', http: { ...base.http, path: `/api/v1/orders?access_token=${canary}&x=1` } },
      { ...base, id: 'c3', time: '2026-03-03T09:30:02.000Z', auth: { result: 'expired', detail: `token ${canary} expired` }, http: { ...base.http, status: 401 } },
      { ...base, id: 'c4', time: '2026-03-03T09:30:03.000Z', extra: { deep: { deeper: [{ note: `Authorization: Bearer ${opaque}` }] } } },
    ].map((e) => JSON.stringify(e));
    // and in lines that are rejected: their raw text goes to the summary sample and the rejects file
    planted.push(`{"time":"2026-03-03T09:30:04Z","broken": "Bearer ${canary}"`);
    planted.push(`{"time":"not-a-time","observer":{"type":"gateway","name":"leaky-gw"},"auth":{"result":"ok","detail":"${canary}"}}`);
    const lines = readFileSync(MIXED, 'utf8').trim().split('\n');
    const input = join(tmp, 'canary.ndjson');
    writeFileSync(input, [...lines.slice(0, 2000), ...planted, ...lines.slice(2000)].join('\n') + '\n');
    const rejects = join(tmp, 'rejects.ndjson');
    const r = await cli(['replay', '--rejects', rejects, input]);
    expect(r.code).toBe(0);
    const rejected = readFileSync(rejects, 'utf8');
    expect(rejected.trim().split('\n')).toHaveLength(PLAN.malformed + 2);
    const secretParts = [canary, canary.split('.')[1], canary.split('.')[2], opaque];
    for (const text of [r.stdout, r.stderr, rejected]) for (const s of secretParts) expect(text).not.toContain(s);
    // the leaky gateway is itself a finding
    const alerts = parseAlerts(r.stdout);
    expect(alerts.find((a) => a.rule.name === 'ingest-unredacted-token' && a.group['observer.name'] === 'leaky-gw')?.count).toBe(4);
    // ingest on worker threads: the same bytes out, and still no secret anywhere
    const rejects2 = join(tmp, 'rejects-threads.ndjson');
    const t = await cli(['replay', '--workers', '2', '--rejects', rejects2, input]);
    expect(t.code).toBe(0);
    expect(t.stdout).toBe(r.stdout);
    expect(t.stderr).toBe(r.stderr.replaceAll(rejects, rejects2));
    const withoutAt = (text: string) => text.trim().split('\n').map((l) => ({ ...JSON.parse(l), at: undefined }));
    expect(withoutAt(readFileSync(rejects2, 'utf8'))).toEqual(withoutAt(rejected));
  });

  it('--workers N (ingest threads) writes exactly the alerts and summary of one thread', async () => {
    const t = await cli(['replay', '--workers', '2', MIXED]);
    expect(t.code).toBe(0);
    expect(t.stdout).toBe(baseline.stdout);
    expect(t.stderr).toBe(baseline.stderr);
  });
});

describe('replay exit codes', { timeout: 90_000 }, () => {
  it('2 on usage errors', async () => {
    expect((await cli(['replay'])).code).toBe(2);
    const bad = await cli(['replay', '--input-format', 'syslog', MIXED]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--input-format');
    expect((await cli(['replay', '--no-such-flag', MIXED])).code).toBe(2);
    const workers = await cli(['replay', '--workers', 'many', MIXED]);
    expect(workers.code).toBe(2);
    expect(workers.stderr).toContain('--workers must be auto or a whole number');
  });

  it('1 on unreadable input, naming the files, before evaluating anything', async () => {
    const r = await cli(['replay', MIXED, join(tmp, 'missing-1.ndjson'), join(tmp, 'missing-2.ndjson')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('missing-1.ndjson');
    expect(r.stderr).toContain('missing-2.ndjson');
  });

  it('1 on a broken rules directory, naming file and line', async () => {
    const dir = join(tmp, 'broken-rules');
    mkdirSync(dir, { recursive: true });
    cpSync(join(ROOT, 'rules', 'stable', 'revoked-token-reuse.yml'), join(dir, 'revoked-token-reuse.yml'));
    writeFileSync(join(dir, 'broken.yml'), 'title: Broken\nname: broken\nlogsource: {product: authwatch}\ndetection:\n  sel:\n    auth.result|nosuch: x\n  condition: sel\n');
    const r = await cli(['replay', '--rules', dir, MIXED]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/broken\.yml:6 .*RULE_UNKNOWN_MODIFIER/);
  });

  it('uses only the rules given with --rules', async () => {
    const dir = join(tmp, 'one-rule');
    mkdirSync(dir, { recursive: true });
    cpSync(join(ROOT, 'rules', 'stable', 'oauth-401-burst.yml'), join(dir, 'oauth-401-burst.yml'));
    cpSync(join(ROOT, 'rules', 'filters'), join(dir, 'filters'), { recursive: true });
    const r = await cli(['replay', '--rules', dir, MIXED]);
    expect(r.code).toBe(0);
    expect(sortBy(parseAlerts(r.stdout).map(project), key)).toEqual(sortBy(EXPECTED.filter((e: any) => e.rule === 'oauth-401-burst'), key));
  });
});

describe('replay options', { timeout: 90_000 }, () => {
  it('--fingerprint-secret-file: raw tokens are fingerprinted with that key', async () => {
    const secretFile = join(tmp, 'fp.key');
    const secret = randomUUID() + randomUUID();
    writeFileSync(secretFile, secret);
    const token = 'opq' + randomUUID().replace(/-/g, '');
    const input = join(tmp, 'one-leak.ndjson');
    writeFileSync(input, JSON.stringify({
      time: '2026-03-03T09:30:00Z', observer: { type: 'gateway', name: 'kong-1' }, source: { ip: '203.0.113.1' },
      http: { method: 'GET', route: '/api/v1/cart', status: 200 }, auth: { result: 'ok' }, request: { headers: { authorization: `Bearer ${token}` } },
    }) + '\n');
    const r = await cli(['replay', '--fingerprint-secret-file', secretFile, input]);
    expect(r.code).toBe(0);
    const [alert] = parseAlerts(r.stdout);
    const { createHmac } = await import('node:crypto');
    const want = 'tfp_' + createHmac('sha256', Buffer.from(secret)).update(token).digest('base64url').slice(0, 22);
    expect(alert.rule.name).toBe('ingest-unredacted-token');
    expect(alert.evidence.samples[0].token.fp).toBe(want);
    expect(alert.evidence.samples[0].request.headers.authorization).toBe('[REDACTED]');
    expect(r.stdout + r.stderr).not.toContain(token);
  });

  it('--config: the config file decides the rule set (experimental off)', async () => {
    const cfg = join(tmp, 'stable-only.yml');
    writeFileSync(cfg, 'rules:\n  include_experimental: false\n  allowed_lateness: 45s\n');
    const r = await cli(['replay', '--config', cfg, MIXED]);
    expect(r.code).toBe(0);
    const experimental = new Set(readdirSync(join(ROOT, 'rules', 'experimental')).filter((f) => f.endsWith('.yml')).map((f) => f.replace(/\.yml$/, '')));
    expect(experimental.size).toBeGreaterThanOrEqual(4);
    const want = EXPECTED.filter((e: any) => !experimental.has(e.rule));
    expect(want.length).toBeLessThan(EXPECTED.length);
    expect(sortBy(parseAlerts(r.stdout).map(project), key)).toEqual(sortBy(want, key));
  });

  it('stops quietly when the reader closes stdout early (replay | head)', async () => {
    const big = join(tmp, 'big.ndjson');
    const text = readFileSync(MIXED, 'utf8');
    writeFileSync(big, text + text + text);
    const r = await new Promise<{ code: number | null; stderr: string }>((res, rej) => {
      const child = spawn(process.execPath, [join(ROOT, 'bin', 'authwatch.js'), 'replay', big], {
        cwd: ROOT, env: { PATH: process.env.PATH, AUTHWATCH_DATA_DIR: join(tmp, 'data') }, stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      child.stdout.once('data', () => child.stdout.destroy()); // like head -1
      child.on('error', rej);
      child.on('close', (code) => res({ code, stderr }));
    });
    expect(r.code).toBe(0);
    expect(r.stderr).not.toMatch(/EPIPE|Error|at /);
  });

  it('--input-format: nginx lines alone with --input-format nginx; refused under authwatch', async () => {
    const nginxLines = readFileSync(MIXED, 'utf8').split('\n').filter((l) => /^\S+ - - \[/.test(l));
    expect(nginxLines).toHaveLength(PLAN.nginx_lines);
    const file = join(tmp, 'nginx.log');
    writeFileSync(file, nginxLines.join('\n') + '\n');
    const asNginx = await cli(['replay', '--input-format', 'nginx', file]);
    expect(asNginx.code).toBe(0);
    expect(parseAlerts(asNginx.stdout).map(project)).toEqual(EXPECTED.filter((e: any) => e.group['source.ip'] === '203.0.113.77'));
    expect(asNginx.stderr).toContain(`${PLAN.nginx_lines} accepted, 0 rejected`);
    const asAuthwatch = await cli(['replay', '--input-format', 'authwatch', file]);
    expect(asAuthwatch.code).toBe(0);
    expect(asAuthwatch.stdout).toBe('');
    expect(asAuthwatch.stderr).toContain(`0 accepted, ${PLAN.nginx_lines} rejected`);
  });

  it('a bad config file exits 1 naming the key', async () => {
    const cfg = join(tmp, 'bad.yml');
    writeFileSync(cfg, 'rules:\n  allowed_lateness: soon\n');
    const r = await cli(['replay', '--config', cfg, MIXED]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('rules.allowed_lateness');
  });

  it('shows a progress bar on stderr only when it is a terminal', async (ctx) => {
    const script = commandPath('script'); // util-linux: runs the command on a pseudo-terminal
    if (!script) return ctx.skip(); // outside CI without util-linux; in CI commandPath fails instead
    const out = join(tmp, 'tty-alerts.ndjson');
    const cmd = `${process.execPath} ${join(ROOT, 'bin', 'authwatch.js')} replay ${MIXED} > ${out}`;
    const r = await new Promise<Run>((res, rej) => {
      const child = spawn(script, ['-qec', cmd, '/dev/null'], {
        cwd: ROOT, env: { PATH: process.env.PATH, AUTHWATCH_DATA_DIR: join(tmp, 'data'), TERM: 'xterm' }, stdio: ['pipe', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('error', rej);
      child.on('close', (code) => res({ code, stdout, stderr }));
      child.stdin.end();
    });
    expect(r.code).toBe(0);
    // the terminal saw the bar (and the summary); stdout, redirected to a file, holds only alerts
    expect(r.stdout).toMatch(/replay .*100% \|/);
    expect(r.stdout).toContain('alerts: ');
    const alerts = parseAlerts(readFileSync(out, 'utf8'));
    expect(sortBy(alerts.map(project), key)).toEqual(sortBy(EXPECTED, key));
  });
});
