// docs/errors.md lists exactly the codes of src/errors.ts, each with its HTTP status.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/errors.js';

describe('docs/errors.md', () => {
  it('documents every error code with its status, and no others', () => {
    const doc = readFileSync(resolve(import.meta.dirname, '../../docs/errors.md'), 'utf8');
    const rows = [...doc.matchAll(/^\| `([A-Z_]+)` \| (\d{3}) \|/gm)].map((m) => [m[1], Number(m[2])] as const);
    const documented = Object.fromEntries(rows);
    expect(rows.length).toBe(Object.keys(documented).length); // no duplicates
    expect(documented).toEqual(Object.fromEntries(Object.entries(ERROR_CODES).map(([code, v]) => [code, v.status])));
  });
});
