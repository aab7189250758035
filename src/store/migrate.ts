// Schema migrations: every `NNN-name.sql` file in src/store/migrations, applied once, in file
// name order, each inside its own transaction, recorded in `schema_migrations`. Ranges keep
// parallel work apart: core 0NN, Kafka 1NN, webhooks 2NN.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type Database from 'better-sqlite3';

export const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));
const MIGRATION_FILE_RE = /^\d{3}-[A-Za-z0-9_-]+\.sql$/;

export class MigrationError extends Error {
  readonly code = 'MIGRATION_FAILED';
}

/** Applies pending migrations; returns the names applied by this call. */
export function migrate(db: Database.Database, dir = MIGRATIONS_DIR): string[] {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)');
  const files = readdirSync(dir).filter((f) => MIGRATION_FILE_RE.test(f)).sort();
  const isApplied = db.prepare('SELECT 1 FROM schema_migrations WHERE name = ?');
  const record = db.prepare('INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)');
  const applied: string[] = [];
  for (const file of files) {
    const sql = readFileSync(`${dir}/${file}`, 'utf8');
    // IMMEDIATE: two processes opening the same file at once serialise here, and the second
    // one sees the first one's record and skips.
    const apply = db.transaction(() => {
      if (isApplied.get(file)) return false;
      db.exec(sql);
      record.run(file, new Date().toISOString());
      return true;
    });
    try {
      if (apply.immediate()) applied.push(file);
    } catch (err) {
      throw new MigrationError(`migration ${file} failed: ${(err as Error).message}`);
    }
  }
  return applied;
}
