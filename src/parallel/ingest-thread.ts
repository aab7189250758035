// The body of one ingest worker thread (see ingest-pool.ts): raw lines in, redacted and
// validated events (or their projections) out. They travel back as ONE JSON text per batch:
// parsing one long string on the main thread is cheaper than structured-cloning thousands of
// small objects, and a redacted event is plain JSON by contract. Each event's line index comes
// back too, so the main thread can rebuild a full event from its own copy of the line when an
// alert keeps it as evidence. Nothing unredacted is produced here: the ingestor redacts before
// anything is returned, rejections carry only redacted raw text.
import { parentPort, workerData } from 'node:worker_threads';
import { createIngestorFromConfig } from '../events/ingestor-from-config.js';
import type { Config } from '../config/config.js';
import type { InputFormat, Rejection } from '../events/ingest-types.js';
import type { IngestRequest, IngestResponse, IngestThreadInit } from './ingest-protocol.js';
import { compileProjection } from '../events/event-projection.js';

const init = workerData as IngestThreadInit;
const { ingestor } = createIngestorFromConfig(init.config as Config, {
  secret: Buffer.from(init.secret),
  inputFormat: init.inputFormat as InputFormat | undefined,
});
const project = init.fields ? compileProjection(init.fields) : null;

function handle(req: IngestRequest): IngestResponse {
  const rejections: Rejection[] = [];
  const parts: string[] = [];
  const at: number[] = [];
  const derived: number[] = [];
  let nonEmpty = 0;
  const base = req.origin;
  const lines = req.lines;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    // same skip rule as Pipeline.ingestLines: blank lines are neither events nor rejections
    if (line.length === 0 || (line.length < 3 && line.trim() === '')) continue;
    if (line.trim() !== '') nonEmpty++;
    const out = ingestor.ingestLine(line, base);
    // the origin with its line number only for a rejection, as Pipeline.ingestLines does
    if (!out.ok) rejections.push({ ...out.rejection, origin: { ...base, line: req.firstLine + i } });
    else {
      parts.push(JSON.stringify(project ? project(out.event as unknown as Record<string, unknown>) : out.event));
      at.push(i);
      derived.push(out.derivedId ? 1 : 0);
    }
  }
  const lineIndex = Int32Array.from(at);
  return { seq: req.seq, events: '[' + parts.join(',') + ']', lineIndex, derived: Uint8Array.from(derived), accepted: parts.length, rejections, nonEmpty };
}

parentPort!.on('message', (req: IngestRequest) => {
  let res: IngestResponse;
  try {
    res = handle(req);
  } catch (err) {
    // the ingestor never throws on input; this is a bug, reported to the caller, not a crash here
    res = { seq: req.seq, events: '[]', accepted: 0, rejections: [], nonEmpty: 0, error: `${(err as Error)?.name ?? 'Error'}: ${(err as Error)?.message ?? ''}` };
  }
  parentPort!.postMessage(res, [res.lineIndex?.buffer, res.derived?.buffer].filter((b) => b !== undefined) as ArrayBuffer[]);
});
