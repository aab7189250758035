// `authwatch serve [--port N] [--host H] [--data DIR] [--config FILE]`: the service (API, HTTP
// ingest, and Kafka when brokers are configured) until SIGTERM/SIGINT.
import { parseCommandArgs } from './command-args.js';
import { createApp } from '../app.js';
import { loadConfig } from '../config/config.js';

const HELP = `Usage: authwatch serve [--port N] [--host H] [--data DIR] [--config FILE]

Starts the HTTP API and ingest (and the Kafka consumer when kafka.brokers is set).
Defaults: 127.0.0.1:8080, data in ./data, rules from rules/, dev issuer on.
Environment overrides: AUTHWATCH_* (see README "Configuration").
`;

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommandArgs(
    'serve',
    argv,
    {
      port: { type: 'string' },
      host: { type: 'string' },
      data: { type: 'string' },
      config: { type: 'string' },
    },
    HELP,
  );
  if (typeof parsed === 'number') return parsed;
  const { values } = parsed;
  const port = values.port === undefined ? undefined : Number(values.port);
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) {
    process.stderr.write(`authwatch serve: --port must be an integer 0-65535\n`);
    return 2;
  }
  const config = loadConfig({ file: values.config, env: process.env, overrides: { 'http.port': port, 'http.host': values.host, data_dir: values.data } });
  const app = await createApp(config, { handleSignals: true });
  const url = await app.listen();
  const how =
    config.auth.mode === 'dev'
      ? `Mint a token:  TOKEN=$(npx authwatch token --scope "events:write alerts:read"${values.config ? ` --config ${values.config}` : ''}${values.data ? ` --data ${values.data}` : ''})\n` +
        `Then:          curl -H "Authorization: Bearer $TOKEN" ${url}/v1/alerts\n`
      : `Tokens come from ${config.auth.issuer} (audience ${config.auth.audience}).\n`;
  process.stdout.write(`authwatch listening on ${url}  (API docs: ${url}/docs, data: ${config.data_dir})\n${how}`);
  const code = await app.closed; // resolves after a signal-driven graceful shutdown
  return code;
}
