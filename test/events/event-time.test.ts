// normaliseTime's fast paths (already normal, zero offset, no fraction) must give exactly
// what the general RFC 3339 parse gives.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { normaliseTime, parseRfc3339 } from '../../src/events/event-time.js';

/** The general path alone. */
function slow(s: string): string | undefined {
  const t = parseRfc3339(s);
  if (t === undefined || t < -62167219200000 || t >= 253402300800000) return undefined;
  return new Date(t).toISOString();
}

const pad = (n: number, w: number) => String(n).padStart(w, '0');
const spelling = fc
  .record({
    y: fc.integer({ min: 0, max: 9999 }),
    mo: fc.integer({ min: 0, max: 13 }),
    d: fc.integer({ min: 0, max: 32 }),
    h: fc.integer({ min: 0, max: 24 }),
    mi: fc.integer({ min: 0, max: 60 }),
    s: fc.integer({ min: 0, max: 61 }),
    ms: fc.integer({ min: 0, max: 999 }),
    frac: fc.constantFrom('none', 'ms', 'us'),
    sep: fc.constantFrom('T', 't', ' '),
    zone: fc.constantFrom('Z', 'z', '+00:00', '-00:00', '+02:00', '-05:30', '+00:01'),
  })
  .map(({ y, mo, d, h, mi, s, ms, frac, sep, zone }) => {
    const f = frac === 'none' ? '' : frac === 'ms' ? '.' + pad(ms, 3) : '.' + pad(ms, 3) + '456';
    return `${pad(y, 4)}-${pad(mo, 2)}-${pad(d, 2)}${sep}${pad(h, 2)}:${pad(mi, 2)}:${pad(s, 2)}${f}${zone}`;
  });

describe('normaliseTime', () => {
  it('agrees with the general parse on generated spellings (valid and invalid)', () => {
    fc.assert(
      fc.property(spelling, (s) => {
        expect(normaliseTime(s)).toBe(slow(s));
      }),
      { numRuns: 3000 },
    );
  });

  it('fast-path examples', () => {
    expect(normaliseTime('2026-03-14T09:30:00.123+00:00')).toBe('2026-03-14T09:30:00.123Z');
    expect(normaliseTime('2026-03-14T09:30:00.123-00:00')).toBe('2026-03-14T09:30:00.123Z');
    expect(normaliseTime('2026-03-14T09:30:00Z')).toBe('2026-03-14T09:30:00.000Z');
    expect(normaliseTime('2024-02-29T23:59:60Z')).toBe('2024-03-01T00:00:00.000Z');
    expect(normaliseTime('2026-02-29T00:00:00.000+00:00')).toBeUndefined();
    expect(normaliseTime('2026-03-14T24:00:00Z')).toBeUndefined();
    expect(normaliseTime('0000-01-01T00:00:00.000-00:00')).toBe('0000-01-01T00:00:00.000Z');
    expect(normaliseTime('2026-03-14T09:30:00.123+00:000')).toBeUndefined();
  });
});
