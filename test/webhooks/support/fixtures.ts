import Database from 'better-sqlite3';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { alertId, type Alert, type Level } from '../../../src/alerts/alert.js';
import { migrate } from '../../../src/store/migrate.js';
import { createLogger } from '../../../src/observability/logger.js';

export function tempDb(): { db: Database.Database; file: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'aw-webhooks-'));
  const file = join(dir, 'authwatch.db');
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  migrate(db);
  return { db, file, dir };
}

export function makeAlert(i: number, over: Partial<Alert> = {}, level: Level = 'high'): Alert {
  const group = { 'source.ip': `203.0.113.${i % 250}` };
  return {
    id: alertId('rule-401-burst', group, `2026-01-01T00:${String(i % 60).padStart(2, '0')}:00.000Z`),
    rule: { id: 'rule-401-burst', name: 'oauth-401-burst', title: '401 burst', level },
    group,
    count: 20 + i,
    first_seen: '2026-01-01T00:00:00.000Z',
    last_seen: '2026-01-01T00:01:00.000Z',
    evidence: { event_ids: ['e1'], samples: [] },
    status: 'open',
    proposed: [],
    ...over,
  };
}

/** A logger whose lines are kept, to check what was logged. */
export function memoryLogger(): { logger: ReturnType<typeof createLogger>; lines: string[] } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { logger: createLogger({ level: 'debug', destination }), lines };
}
