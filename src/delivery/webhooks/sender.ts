// One signed HTTP POST to a webhook endpoint (Standard Webhooks: webhook-id,
// webhook-timestamp, webhook-signature over "id.timestamp.body"). Node's http client with
// the connection pinned to the address the SSRF guard vetted; redirects are not followed
// (a 3xx is a failed attempt), since a redirect could point anywhere.
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { resolveWebhookTarget, WebhookTargetError, type Resolver, systemResolver } from './ssrf-guard.js';

export interface SendResult {
  /** HTTP status, or null when no response arrived (timeout, connection error, refused target) */
  status: number | null;
  retryAfter: string | null;
  error: string | null;
  /** the target itself was refused by the SSRF guard: retrying will not help */
  refused: boolean;
}

const MAX_RESPONSE_BYTES = 64 * 1024;
const USER_AGENT = 'authwatch-webhooks/1';

export interface SendOptions {
  url: string;
  secret: string;
  msgId: string;
  body: string;
  timestampMs: number;
  timeoutMs: number;
  allowPrivate: boolean;
  resolver?: Resolver;
}

export function signHeaders(secret: string, msgId: string, timestampMs: number, body: string): Record<string, string> {
  const wh = new Webhook(secret);
  const ts = new Date(Math.floor(timestampMs / 1000) * 1000);
  return {
    'webhook-id': msgId,
    'webhook-timestamp': String(Math.floor(timestampMs / 1000)),
    'webhook-signature': wh.sign(msgId, ts, body),
  };
}

export async function sendWebhook(o: SendOptions): Promise<SendResult> {
  const url = new URL(o.url);
  let target: { address: string; family: 4 | 6 };
  try {
    target = await resolveWebhookTarget(url, o.allowPrivate, o.resolver ?? systemResolver);
  } catch (err) {
    if (err instanceof WebhookTargetError) return { status: null, retryAfter: null, error: err.message, refused: true };
    throw err;
  }
  const pinned: LookupFunction = (_host, opts, cb) => {
    if ((opts as { all?: boolean }).all) (cb as unknown as (e: null, a: Array<{ address: string; family: number }>) => void)(null, [{ address: target.address, family: target.family }]);
    else cb(null, target.address, target.family);
  };
  const headers = {
    'content-type': 'application/json',
    'user-agent': USER_AGENT,
    'content-length': String(Buffer.byteLength(o.body)),
    ...signHeaders(o.secret, o.msgId, o.timestampMs, o.body),
  };
  const mod = url.protocol === 'https:' ? https : http;
  return new Promise<SendResult>((resolvePromise) => {
    let settled = false;
    const done = (r: SendResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolvePromise(r);
    };
    const req = mod.request(url, { method: 'POST', headers, lookup: pinned, agent: false }, (res) => {
      let size = 0;
      // Drain (capped) so the socket is released; the body itself is not used.
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_RESPONSE_BYTES) res.destroy();
      });
      const finish = () =>
        done({ status: res.statusCode ?? null, retryAfter: (res.headers['retry-after'] as string | undefined) ?? null, error: null, refused: false });
      res.on('end', finish);
      res.on('close', finish);
      res.on('error', finish);
    });
    // One deadline for the whole exchange (connect + response), not per socket event.
    const timer = setTimeout(() => {
      req.destroy();
      done({ status: null, retryAfter: null, error: `timeout after ${o.timeoutMs}ms`, refused: false });
    }, o.timeoutMs);
    req.on('error', (err: NodeJS.ErrnoException) => done({ status: null, retryAfter: null, error: `request failed: ${err.code ?? err.message}`, refused: false }));
    req.end(o.body);
  });
}
