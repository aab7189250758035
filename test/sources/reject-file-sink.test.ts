import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RejectFileSink } from '../../src/sources/reject-file-sink.js';
import { testIngestor, ORIGIN } from '../events/support/ingest.js';
import { expectNoSecret, mintJwt } from '../events/support/tokens.js';
import type { Rejection } from '../../src/events/ingest-types.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'aw-reject-sink-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('RejectFileSink', () => {
  it('appends rejections as NDJSON with reason, origin and redacted raw input; the file is private', () => {
    const jwt = mintJwt();
    const ing = testIngestor();
    const rejections = ['{broken', `{"observer": 1, "t": "${jwt}"}`, 'Authorization: Bearer ' + jwt].map((l, i) => {
      const r = ing.ingestLine(l, { ...ORIGIN, line: i + 1 });
      if (r.ok) throw new Error('expected a rejection');
      return r.rejection;
    });
    const path = join(dir, 'sub', 'rejected.ndjson');
    const sink = new RejectFileSink(path, () => new Date('2026-03-14T09:30:00Z'));
    sink.saveRejections(rejections.slice(0, 2));
    sink.saveRejections(rejections.slice(2));
    sink.saveRejections([]);
    sink.close();
    const text = readFileSync(path, 'utf8');
    const rows = text.trim().split('\n').map((l) => JSON.parse(l));
    expect(rows.map((r) => r.reason)).toEqual(['malformed_json', 'unknown_format', 'unknown_format']);
    expect(rows.map((r) => r.origin.line)).toEqual([1, 2, 3]);
    expect(rows[0]).toMatchObject({ at: '2026-03-14T09:30:00.000Z', raw: '{broken' });
    expectNoSecret(text, [jwt]);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(sink.written).toBe(3);
  });

  it('redacts raw text again, whoever made the rejection', () => {
    const jwt = mintJwt();
    const path = join(dir, 'again.ndjson');
    const sink = new RejectFileSink(path);
    const r: Rejection = { reason: 'malformed_json', message: `bad ${jwt}`, origin: { source: 'http', name: 'client' }, raw: `x ${jwt}` };
    sink.saveRejections([r]);
    sink.close();
    expectNoSecret(readFileSync(path, 'utf8'), [jwt]);
  });
});
