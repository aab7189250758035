// Child process for the crash test: runs the real dispatcher loop against a SQLite file
// until nothing is pending (bounded), so the parent can SIGKILL it mid-delivery.
import Database from 'better-sqlite3';
import { configSchema } from '../../../src/config/config.js';
import { createLogger } from '../../../src/observability/logger.js';
import { WebhookOutbox } from '../../../src/delivery/webhooks/outbox.js';
import { WebhookDispatcher } from '../../../src/delivery/webhooks/dispatcher.js';

const [file, url, secret] = process.argv.slice(2);
const db = new Database(file);
db.pragma('journal_mode = WAL');
db.pragma('busy_timeout = 5000');
const cfg = configSchema.parse({ webhooks: { allow_private_targets: true, endpoints: [{ name: 'soar', url, secret, timeout: '1s', max_attempts: 50 }] } });
const outbox = new WebhookOutbox(db);
const dispatcher = new WebhookDispatcher({
  outbox,
  endpoints: cfg.webhooks.endpoints,
  allowPrivate: true,
  logger: createLogger({ level: 'silent' }),
  concurrency: 3,
  pollMs: 20,
  leaseMarginMs: 0,
  backoff: { baseMs: 10, capMs: 50 },
});
dispatcher.start();
process.stdout.write('started\n');
let rounds = 0;
const check = setInterval(() => {
  rounds++;
  if (outbox.counts().pending === 0 || rounds > 4000) {
    clearInterval(check);
    void dispatcher.stop().then(() => {
      db.close();
      process.exit(0);
    });
  }
}, 20);
