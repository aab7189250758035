// Dead-letter file: rejected input appended as NDJSON (reason, message, origin, raw), so
// nothing is silently lost. `raw` arrives redacted and truncated from the ingestor; it is
// redacted again here because this file outlives the run.
import { openSync, writeSync, closeSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { RejectSink } from '../pipeline.js';
import type { Rejection } from '../events/ingest-types.js';
import { redactText } from '../events/redaction.js';
import { MAX_RAW_CHARS } from '../events/ingestor.js';

export class RejectFileSink implements RejectSink {
  private fd: number | undefined;
  written = 0;

  constructor(readonly path: string, private readonly now: () => Date = () => new Date()) {}

  saveRejections(rejections: Rejection[]): void {
    if (rejections.length === 0) return;
    if (this.fd === undefined) {
      mkdirSync(dirname(this.path), { recursive: true });
      this.fd = openSync(this.path, 'a', 0o600);
    }
    const at = this.now().toISOString();
    let out = '';
    for (const r of rejections) {
      const raw = redactText(r.raw);
      out += JSON.stringify({ at, reason: r.reason, message: redactText(r.message), origin: r.origin, raw: raw.length > MAX_RAW_CHARS + 1 ? raw.slice(0, MAX_RAW_CHARS) + '…' : raw }) + '\n';
    }
    writeSync(this.fd, out);
    this.written += rejections.length;
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
