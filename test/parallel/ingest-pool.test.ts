// Ingest on worker threads must not change a single alert: the same input replayed through the
// pool (real worker threads, projected events) and on one thread gives identical alerts,
// rejections and summaries. Also the pieces: field recording, projections, thread failures.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadConfig, type Config } from '../../src/config/config.js';
import { createIngestorFromConfig } from '../../src/events/ingestor-from-config.js';
import { loadRuleSet } from '../../src/rules/rule-loader.js';
import { createEngine } from '../../src/rules/engine.js';
import { fieldGetter, recordFieldReads } from '../../src/rules/sigma-matcher.js';
import { compileProjection, fullEventCopy, SOURCE_LINE } from '../../src/events/event-projection.js';
import { Replay, type ReplaySummary } from '../../src/replay.js';
import { readLineBatches } from '../../src/sources/file-source.js';
import { autoIngestThreads, IngestPool, rebuildWith } from '../../src/parallel/ingest-pool.js';
import { replayBatchesPooled } from '../../src/parallel/parallel-replay.js';
import { authwatchLines } from '../../bench/lib/datagen.js';
import type { Alert } from '../../src/alerts/alert.js';
import type { Rejection } from '../../src/events/ingest-types.js';
import type { InputFormat } from '../../src/events/ingest-types.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const SECRET = Buffer.alloc(32, 9);
// a canary shaped like a JWT, assembled here so no literal token sits in the repository
const CANARY = ['eyJhbGciOiJIUzI1NiJ9', 'eyJzdWIiOiJjYW5hcnktcGFyYWxsZWwifQ', 'Y2FuYXJ5LXNpZ25hdHVyZS1wYXJhbGxlbA'].join('.');

let tmp: string;
let config: Config;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'aw-pool-'));
  config = loadConfig({ env: {} });
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Run {
  alerts: Alert[];
  rejections: Rejection[];
  summary: ReplaySummary;
}

function build(inputFormat: InputFormat | undefined, includeExperimental = true) {
  const { result, fields } = recordFieldReads(() => {
    const loaded = loadRuleSet(join(ROOT, 'rules'), { includeExperimental });
    expect(loaded.errors).toEqual([]);
    return createEngine(loaded.ruleset, { allowedLatenessMs: 30_000, maxGroupKeys: 100_000 });
  });
  const { ingestor } = createIngestorFromConfig(config, { secret: SECRET, inputFormat });
  const alerts: Alert[] = [];
  const rejections: Rejection[] = [];
  const replay = new Replay({ ingestor, engine: result, emit: (a) => alerts.push(a), rejects: { saveRejections: (rs) => rejections.push(...rs) } });
  return { replay, fields, alerts, rejections, ingestor };
}

async function sequential(file: string, inputFormat?: InputFormat): Promise<Run> {
  const { replay, alerts, rejections } = build(inputFormat);
  for await (const b of readLineBatches(file, { chunkBytes: 64 * 1024 })) replay.ingestLines(b.lines, { source: 'file', name: file }, b.firstLine);
  return { alerts, rejections, summary: replay.finish() };
}

async function pooled(file: string, threads: number, project: boolean, inputFormat?: InputFormat): Promise<Run> {
  const { replay, fields, alerts, rejections, ingestor } = build(inputFormat);
  const pool = new IngestPool({ config, secret: SECRET, inputFormat, threads, fields: project ? fields : null, rebuild: rebuildWith(ingestor, { source: 'file', name: file }) });
  try {
    await replayBatchesPooled({ pool, replay, batches: readLineBatches(file, { chunkBytes: 16 * 1024 }), origin: { source: 'file', name: file } });
  } finally {
    await pool.close();
  }
  return { alerts, rejections, summary: replay.finish() };
}

function writeLines(name: string, lines: Iterable<string>): string {
  const f = join(tmp, name);
  writeFileSync(f, [...lines].join('\n') + '\n');
  return f;
}

describe('replay with ingest threads', () => {
  it('gives the same alerts as one thread on generated traffic (bursts, leaked tokens, jitter)', async () => {
    const f = writeLines('gen.ndjson', authwatchLines(15_000, { seed: 5, burstEvery: 1000 }));
    const one = await sequential(f);
    expect(one.alerts.length).toBeGreaterThan(10);
    for (const [threads, project] of [[1, true], [2, true], [2, false]] as const) {
      const par = await pooled(f, threads, project);
      expect(par.alerts).toEqual(one.alerts);
      expect(par.summary).toEqual(one.summary);
    }
  }, 120_000);

  it('gives the same alerts on the mixed fixture and the NGINX adapter fixture', async () => {
    const mixed = join(ROOT, 'fixtures/mixed/events.ndjson');
    const a = await sequential(mixed);
    expect(a.alerts.length).toBeGreaterThan(0);
    expect((await pooled(mixed, 2, true)).alerts).toEqual(a.alerts);
    const nginx = join(ROOT, 'fixtures/adapters/nginx/combined.log');
    const b = await sequential(nginx, 'nginx');
    const pb = await pooled(nginx, 1, true, 'nginx');
    expect(pb.alerts).toEqual(b.alerts);
    expect(pb.summary.accepted).toBe(b.summary.accepted);
    expect(pb.summary.accepted).toBeGreaterThan(0);
  }, 120_000);

  it('counts bad lines with their reasons and line numbers, keeps the rest, and never hands back a raw token', async () => {
    const good = [...authwatchLines(50, { seed: 3 })];
    const withCanary = JSON.parse(good[10]) as Record<string, unknown>;
    (withCanary.auth as Record<string, unknown>).detail = `Bearer ${CANARY}`;
    const lines = [...good.slice(0, 10), JSON.stringify(withCanary), '{"broken', '[1,2]', 'x'.repeat(70_000), ...good.slice(11)];
    const f = writeLines('bad.ndjson', lines);
    const one = await sequential(f);
    const par = await pooled(f, 2, true);
    expect(par.rejections).toEqual(one.rejections);
    expect(par.rejections.map((r) => [r.reason, r.origin.line])).toEqual([['malformed_json', 12], ['not_an_object', 13], ['line_too_long', 14]]);
    expect(par.summary.accepted).toBe(lines.length - 3);
    expect(par.summary).toEqual(one.summary);
    expect(JSON.stringify(par)).not.toContain(CANARY);
  }, 60_000);

  it('hands events over in input order, with the full redacted event behind each projection', async () => {
    const f = writeLines('order.ndjson', authwatchLines(3_000, { seed: 8 }));
    const { fields, ingestor } = build(undefined);
    const pool = new IngestPool({ config, secret: SECRET, threads: 2, fields, rebuild: rebuildWith(ingestor, { source: 'file', name: f }) });
    try {
      const ids: string[] = [];
      const batches = [];
      for await (const b of readLineBatches(f, { chunkBytes: 8 * 1024 })) batches.push(pool.submit(b.lines, { source: 'file', name: f }, b.firstLine));
      for (const b of await Promise.all(batches)) {
        for (const e of b.events) {
          ids.push(e.id);
          const full = fullEventCopy(e);
          expect(full.id).toBe(e.id);
          expect(full.observer).toBeTruthy(); // not projected: only the full event has it whole
          expect(typeof (e as unknown as Record<symbol, unknown>)[SOURCE_LINE]).toBe('string');
        }
      }
      const expected = readFileSync(f, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { id: string }).id);
      expect(ids).toEqual(expected);
    } finally {
      await pool.close();
    }
  }, 60_000);

  it('refuses a projection without a way to rebuild evidence samples', () => {
    expect(() => new IngestPool({ config, secret: SECRET, threads: 1, fields: ['http.status'] })).toThrow(/rebuild/);
  });

  it('rejects pending and later batches with a clear error once the pool is closed', async () => {
    const pool = new IngestPool({ config, secret: SECRET, threads: 1, fields: null });
    await pool.close();
    await expect(pool.submit(['{}'], { source: 'file', name: 'x' }, 1)).rejects.toMatchObject({ code: 'INGEST_THREAD_FAILED' });
  });
});

describe('field recording and projections', () => {
  it('records the fields compiled rules and correlation group-bys read, and * for keyword searches', () => {
    const { fields } = build(undefined);
    for (const f of ['http.status', 'source.ip', 'token.fp', 'auth.result']) expect(fields.has(f)).toBe(true);
    expect(fields.has('*')).toBe(false);
    const dir = join(tmp, 'kw-rules');
    rmSync(dir, { recursive: true, force: true });
    const { fields: kw } = recordFieldReads(() => {
      const rules = `title: kw\nid: 9e1d7c2a-3b4c-4d5e-8f60-718293a4b5c6\nname: kw\nstatus: stable\nlogsource: { product: authwatch }\ndetection:\n  keywords:\n    - '*sqlmap*'\n  condition: keywords\nlevel: low\n`;
      const d = join(dir, 'stable');
      mkdirSync(d, { recursive: true });
      writeFileSync(join(d, 'kw.yml'), rules);
      const loaded = loadRuleSet(dir, { includeExperimental: false });
      expect(loaded.errors).toEqual([]);
      return loaded;
    });
    expect(kw.has('*')).toBe(true);
    expect(compileProjection(kw)).toBeNull();
  });

  it('projects each read path flat, as the getters read it; the getters read the same values back', () => {
    const paths = ['http.status', 'token.scope', 'a.b.c', 'x.y', 'gone.deep', 'token', 'client_id'];
    const p = compileProjection(paths)!;
    const ev = { id: 'i', time: 't', http: { status: 401, route: '/r' }, token: { scope: ['a', 'b'], fp: 'f' }, a: { b: { c: null, d: 1 } }, 'x.y': 'literal', client_id: 'c', other: 1 };
    const proj = p(ev);
    expect(proj).toEqual({ id: 'i', time: 't', 'http.status': 401, 'token.scope': ['a', 'b'], 'a.b.c': null, 'x.y': 'literal', token: ev.token, client_id: 'c' });
    for (const f of [...paths, 'token.fp']) expect(fieldGetter(f)(proj)).toEqual(fieldGetter(f)(ev));
  });
});

describe('--workers auto', () => {
  it('starts no ingest thread below 4 cores (measured not to pay on 2), cores-2 up to 4 above', () => {
    expect([1, 2, 3, 4, 6, 8, 64].map((c) => autoIngestThreads(c))).toEqual([0, 0, 0, 2, 4, 4, 4]);
  });
});
