// pino with redaction paths compiled once at start-up. Events are redacted at ingest before
// they are ever logged; these paths are the second line of defence for request headers.
import pino, { type Logger, type DestinationStream } from 'pino';

export type { Logger };

export const LOG_REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'req.headers["proxy-authorization"]',
  'headers.authorization',
  'authorization',
  'token',
  'access_token',
  'refresh_token',
  'id_token',
  'client_secret',
  'secret',
  '*.secret',
  '*.fingerprint_secret',
];

export function createLogger(opts: { level?: string; destination?: DestinationStream; name?: string } = {}): Logger {
  return pino(
    {
      name: opts.name ?? 'authwatch',
      level: opts.level ?? 'info',
      redact: { paths: LOG_REDACT_PATHS, censor: '[REDACTED]' },
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    opts.destination ?? pino.destination(2),
  );
}
