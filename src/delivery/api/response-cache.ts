// Serialized responses of the read-heavy alert routes (list, feed pages), reused while the
// database is unchanged. SIEM pollers ask for the same page over and over; serving it again
// costs a version check instead of a query, parsing and serialisation. Bodies are kept as
// bytes: re-encoding a 30-60 KB string to UTF-8 on every hit was the largest cost of a hit.
//
// The version is SQLite's own change accounting, so no writer can be missed: total_changes()
// counts every row this connection inserted, updated or deleted (triggers included, retention
// deletes included), and PRAGMA data_version changes whenever ANOTHER connection commits (a
// Kafka worker or a CLI on the same file). The version is read before the query, so an entry is
// never older than the version it is stored under.
import type Database from 'better-sqlite3';

export class StoreResponseCache {
  private readonly map = new Map<string, { version: string; body: Buffer }>();
  private readonly totalChanges: Database.Statement<[], number>;
  private readonly dataVersion: Database.Statement<[], number>;

  constructor(
    db: Database.Database,
    private readonly max = 256,
    /** larger bodies are not kept (a 500-alert page) */
    private readonly maxBodyBytes = 256 * 1024,
  ) {
    this.totalChanges = db.prepare<[], number>('SELECT total_changes()').pluck();
    this.dataVersion = db.prepare<[], number>('PRAGMA data_version').pluck();
  }

  version(): string {
    return `${this.dataVersion.get()}:${this.totalChanges.get()}`;
  }

  get(key: string, version: string): Buffer | null {
    const e = this.map.get(key);
    if (!e) return null;
    this.map.delete(key);
    if (e.version !== version) return null;
    this.map.set(key, e); // most recently used last
    return e.body;
  }

  set(key: string, version: string, body: Buffer): void {
    if (body.length > this.maxBodyBytes) return;
    this.map.delete(key);
    if (this.map.size >= this.max) this.map.delete(this.map.keys().next().value as string);
    this.map.set(key, { version, body });
  }

  get size(): number {
    return this.map.size;
  }
}
