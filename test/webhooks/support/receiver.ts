// A real webhook receiver on 127.0.0.1 that verifies every request with the standardwebhooks
// verifier and answers as the test scripts it (ok, fail, hang, 429, 410 ...).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface Received {
  id: string;
  timestamp: string;
  body: string;
  payload: { type: string; timestamp: string; data: Record<string, unknown> };
  verified: boolean;
  at: number;
}

export type Reply = { status: number; headers?: Record<string, string> } | 'hang';

export interface Receiver {
  url: string;
  received: Received[];
  /** decides the reply for the n-th request (0-based), verified or not */
  respond: (n: number, r: Received) => Reply;
  onRequest?: (r: Received) => void;
  close(): Promise<void>;
}

export async function startReceiver(secret: string, respond: Receiver['respond'] = () => ({ status: 204 })): Promise<Receiver> {
  const wh = new Webhook(secret);
  const hanging = new Set<http.ServerResponse>();
  const rec: Receiver = {
    url: '',
    received: [],
    respond,
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const headers = {
        'webhook-id': String(req.headers['webhook-id'] ?? ''),
        'webhook-timestamp': String(req.headers['webhook-timestamp'] ?? ''),
        'webhook-signature': String(req.headers['webhook-signature'] ?? ''),
      };
      let verified = false;
      let payload: Received['payload'];
      try {
        payload = wh.verify(body, headers) as Received['payload'];
        verified = true;
      } catch {
        payload = JSON.parse(body) as Received['payload'];
      }
      const r: Received = { id: headers['webhook-id'], timestamp: headers['webhook-timestamp'], body, payload, verified, at: Date.now() };
      const n = rec.received.length;
      rec.received.push(r);
      rec.onRequest?.(r);
      const reply = rec.respond(n, r);
      if (reply === 'hang') {
        hanging.add(res);
        res.on('close', () => hanging.delete(res));
        return;
      }
      res.writeHead(reply.status, reply.headers ?? {});
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  rec.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return rec;
}

export const TEST_SECRET = 'whsec_' + Buffer.from('authwatch-test-webhook-secret-32b!').toString('base64');
