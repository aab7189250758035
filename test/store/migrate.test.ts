import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { migrate, MigrationError } from '../../src/store/migrate.js';

describe('migrations', () => {
  it('apply in file-name order across ranges, once, and a failing one rolls back alone', () => {
    const dir = mkdtempSync(join(tmpdir(), 'aw-mig-'));
    writeFileSync(join(dir, '201-webhooks.sql'), 'CREATE TABLE w (id INTEGER); INSERT INTO w SELECT COUNT(*) FROM k;');
    writeFileSync(join(dir, '001-core.sql'), 'CREATE TABLE c (id INTEGER);');
    writeFileSync(join(dir, '101-kafka.sql'), 'CREATE TABLE k (id INTEGER); INSERT INTO c VALUES (1);');
    writeFileSync(join(dir, 'README.md'), 'not a migration');
    const db = new Database(join(dir, 'x.db'));
    expect(migrate(db, dir)).toEqual(['001-core.sql', '101-kafka.sql', '201-webhooks.sql']);
    expect(migrate(db, dir)).toEqual([]);
    writeFileSync(join(dir, '202-broken.sql'), 'CREATE TABLE half (id INTEGER); THIS IS NOT SQL;');
    expect(() => migrate(db, dir)).toThrow(MigrationError);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'half'").get()).toBeUndefined();
    expect((db.prepare('SELECT name FROM schema_migrations ORDER BY name').all() as { name: string }[]).map((r) => r.name)).toEqual([
      '001-core.sql',
      '101-kafka.sql',
      '201-webhooks.sql',
    ]);
    db.close();
  });
});
