// What the ingest stage (adapters → redaction → validation) gives back for each input line.
import type { AwEvent } from './event.js';

export const INPUT_FORMATS = ['auto', 'authwatch', 'nginx', 'envoy', 'kong'] as const;
export type InputFormat = (typeof INPUT_FORMATS)[number];

/** Where an input line came from, carried into rejections and the dead-letter records. */
export interface Origin {
  source: 'file' | 'stdin' | 'http' | 'kafka' | 'self';
  name: string; // file path, client id, topic ...
  line?: number; // 1-based line number (files, HTTP bodies)
  partition?: number;
  offset?: string;
}

/** Stable reason codes for rejected input (docs/event-contract.md lists them). */
export const REJECT_REASONS = [
  'line_too_long', // over ingest.max_line_bytes
  'not_utf8', // binary garbage
  'malformed_json',
  'not_an_object',
  'unknown_format', // auto-detect found no adapter for the line
  'adapter_error', // an adapter could not map the line (message says why)
  'invalid_time',
  'schema_violation', // missing required field / wrong type (message names the field)
  'too_large', // too deep, too many keys or too long arrays
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

export interface Rejection {
  reason: RejectReason;
  message: string; // names the field and the problem; never token material
  origin: Origin;
  /** the offending input, redacted and truncated (kept so nothing is silently lost) */
  raw: string;
}

export type IngestOutcome =
  /** derivedId: the ingestor derived the event's id from its content (the input had none); see repeated-content.ts */
  | {
      ok: true;
      event: AwEvent;
      format: Exclude<InputFormat, 'auto'>;
      derivedId: boolean;
      /**
       * Set only when the caller asked to defer line ids (ingestLine's `deferLineId`) and the id
       * would be a line id (events/event-id.ts nginxCombinedLineId): the event's id is left `''`
       * and this is the line to derive it from, with the event's observer name, when needed.
       */
      lineForId: string | undefined;
    }
  | { ok: false; rejection: Rejection };

/** Normalise → redact → validate, one line or one parsed object at a time. Never throws. */
export interface Ingestor {
  /** `deferLineId`: leave a line-derived id to the caller (IngestOutcome.lineForId); for callers that read ids of some events only */
  ingestLine(line: string, origin: Origin, deferLineId?: boolean): IngestOutcome;
  ingestObject(obj: unknown, origin: Origin): IngestOutcome;
}
