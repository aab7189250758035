// Event time: RFC 3339 with any offset in, UTC with milliseconds out, so string order is
// time order and Date.parse is exact. Leap seconds (":60") roll into the next minute.

const RFC3339_RE = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysIn(year: number, month: number): number {
  if (month === 2 && (year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0))) return 29;
  return DAYS_IN_MONTH[month - 1];
}

/** Epoch milliseconds of an RFC 3339 timestamp, or undefined when it is not one. */
export function parseRfc3339(s: string): number | undefined {
  if (typeof s !== 'string' || s.length > 64) return undefined;
  const m = RFC3339_RE.exec(s);
  if (!m) return undefined;
  const y = +m[1], mo = +m[2], d = +m[3], h = +m[4], mi = +m[5], sec = +m[6];
  if (mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo) || h > 23 || mi > 59 || sec > 60) return undefined;
  const ms = m[7] ? Math.floor(+(m[7] + '000').slice(0, 3)) : 0;
  let offsetMin = 0;
  if (!m[8]) {
    const oh = +m[10], om = +m[11];
    if (oh > 23 || om > 59) return undefined;
    offsetMin = (m[9] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  // 2000 is a leap year, so every valid month/day exists; Date.UTC maps years 0-99 to 19xx, hence setUTCFullYear.
  const date = new Date(Date.UTC(2000, mo - 1, d, h, mi));
  date.setUTCFullYear(y);
  const t = date.getTime() + sec * 1000 + ms - offsetMin * 60_000;
  return Number.isFinite(t) ? t : undefined;
}

const YEAR_0 = -62167219200000; // 0000-01-01T00:00:00.000Z
const YEAR_10000 = 253402300800000; // 10000-01-01T00:00:00.000Z

// Already normalised (what most producers write): only the ranges need checking.
const NORMAL_RE = /^\d{4}-(\d\d)-(\d\d)T([01]\d|2[0-3]):[0-5]\d:[0-5]\d\.\d{3}Z$/;

/** Normalised `YYYY-MM-DDTHH:mm:ss.sssZ`, or undefined when invalid or outside years 0000-9999 after conversion. */
export function normaliseTime(s: string): string | undefined {
  // Gateway logs have a one-second resolution, so runs of lines carry the same time string:
  // the last answer is remembered (one entry; a comparison with a different string stops early).
  if (s === lastTimeIn) return lastTimeOut;
  const out = normaliseUncached(s);
  lastTimeIn = s;
  lastTimeOut = out;
  return out;
}
let lastTimeIn = ''; // (normaliseUncached('') is undefined)
let lastTimeOut: string | undefined;

/** Date.parse(s), the last answer remembered as normaliseTime does (NaN when invalid). */
export function epochMs(s: string): number {
  if (s !== lastMsIn) {
    lastMsIn = s;
    lastMsOut = Date.parse(s);
  }
  return lastMsOut;
}
let lastMsIn = '';
let lastMsOut = Number.NaN; // (Date.parse('') is NaN)

function normaliseUncached(s: string): string | undefined {
  // Common spellings that differ from the normal form only by their suffix: a zero offset
  // (`…58.123+00:00`) or no fraction (`…58Z`). Rewritten, they take the normal-form check.
  let n = s;
  if (s.length === 29 && s.charCodeAt(26) === 58 /* : */ && (s.endsWith('+00:00') || s.endsWith('-00:00'))) n = s.slice(0, 23) + 'Z';
  else if (s.length === 20 && s.charCodeAt(19) === 90 /* Z */) n = s.slice(0, 19) + '.000Z';
  if (n.length === 24) {
    const m = NORMAL_RE.exec(n);
    if (m) {
      const mo = +m[1], d = +m[2];
      return mo >= 1 && mo <= 12 && d >= 1 && d <= daysIn(+n.slice(0, 4), mo) ? n : undefined;
    }
  }
  const t = parseRfc3339(s);
  if (t === undefined || t < YEAR_0 || t >= YEAR_10000) return undefined;
  return new Date(t).toISOString();
}
