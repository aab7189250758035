// Messages between the ingest pool (main thread) and its worker threads.
import type { Origin, Rejection } from '../events/ingest-types.js';

export interface IngestThreadInit {
  /** the validated config (plain data) */
  config: unknown;
  /** the fingerprint HMAC key, resolved once by the main thread so every thread uses the same */
  secret: Uint8Array;
  inputFormat?: string;
  /** the fields the rules read (projection), or null to hand over whole events */
  fields: string[] | null;
}

export interface IngestRequest {
  seq: number;
  /** (an array of slices clones faster than one joined string, measured) */
  lines: string[];
  origin: Omit<Origin, 'line'>;
  firstLine: number;
}

export interface IngestResponse {
  seq: number;
  /** the accepted events, in input order, as one JSON array text */
  events: string;
  /** per event, the index of its line in the request (transferred, not copied) */
  lineIndex?: Int32Array;
  accepted: number;
  /** per event, 1 when the thread derived its id from the content (numbered on the main thread, in input order) */
  derived?: Uint8Array;
  rejections: Rejection[];
  /** non-blank lines seen (the replay summary's "lines read") */
  nonEmpty: number;
  /** set when the thread hit a bug (not bad input): the batch's lines were not ingested */
  error?: string;
}
