// A real, rotating JWKS server on 127.0.0.1 for the key-set monitor tests: keys are made
// with jose (generateKeyPair + exportJWK); it can also fail, hang or serve garbage.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK } from 'jose';

export type ServeMode = 'ok' | 'http500' | 'garbage' | 'not-a-set' | 'hang';

export interface JwksServer {
  base: string;
  jwksUrl: string;
  discoveryUrl: string;
  issuer: string;
  keys: JWK[];
  mode: ServeMode;
  /** JWKS body override (raw object) for malformed-set scenarios */
  override: unknown;
  hits: number;
  close(): Promise<void>;
}

export async function makeKey(kid: string, alg: 'ES256' | 'RS256' | 'EdDSA' = 'ES256', opts: { withPrivate?: boolean } = {}): Promise<JWK> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = await exportJWK(opts.withPrivate ? privateKey : publicKey);
  return { ...jwk, kid, alg, use: 'sig' };
}

export async function startJwksServer(initial: JWK[]): Promise<JwksServer> {
  const pending = new Set<http.ServerResponse>();
  const srv: JwksServer = {
    base: '',
    jwksUrl: '',
    discoveryUrl: '',
    issuer: '',
    keys: initial,
    mode: 'ok',
    override: undefined,
    hits: 0,
    close: async () => {
      for (const r of pending) r.destroy();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  const server = http.createServer((req, res) => {
    srv.hits++;
    if (srv.mode === 'hang') {
      pending.add(res);
      return;
    }
    if (srv.mode === 'http500') {
      res.writeHead(500, { 'content-type': 'text/plain' }).end('internal error');
      return;
    }
    if (req.url === '/.well-known/openid-configuration') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ issuer: srv.issuer, jwks_uri: srv.jwksUrl }));
      return;
    }
    if (req.url !== '/jwks') {
      res.writeHead(404).end();
      return;
    }
    if (srv.mode === 'garbage') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('<html>oops</html>');
      return;
    }
    const body = srv.override !== undefined ? srv.override : srv.mode === 'not-a-set' ? { keys: 'nope' } : { keys: srv.keys };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  srv.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  srv.jwksUrl = `${srv.base}/jwks`;
  srv.discoveryUrl = `${srv.base}/.well-known/openid-configuration`;
  srv.issuer = `${srv.base}/`;
  return srv;
}
