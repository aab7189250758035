// kill -9 at random moments: the database must open, pass integrity_check and hold every
// alert the writer acknowledged (printed after saveAlerts returned).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/store.js';
import { tempDbFile } from './helpers.js';

const WRITER = fileURLToPath(new URL('./fixtures/crash-writer.ts', import.meta.url));

function runAndKill(file: string, prefix: string, killAfterAcks: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WRITER, file, prefix], { stdio: ['ignore', 'pipe', 'pipe'] });
    const acked: string[] = [];
    let buf = '';
    let stderr = '';
    let killed = false;
    const guard = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`writer never reached ${killAfterAcks} acks: ${stderr}`));
    }, 60_000);
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const l of lines) if (l.startsWith('al_')) acked.push(l);
      if (!killed && acked.length >= killAfterAcks) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.on('exit', (_code, signal) => {
      clearTimeout(guard);
      if (signal !== 'SIGKILL') reject(new Error(`writer exited without being killed: ${stderr}`));
      else resolve(acked); // lines read before the kill; any later partial line is not counted
    });
  });
}

describe('store: crash safety', () => {
  it('every acknowledged write survives kill -9 at random moments (6 kills)', async () => {
    const file = tempDbFile('aw-crash-');
    const all: string[] = [];
    for (let round = 0; round < 6; round++) {
      const acked = await runAndKill(file, `r${round}`, 30 + Math.floor(Math.random() * 600));
      all.push(...acked);
      const store = openStore(file);
      try {
        expect(store.db.pragma('integrity_check', { simple: true })).toBe('ok');
        const missing = acked.filter((id) => store.getAlert(id) === null);
        expect(missing).toEqual([]);
        // each acknowledged alert came with its auto-approved action in the same transaction
        for (const id of acked.slice(-20)) expect(store.listActions({ alert: id }, 5).items).toHaveLength(1);
      } finally {
        store.close();
      }
    }
    const store = openStore(file);
    try {
      expect(all.filter((id) => store.getAlert(id) === null)).toEqual([]);
    } finally {
      store.close();
    }
  }, 180_000);
});
