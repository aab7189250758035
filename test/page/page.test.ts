// The built-in page end to end in real headless Chromium (Debian's chromium driven by
// playwright-core): a real service on loopback with alerts and a proposed action in its
// store; paste a token, see the alerts (escaped), approve the action and see it become
// active (checked through the API), and a screenshot that really shows a rendered page.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { chromiumPath } from '../support/env.js';
import { getJson, startService, type TestService } from '../auth/harness.js';
import { alertId, type Alert } from '../../src/alerts/alert.js';
import { PAGE_CSP } from '../../src/delivery/api/page-routes.js';

const CHROMIUM = chromiumPath();
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'];
const SCREENSHOT_DIR = mkdtempSync(join(tmpdir(), 'aw-page-'));

let svc: TestService;
let browser: Browser;
let page: Page;
const XSS = '<img src=x onerror="window.__pwned=1">';

function alert(i: number, over: Partial<Alert>): Alert {
  const group = over.group ?? { 'source.ip': `203.0.113.${i}` };
  return {
    id: alertId(over.rule?.id ?? 'r', group, '2026-02-01T00:00:00.000Z'),
    rule: { id: 'authwatch-401-burst', name: 'oauth-401-burst', title: 'Burst of 401 responses from one IP', level: 'high' },
    group,
    count: 20 + i,
    first_seen: '2026-02-01T00:00:00.000Z',
    last_seen: `2026-02-01T00:0${i}:00.000Z`,
    evidence: { event_ids: [], samples: [] },
    status: 'open',
    proposed: [],
    ...over,
  };
}

describe.skipIf(CHROMIUM === null)('built-in page in headless Chromium', { timeout: 60_000 }, () => {
  beforeAll(async () => {
    svc = await startService();
    svc.app.store.saveAlerts([
      alert(1, { proposed: [{ action: 'block_ip', ttl: '1h', approval: 'required' }] }),
      alert(2, { rule: { id: 'authwatch-alg-none', name: 'alg-not-allowed', title: 'alg none', level: 'critical' }, group: { 'source.ip': '198.51.100.23' } }),
      alert(3, { rule: { id: 'authwatch-scope-probe', name: 'under-scope-probing', title: 'probing', level: 'medium' }, group: { 'token.client_id': XSS } }),
    ]);
    browser = await chromium.launch({ executablePath: CHROMIUM!, args: ARGS });
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
  });
  afterAll(async () => {
    await browser?.close();
    await svc?.close();
  });

  let shot: Buffer;

  it('serves the shell publicly with a strict CSP and no inline script', async () => {
    const res = await page.goto(svc.url + '/');
    expect(res!.status()).toBe(200);
    const h = res!.headers();
    expect(h['content-security-policy']).toBe(PAGE_CSP);
    expect(h['content-security-policy']).not.toContain('unsafe-inline');
    expect(h['x-content-type-options']).toBe('nosniff');
    const html = await (await fetch(svc.url + '/')).text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // every script is external
    await expect.poll(() => page.textContent('#status'), { timeout: 20_000 }).toMatch(/No token yet/);
  });

  it('renders alerts after a token is pasted, escaping alert data', async () => {
    const token = await svc.mint(['alerts:read', 'actions:read', 'actions:write']);
    await page.fill('#token-input', token);
    await page.click('#token-save');
    await page.waitForSelector('#alerts tbody tr >> nth=2');
    const rows = await page.$$eval('#alerts tbody tr', (trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td')).map((td) => td.textContent)));
    expect(rows.map((r) => r[2]).sort()).toEqual(['alg-not-allowed', 'oauth-401-burst', 'under-scope-probing']);
    expect(rows.find((r) => r[2] === 'alg-not-allowed')).toEqual(['2026-02-01 00:02:00Z', 'critical', 'alg-not-allowed', 'source.ip=198.51.100.23', '22', 'open']);
    // the hostile group value is shown as text, never parsed as markup
    expect(rows.find((r) => r[2] === 'under-scope-probing')![3]).toBe(`token.client_id=${XSS}`);
    expect(await page.$$eval('main img', (imgs) => imgs.length)).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    // the token lives in sessionStorage only, never in the URL or localStorage
    expect(await page.evaluate(() => sessionStorage.getItem('authwatch.token'))).toBe(token);
    expect(await page.evaluate(() => localStorage.length)).toBe(0);
    expect(page.url()).not.toContain(token.slice(0, 20));
    // ingest health is read from /metrics
    await page.waitForSelector('#health div[data-metric="authwatch_alerts_total"] dd');
    expect(await page.textContent('#health div[data-metric="authwatch_alerts_total"] dd')).toMatch(/^\d+$/);
  });

  it('approving a proposed action makes it active (checked through the API)', async () => {
    const proposed = svc.app.store.listActions({ status: ['proposed'] }, 10).items;
    expect(proposed).toHaveLength(1);
    const id = proposed[0].id;
    const row = `#actions tbody tr[data-action-id="${id}"]`;
    await page.waitForSelector(`${row}[data-status="proposed"]`);
    await page.click(`${row} button[data-op="approve"]`);
    await page.waitForSelector(`${row}[data-status="active"]`);
    expect(await page.textContent(`${row} .action-status`)).toBe('active');
    expect(await page.$(`${row} button[data-op="lift"]`)).not.toBeNull();
    const reader = await svc.mint(['actions:read']);
    const api = await getJson(`${svc.url}/v1/actions/${id}`, { headers: { authorization: `Bearer ${reader}` } });
    expect(api.status).toBe(200);
    expect(api.body.status).toBe('active');
    expect(api.body.expires_at).not.toBeNull();
    const audit = svc.app.store.audit('action', id);
    expect(audit.at(-1)).toMatchObject({ op: 'approve', actor: 'test-client', after_status: 'active' });
  });

  it('a token without actions:write cannot approve: the API refuses and the page says so', async () => {
    svc.app.store.saveAlerts([alert(4, { group: { 'source.ip': '203.0.113.44' }, proposed: [{ action: 'block_ip', ttl: '1h', approval: 'required' }] })]);
    const readOnly = await svc.mint(['alerts:read', 'actions:read']);
    await page.fill('#token-input', readOnly);
    await page.click('#token-save');
    const id = svc.app.store.listActions({ status: ['proposed'] }, 10).items[0].id;
    const row = `#actions tbody tr[data-action-id="${id}"]`;
    await page.waitForSelector(`${row} button[data-op="approve"]`);
    await page.click(`${row} button[data-op="approve"]`);
    await expect.poll(() => page.textContent('#status'), { timeout: 20_000 }).toMatch(/approve failed/);
    expect(svc.app.store.getAction(id)!.status).toBe('proposed');
  });

  it('screenshot: a non-trivial PNG with real pixel variation showing the alerts', async () => {
    const token = await svc.mint(['alerts:read', 'actions:read', 'actions:write']);
    await page.fill('#token-input', token);
    await page.click('#token-save');
    await page.waitForSelector('#alerts tbody tr >> nth=3');
    shot = await page.screenshot({ fullPage: true });
    const file = join(SCREENSHOT_DIR, 'page.png');
    writeFileSync(file, shot);
    expect(shot.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
    expect(shot.length).toBeGreaterThan(20_000);
    // decode in a blank page (no CSP there) and measure the pixels
    const probe = await browser.newPage();
    const stats = await probe.evaluate(async (b64) => {
      const img = new Image();
      img.src = `data:image/png;base64,${b64}`;
      await img.decode();
      const c = document.createElement('canvas');
      c.width = img.width;
      c.height = img.height;
      const ctx = c.getContext('2d')!;
      ctx.drawImage(img, 0, 0);
      const d = ctx.getImageData(0, 0, c.width, c.height).data;
      const colors = new Set<number>();
      let sum = 0;
      let sumSq = 0;
      const n = d.length / 4;
      for (let i = 0; i < d.length; i += 4) {
        const lum = 0.299 * d[i] + 0.587 * d[i + 1] + 0.114 * d[i + 2];
        sum += lum;
        sumSq += lum * lum;
        if (colors.size < 5000) colors.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
      }
      const mean = sum / n;
      return { width: c.width, height: c.height, colors: colors.size, stddev: Math.sqrt(sumSq / n - mean * mean) };
    }, shot.toString('base64'));
    await probe.close();
    expect(stats.width).toBe(1280);
    expect(stats.height).toBeGreaterThan(500);
    expect(stats.colors).toBeGreaterThan(50); // text antialiasing, level badges, header
    expect(stats.stddev).toBeGreaterThan(10); // not a blank or single-colour page
  });
});
