// Per-line input format detection for `--input-format auto`. JSON records are told apart by
// the keys each format always writes; text lines can only be NGINX combined.
import { isObj, type AdapterFormat, type Obj } from './adapter-types.js';
import { looksLikeAuthwatch } from './authwatch-adapter.js';
import { looksLikeEnvoy } from './envoy-adapter.js';
import { looksLikeKong } from './kong-adapter.js';
import { looksLikeNginxCombined, looksLikeNginxJson } from './nginx-adapter.js';

/** The format of a parsed JSON record, or undefined when no adapter recognises it. */
export function detectObjectFormat(o: unknown): AdapterFormat | undefined {
  if (!isObj(o)) return undefined;
  if (looksLikeAuthwatch(o)) return 'authwatch';
  if (looksLikeKong(o)) return 'kong';
  if (looksLikeEnvoy(o)) return 'envoy';
  if (looksLikeNginxJson(o as Obj)) return 'nginx';
  return undefined;
}

/** For a line that is not JSON: 'nginx' when it is a combined log line. */
export function detectTextFormat(line: string): AdapterFormat | undefined {
  return looksLikeNginxCombined(line) ? 'nginx' : undefined;
}
