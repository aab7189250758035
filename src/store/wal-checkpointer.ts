// WAL checkpoints off the event loop, for a store in group-commit mode. SQLite's automatic
// checkpoint runs inside whichever commit crosses wal_autocheckpoint pages, on the writer's
// thread: copying ~4 MB into the database file and two fsyncs, while every API request waits.
// The store turns it off (wal_autocheckpoint=0) and this runs PASSIVE checkpoints from a
// worker thread with its own connection instead: PASSIVE never blocks the writer or readers,
// and the WAL restarts from its start at the next write once a checkpoint has caught up.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../observability/logger.js';

// Plain CommonJS (no TypeScript loader needed in the thread): one connection, a checkpoint per message.
const THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.sqlite);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 0');
parentPort.on('message', (m) => {
  if (m === 'close') { db.close(); parentPort.close(); return; }
  try {
    const r = db.pragma('wal_checkpoint(PASSIVE)')[0];
    parentPort.postMessage({ ok: true, log: r.log, checkpointed: r.checkpointed });
  } catch (e) {
    parentPort.postMessage({ ok: false, message: String(e && e.message) });
  }
});
`;

export class WalCheckpointer {
  private worker: Worker | null = null;
  private inFlight = false;
  private lastChanges: number;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly file: string,
    /** the connection's change counter: a checkpoint is asked for only after writes */
    private readonly changes: () => number,
    intervalMs: number,
    private readonly logger?: Logger,
  ) {
    this.lastChanges = changes();
    this.timer = setInterval(() => this.tick(), intervalMs);
    this.timer.unref();
  }

  private tick(): void {
    const c = this.changes();
    if (this.inFlight || c === this.lastChanges) return;
    this.lastChanges = c;
    // Started at the first write, not at open: most short-lived stores (CLI, tests) never need it.
    if (!this.worker) {
      const sqlite = createRequire(import.meta.url).resolve('better-sqlite3');
      this.worker = new Worker(THREAD, { eval: true, workerData: { file: this.file, sqlite } });
      this.worker.unref();
      this.worker.on('message', (m: { ok: boolean; message?: string }) => {
        this.inFlight = false;
        if (!m.ok) this.logger?.warn({ err: { message: m.message } }, 'WAL checkpoint failed; retried after the next write');
      });
      this.worker.on('error', (err: Error) => {
        this.inFlight = false;
        this.worker = null;
        this.logger?.warn({ err: { message: err.message } }, 'WAL checkpoint thread failed; restarted at the next write');
      });
    }
    this.inFlight = true;
    this.worker.postMessage('checkpoint');
  }

  close(): void {
    clearInterval(this.timer);
    // The thread closes its connection after any checkpoint in progress (messages are in order).
    this.worker?.postMessage('close');
    this.worker = null;
  }
}
