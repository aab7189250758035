// Durations in config and rule files: "500ms", "30s", "5m", "1h", "7d", or Sigma's
// timespan forms ("60s", "1h"). Parsed once at load, never per event.
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const DURATION_RE = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)$/;

export class DurationError extends Error {
  readonly code = 'INVALID_DURATION';
}

export function parseDuration(text: string | number): number {
  if (typeof text === 'number') {
    if (!Number.isFinite(text) || text < 0) throw new DurationError(`invalid duration ${text}`);
    return text * 1000; // bare numbers are seconds
  }
  const m = DURATION_RE.exec(text.trim());
  if (!m) throw new DurationError(`invalid duration "${text}" (expected e.g. 30s, 5m, 1h, 7d)`);
  return Math.round(Number(m[1]) * UNIT_MS[m[2]]);
}

export function formatDuration(ms: number): string {
  for (const [u, f] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms % f === 0 && ms >= f) return `${ms / f}${u}`;
  }
  return `${ms}ms`;
}
