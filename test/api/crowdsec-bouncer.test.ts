// The real crowdsec-custom-bouncer (Debian package) against our CrowdSec-compatible stream:
// a rule's block decision and an approved manual range reach its script as `add`, lifting
// removes them with `del`. CI installs the package (.ci/run); there a missing binary fails.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandPath } from '../support/env.js';
import { makeAlert } from '../store/helpers.js';
import { call, startRoutes, type RoutesHarness } from './routes-harness.js';

const BOUNCER = commandPath('crowdsec-custom-bouncer');
const KEY = 'bouncer-key-' + Math.random().toString(36).slice(2) + 'xxxxxxxxxxxxxxxx';

let h: RoutesHarness;
let bouncer: ChildProcess | null = null;
let dir: string;
let record: string;
let bouncerLog = '';

async function waitForLine(re: RegExp, what: string): Promise<string> {
  for (let i = 0; i < 300; i++) {
    const lines = existsSync(record) ? readFileSync(record, 'utf8').split('\n') : [];
    const hit = lines.find((l) => re.test(l));
    if (hit) return hit;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`bouncer script never got ${what}; script calls:\n${existsSync(record) ? readFileSync(record, 'utf8') : '(none)'}\nbouncer log:\n${bouncerLog}`);
}

describe.skipIf(BOUNCER === null)('CrowdSec custom bouncer against /v1/decisions/stream', () => {
  beforeAll(async () => {
    h = await startRoutes({ bouncerKeys: [KEY] });
    dir = mkdtempSync(join(tmpdir(), 'aw-bouncer-'));
    record = join(dir, 'calls.txt');
    const script = join(dir, 'record.sh');
    writeFileSync(script, `#!/bin/sh\necho "$@" >> '${record}'\n`);
    chmodSync(script, 0o755);
    const cfg = join(dir, 'bouncer.yaml');
    writeFileSync(
      cfg,
      [
        `bin_path: ${script}`,
        'feed_via_stdin: false',
        'total_retries: 0',
        'scenarios_containing: []',
        'scenarios_not_containing: []',
        'origins: []',
        `piddir: ${dir}`,
        'update_frequency: 1s',
        'cache_retention_duration: 10s',
        'daemonize: false',
        'log_mode: stdout',
        `log_dir: ${dir}`,
        'log_level: info',
        `api_url: ${h.url}/`,
        `api_key: ${KEY}`,
        'prometheus:',
        '  enabled: false',
        '  listen_addr: 127.0.0.1',
        '  listen_port: 60602',
        '',
      ].join('\n'),
    );
    // a rule's auto-approved block decision exists before the bouncer starts (startup=true)
    h.store.saveAlerts([makeAlert({ name: 'token-spray', group: { 'source.ip': '203.0.113.50' }, proposed: [{ action: 'block_ip', ttl: '4h', approval: 'auto' }] })]);
    bouncer = spawn(BOUNCER!, ['-c', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
    bouncer.stdout!.on('data', (d) => (bouncerLog += d));
    bouncer.stderr!.on('data', (d) => (bouncerLog += d));
  });

  afterAll(async () => {
    if (bouncer && bouncer.exitCode === null) {
      const exited = new Promise((r) => bouncer!.once('exit', r));
      bouncer.kill('SIGTERM');
      const t = setTimeout(() => bouncer!.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(t);
    }
    await h?.close();
  });

  it('adds a rule decision, an approved manual range, and removes a lifted one', async () => {
    const add = await waitForLine(/^add 203\.0\.113\.50 /, 'add 203.0.113.50');
    // add <value> <duration seconds> <scenario> <decision json>
    const [, , seconds, scenario] = add.split(' ');
    expect(Number(seconds)).toBeGreaterThan(4 * 3600 - 120);
    expect(scenario).toBe('token-spray');

    const writer = h.as('soc-playbook', ['actions:read', 'actions:write']);
    const created = await call(`${h.url}/v1/actions`, { headers: writer, json: { type: 'block_ip', target: '198.51.100.0/24', ttl: '1h', reason: 'botnet range', approval: 'required' } });
    expect(created.status).toBe(201);
    expect(created.body.status).toBe('proposed');
    const approved = await call(`${h.url}/v1/actions/${created.body.id}/approve`, { headers: writer, json: { comment: 'confirmed' } });
    expect(approved.body.status).toBe('active');
    await waitForLine(/^add 198\.51\.100\.0\/24 /, 'add 198.51.100.0/24');

    const ruleAction = h.store.listActions({ type: ['block_ip'] }, 10).items.find((a) => a.target === '203.0.113.50')!;
    const lifted = await call(`${h.url}/v1/actions/${ruleAction.id}/lift`, { headers: writer, json: { comment: 'false positive' } });
    expect(lifted.body.status).toBe('lifted');
    await waitForLine(/^del 203\.0\.113\.50 /, 'del 203.0.113.50');
    // non-IP decisions never reach a CrowdSec bouncer
    await call(`${h.url}/v1/actions`, { headers: writer, json: { type: 'disable_client', target: 'rogue-app', ttl: '1h', reason: 'x' } });
    const calls = readFileSync(record, 'utf8');
    expect(calls).not.toMatch(/rogue-app/);
    expect(calls).not.toMatch(/^del 198\.51\.100\.0\/24/m);
  }, 60_000);
});
