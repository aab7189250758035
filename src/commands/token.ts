// `authwatch token --scope "S1 S2" [--ttl 1h] [--aud A] [--client-id C] [--data DIR] [--config FILE]`:
// mint an access token from the embedded dev issuer. The token goes to stdout and nowhere else.
import { parseCommandArgs } from './command-args.js';
import { loadConfig } from '../config/config.js';
import { loadDevIssuerKeys, mintAccessToken, resolveDevIssuer, MAX_DEV_TOKEN_TTL_MS } from '../delivery/auth/dev-issuer.js';
import { parseDuration } from '../util/duration.js';

const HELP = `Usage: authwatch token --scope "S1 S2" [--ttl 1h] [--aud A] [--client-id C] [--data DIR] [--config FILE]

Mints an RFC 9068 access token signed by the local dev issuer (auth.mode: dev) and prints it.
Scopes: events:write alerts:read alerts:write actions:read actions:write rules:admin
Example:
  TOKEN=$(npx authwatch token --scope "alerts:read")
  curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8080/v1/alerts
`;

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommandArgs(
    'token',
    argv,
    {
      scope: { type: 'string' },
      ttl: { type: 'string', default: '1h' },
      aud: { type: 'string' },
      'client-id': { type: 'string', default: 'authwatch-cli' },
      sub: { type: 'string' },
      data: { type: 'string' },
      config: { type: 'string' },
    },
    HELP,
  );
  if (typeof parsed === 'number') return parsed;
  const { values } = parsed;
  const scopes = (values.scope ?? '').split(/\s+/).filter(Boolean);
  if (scopes.length === 0) {
    process.stderr.write(`authwatch token: --scope is required\n\n${HELP}`);
    return 2;
  }
  let ttlMs: number;
  try {
    ttlMs = parseDuration(values.ttl ?? '1h');
  } catch (err) {
    process.stderr.write(`authwatch token: --ttl: ${(err as Error).message}\n`);
    return 2;
  }
  if (ttlMs < 1000 || ttlMs > MAX_DEV_TOKEN_TTL_MS) {
    process.stderr.write('authwatch token: --ttl must be between 1s and 7d\n');
    return 2;
  }
  const config = loadConfig({ file: values.config, env: process.env, overrides: { data_dir: values.data } });
  if (config.auth.mode !== 'dev') {
    process.stderr.write(
      'authwatch token: the dev issuer is off (auth.mode is "oidc"); get tokens from your identity provider ' +
        `(issuer ${config.auth.issuer ?? 'unset'}) with the client-credentials grant instead.\n`,
    );
    return 1;
  }
  const keys = await loadDevIssuerKeys(config.data_dir);
  const token = await mintAccessToken(keys, {
    issuer: resolveDevIssuer(config),
    audience: values.aud ?? config.auth.audience,
    scopes,
    ttlMs,
    clientId: values['client-id'] ?? 'authwatch-cli',
    sub: values.sub,
  });
  process.stdout.write(token + '\n');
  return 0;
}
