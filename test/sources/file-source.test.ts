import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { readLineBatches, type LineBatch } from '../../src/sources/file-source.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'aw-file-source-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function collect(path: string, opts: Parameters<typeof readLineBatches>[1] = {}): Promise<{ lines: string[]; batches: LineBatch[] }> {
  const batches: LineBatch[] = [];
  for await (const b of readLineBatches(path, opts)) batches.push(b);
  return { lines: batches.flatMap((b) => b.lines), batches };
}

function file(name: string, content: string | Buffer): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

describe('readLineBatches', () => {
  it('splits on \\n, strips \\r, keeps a last line without newline, numbers lines from 1', async () => {
    const p = file('a.log', 'one\r\ntwo\n\nfour\r\nfive');
    const { lines, batches } = await collect(p);
    expect(lines).toEqual(['one', 'two', '', 'four', 'five']);
    expect(batches[0].firstLine).toBe(1);
    expect(batches.at(-1)!.bytesRead).toBe(Buffer.byteLength('one\r\ntwo\n\nfour\r\nfive'));
    expect(batches[0].totalBytes).toBe(Buffer.byteLength('one\r\ntwo\n\nfour\r\nfive'));
  });

  it('keeps line numbers right across small chunks and multi-byte characters split between chunks', async () => {
    const content = Array.from({ length: 50 }, (_, i) => `line ${i + 1} é€😀`).join('\n') + '\n';
    const p = file('b.log', content);
    const { lines, batches } = await collect(p, { chunkBytes: 7 });
    expect(lines).toEqual(content.trimEnd().split('\n'));
    let next = 1;
    for (const b of batches) {
      expect(b.firstLine).toBe(next);
      next += b.lines.length;
    }
  });

  it('cuts an oversized line to maxLineBytes + 1 bytes without buffering it, and goes on', async () => {
    const huge = 'x'.repeat(300_000);
    const p = file('c.log', `first\n${huge}\nlast\n`);
    const { lines } = await collect(p, { maxLineBytes: 1000, chunkBytes: 4096 });
    expect(lines.length).toBe(3);
    expect(lines[0]).toBe('first');
    expect(lines[1].length).toBe(1001);
    expect(lines[2]).toBe('last');
  });

  it('cuts an oversized last line without newline', async () => {
    const p = file('d.log', `a\n${'y'.repeat(5000)}`);
    const { lines } = await collect(p, { maxLineBytes: 100, chunkBytes: 64 });
    expect(lines).toEqual(['a', 'y'.repeat(101)]);
  });

  it('passes binary garbage through as text (the ingestor rejects it)', async () => {
    const p = file('e.bin', Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x00, 0xff, 0xfe, 0x0a, 0x41, 0x0a]));
    const { lines } = await collect(p);
    expect(lines.length).toBe(2);
    expect(lines[0]).toContain('\u0000');
    expect(lines[1]).toBe('A');
  });

  it('reads stdin for "-" with totalBytes null', async () => {
    const { lines, batches } = await collect('-', { stdin: Readable.from([Buffer.from('x\ny'), Buffer.from('z\n')]) });
    expect(lines).toEqual(['x', 'yz']);
    expect(batches.every((b) => b.totalBytes === null)).toBe(true);
  });

  it('an empty file yields nothing', async () => {
    expect((await collect(file('empty.log', ''))).lines).toEqual([]);
  });
});
