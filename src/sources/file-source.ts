// Lines from a file or stdin (`-`), in batches, for replay. Reads big chunks and splits on
// \n; handles CRLF, a last line without newline, and lines longer than the cap: those are
// cut to maxLineBytes + 1 bytes (so the ingestor rejects them as line_too_long) and the rest
// is skipped without being buffered.
import { createReadStream, statSync } from 'node:fs';
import type { Readable } from 'node:stream';

export interface LineBatch {
  lines: string[];
  /** 1-based line number of lines[0] */
  firstLine: number;
  /** bytes consumed so far (for progress) */
  bytesRead: number;
  /** file size, null for stdin */
  totalBytes: number | null;
}

export interface FileSourceOptions {
  /** lines longer than this are cut (default 64 KiB, the ingest default) */
  maxLineBytes?: number;
  /** read size (default 1 MiB) */
  chunkBytes?: number;
  /** stream to read for `-` (default process.stdin) */
  stdin?: Readable;
}

const NL = 0x0a;

function toLines(text: string, out: string[]): void {
  let start = 0;
  for (;;) {
    const i = text.indexOf('\n', start);
    const end = i < 0 ? text.length : i;
    const line = end > start && text.charCodeAt(end - 1) === 13 ? text.slice(start, end - 1) : text.slice(start, end);
    out.push(line);
    if (i < 0) return;
    start = i + 1;
  }
}

export async function* readLineBatches(path: string, opts: FileSourceOptions = {}): AsyncGenerator<LineBatch> {
  const maxLine = opts.maxLineBytes ?? 64 * 1024;
  const chunkBytes = opts.chunkBytes ?? 1024 * 1024;
  const isStdin = path === '-';
  const totalBytes = isStdin ? null : statSync(path).size;
  const stream: Readable = isStdin ? (opts.stdin ?? process.stdin) : createReadStream(path, { highWaterMark: chunkBytes });

  let lineNo = 1;
  let bytesRead = 0;
  let pending: Buffer[] = []; // the current line so far (it started in an earlier chunk)
  let pendingLen = 0;
  let skipping = false; // inside an oversized line, after its kept prefix

  const decodeLine = (b: Buffer) => {
    const s = b.toString('utf8');
    return s.charCodeAt(s.length - 1) === 13 ? s.slice(0, -1) : s;
  };

  for await (const data of stream) {
    let buf: Buffer = typeof data === 'string' ? Buffer.from(data) : (data as Buffer);
    bytesRead += buf.length;
    const lines: string[] = [];
    const firstLine = lineNo;
    if (skipping) {
      const i = buf.indexOf(NL);
      if (i < 0) continue;
      lines.push(decodeLine(Buffer.concat(pending, pendingLen)));
      pending = [];
      pendingLen = 0;
      skipping = false;
      buf = buf.subarray(i + 1);
    }
    const last = buf.lastIndexOf(NL);
    if (last < 0) {
      const room = maxLine + 1 - pendingLen;
      if (buf.length >= room) {
        pending.push(buf.subarray(0, room));
        pendingLen += room;
        skipping = true;
      } else {
        pending.push(buf);
        pendingLen += buf.length;
      }
    } else {
      const head = pendingLen ? Buffer.concat([...pending, buf.subarray(0, last)]) : buf.subarray(0, last);
      toLines(head.toString('utf8'), lines);
      const rest = buf.subarray(last + 1);
      if (rest.length > maxLine) {
        pending = [Buffer.from(rest.subarray(0, maxLine + 1))];
        pendingLen = maxLine + 1;
        skipping = true;
      } else {
        pending = rest.length ? [Buffer.from(rest)] : [];
        pendingLen = rest.length;
      }
    }
    if (lines.length) {
      lineNo += lines.length;
      yield { lines, firstLine, bytesRead, totalBytes };
    }
  }
  if (pendingLen > 0) yield { lines: [decodeLine(Buffer.concat(pending, pendingLen))], firstLine: lineNo, bytesRead, totalBytes };
}
