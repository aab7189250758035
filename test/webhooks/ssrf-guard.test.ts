// The SSRF policy for webhook targets: at config load (literal hosts, local names) and at
// delivery (every resolved address), with allow_private_targets as the only way round it.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { checkWebhookUrl, refusedAddressReason, resolveWebhookTarget, WebhookTargetError } from '../../src/delivery/webhooks/ssrf-guard.js';
import { sendWebhook } from '../../src/delivery/webhooks/sender.js';
import { validateWebhookConfig } from '../../src/delivery/webhooks/dispatcher.js';
import { configSchema } from '../../src/config/config.js';
import { TEST_SECRET } from './support/receiver.js';

const REFUSED = [
  '127.0.0.1', '127.8.9.10', '::1', '10.0.0.1', '172.16.5.4', '192.168.1.1', 'fd12:3456::1', 'fe80::1', '169.254.169.254',
  '169.254.1.1', '0.0.0.0', '::', '100.64.0.1', '224.0.0.251', 'ff02::1', '::ffff:127.0.0.1', '::ffff:10.0.0.1', '255.255.255.255',
];
const ALLOWED = ['93.184.215.14', '2606:2800:21f:cb07:6820:80da:af6b:8b2c', '8.8.8.8'];

describe('SSRF guard', () => {
  it.each(REFUSED)('refuses %s', (ip) => {
    expect(refusedAddressReason(ip, false)).not.toBeNull();
  });
  it.each(ALLOWED)('allows public %s', (ip) => {
    expect(refusedAddressReason(ip, false)).toBeNull();
  });
  it('allow_private_targets admits loopback and private, never metadata services', () => {
    expect(refusedAddressReason('127.0.0.1', true)).toBeNull();
    expect(refusedAddressReason('10.1.1.1', true)).toBeNull();
    expect(refusedAddressReason('169.254.169.254', true)).toMatch(/metadata/);
    expect(refusedAddressReason('fd00:ec2::254', true)).toMatch(/metadata/);
  });

  it('refuses at config load: literal private hosts, local names, credentials, odd schemes', () => {
    for (const url of ['http://127.0.0.1:9000/x', 'http://[::1]/x', 'https://10.2.3.4/', 'http://localhost:8080/', 'http://svc.internal/', 'http://metadata.google.internal/', 'ftp://example.com/', 'https://u:p@example.com/']) {
      expect(() => checkWebhookUrl(url, false), url).toThrow(WebhookTargetError);
    }
    expect(checkWebhookUrl('https://soar.example.com/hooks/authwatch', false).hostname).toBe('soar.example.com');
    expect(checkWebhookUrl('http://127.0.0.1:9000/x', true).port).toBe('9000');
    const cfg = configSchema.parse({ webhooks: { endpoints: [{ name: 'a', url: 'http://192.168.0.10/h', secret: TEST_SECRET }] } });
    expect(() => validateWebhookConfig(cfg.webhooks)).toThrow(/private address/);
    expect(() => validateWebhookConfig({ ...cfg.webhooks, allow_private_targets: true })).not.toThrow();
  });

  it('at delivery, refuses a name when ANY resolved address is refused (DNS rebinding / mixed answers)', async () => {
    const resolver = async () => [{ address: '93.184.215.14', family: 4 }, { address: '10.0.0.7', family: 4 }];
    await expect(resolveWebhookTarget(new URL('https://hooks.example.com/'), false, resolver)).rejects.toThrow(/private address/);
    const ok = await resolveWebhookTarget(new URL('https://hooks.example.com/'), false, async () => [{ address: '93.184.215.14', family: 4 }]);
    expect(ok.address).toBe('93.184.215.14');
  });

  describe('against a real loopback server', () => {
    let server: http.Server | null = null;
    let hits = 0;
    afterEach(async () => {
      if (server) await new Promise<void>((r) => server!.close(() => r()));
      server = null;
    });
    async function listen(): Promise<number> {
      server = http.createServer((_req, res) => {
        hits++;
        res.writeHead(200).end();
      });
      await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
      return (server.address() as AddressInfo).port;
    }

    it('refuses to send to a name resolving to loopback unless private targets are allowed', async () => {
      const port = await listen();
      hits = 0;
      const loopbackName = async () => [{ address: '127.0.0.1', family: 4 }];
      const base = { url: `http://hooks.example.com:${port}/h`, secret: TEST_SECRET, msgId: 'msg_1', body: '{}', timestampMs: Date.now(), timeoutMs: 2000, resolver: loopbackName };
      const refused = await sendWebhook({ ...base, allowPrivate: false });
      expect(refused).toMatchObject({ status: null, refused: true });
      expect(refused.error).toMatch(/loopback/);
      expect(hits).toBe(0);
      // allowed: the connection goes to the vetted (pinned) address, not a second DNS answer
      const sent = await sendWebhook({ ...base, allowPrivate: true });
      expect(sent.status).toBe(200);
      expect(hits).toBe(1);
    });
  });
});
