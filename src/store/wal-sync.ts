// Group commit for a store opened with synchronous=NORMAL: commits reach the WAL file (the OS
// page cache) at once, and the fsync that makes them durable runs on libuv's thread pool
// instead of inside each commit on the event loop. Acknowledgements that promise durability
// (HTTP write replies, Kafka restart points and offset commits) await `durable()`, which
// resolves once an fsync that started after the caller's commits has completed; commits
// arriving while one fsync runs share the next one. fsync applies to the inode, so an fd of
// our own covers every write the SQLite connection made to the file. The WAL file's inode
// stays the same while our connection is open: SQLite only deletes it when the last
// connection closes, and a checkpoint restarts or truncates it in place.
import { closeSync, fsync as fsFsync, openSync } from 'node:fs';

export type FsyncFn = (fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => void;

interface Waiter {
  upTo: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

export class WalSync {
  private fd: number | null = null;
  /** writes made through the connection (total_changes()) covered by a completed fsync */
  private synced: number;
  private running = false;
  private closed = false;
  private readonly waiters: Waiter[] = [];

  constructor(
    private readonly walFile: string,
    /** the connection's change counter: total_changes() */
    private readonly changes: () => number,
    private readonly fsync: FsyncFn = fsFsync,
  ) {
    this.synced = changes();
  }

  /** Resolves when every write made so far through the connection is on disk. */
  durable(): Promise<void> {
    if (this.closed) return Promise.reject(new Error('store closed: its writes can no longer be synced'));
    const upTo = this.changes();
    if (upTo <= this.synced) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ upTo, resolve, reject });
      this.start();
    });
  }

  private start(): void {
    if (this.running || this.closed || this.waiters.length === 0) return;
    let fd: number;
    try {
      fd = this.fd ??= openSync(this.walFile, 'r');
    } catch (err) {
      this.settle(this.changes(), err as Error);
      return;
    }
    // Everything committed before this point is in the file's page cache, so this fsync covers it.
    const upTo = this.changes();
    this.running = true;
    this.fsync(fd, (err) => {
      this.running = false;
      this.settle(upTo, err);
      if (this.closed) this.closeFd();
      else this.start();
    });
  }

  private settle(upTo: number, err: Error | null): void {
    if (!err) this.synced = Math.max(this.synced, upTo);
    for (let i = 0; i < this.waiters.length; ) {
      const w = this.waiters[i];
      if (w.upTo <= upTo) {
        this.waiters.splice(i, 1);
        if (err) w.reject(err);
        else w.resolve();
      } else i++;
    }
  }

  /** Waiting and later durable() calls fail: nothing acknowledges a write the store can no longer sync. */
  close(): void {
    this.closed = true;
    for (const w of this.waiters.splice(0)) w.reject(new Error('store closed before its writes were synced'));
    // an fsync in flight still uses the fd: it is closed when that fsync completes
    if (!this.running) this.closeFd();
  }

  private closeFd(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}
