// Retry timing for webhook deliveries: exponential backoff with full jitter (AWS
// architecture blog's "full jitter": sleep = random(0, min(cap, base * 2^attempt))), so a
// receiver coming back after an outage is not hit by every retry at the same instant.

export interface BackoffPolicy {
  baseMs: number;
  capMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 1000, capMs: 60 * 60 * 1000 };

/** Longest Retry-After we honour; a receiver asking for more is retried after this. */
export const MAX_RETRY_AFTER_MS = 6 * 60 * 60 * 1000;

/** Delay before the next attempt after `attempt` failed attempts (attempt >= 1). */
export function backoffDelay(attempt: number, policy: BackoffPolicy = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const exp = Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(attempt - 1, 40));
  return Math.floor(random() * exp);
}

/** Retry-After as delay-seconds or an HTTP-date (RFC 9110 §10.2.3); null when absent or unparsable. */
export function parseRetryAfter(value: string | undefined | null, nowMs: number): number | null {
  if (value === undefined || value === null) return null;
  const v = value.trim();
  if (v === '') return null;
  if (/^\d+$/.test(v)) return Math.min(Number(v) * 1000, MAX_RETRY_AFTER_MS);
  // an HTTP-date (IMF-fixdate, or the obsolete RFC 850 / asctime forms) names a day and a
  // clock time; anything else (e.g. "-5", which Date.parse takes as a year) is refused
  if (!/[A-Za-z]{3}/.test(v) || !/\d{1,2}:\d{2}:\d{2}/.test(v)) return null;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return null;
  return Math.min(Math.max(0, at - nowMs), MAX_RETRY_AFTER_MS);
}
