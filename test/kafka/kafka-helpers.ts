// Shared pieces of the Kafka tests: a unique namespace per test, producing lines, reading topics,
// the replay reference, and materialising the alerts topic into a store (what an API node does).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import kafkajs from 'kafkajs';
import YAML from 'yaml';
import { loadConfig, PACKAGE_ROOT, type Config } from '../../src/config/config.js';
import type { Alert } from '../../src/alerts/alert.js';
import { createIngestor } from '../../src/events/ingestor.js';
import { compileRoutePolicy } from '../../src/events/route-policy.js';
import { createEngine } from '../../src/rules/engine.js';
import { loadRuleSet } from '../../src/rules/rule-loader.js';
import { Replay } from '../../src/replay.js';
import { RuleRouter } from '../../src/sources/kafka/rule-router.js';
import { BUNDLE_HEADER, bundleLines } from '../../src/sources/kafka/rule-bundle.js';
import { openStore, type Store, type StoredAlert } from '../../src/store/store.js';
import { parseDuration } from '../../src/util/duration.js';

const { Kafka, logLevel } = kafkajs;

export const MIXED_EVENTS = join(PACKAGE_ROOT, 'fixtures', 'mixed', 'events.ndjson');
export const FINGERPRINT_SECRET = 'kafka-test-fingerprint-secret-0123456789';
/**
 * A test's backlog is produced before the workers start and then read from 3 partitions at uneven
 * speeds, so the cross-partition skew can be hours of event time: lateness covers the whole stream.
 */
export const LATENESS = '24h';

export function mixedLines(): string[] {
  return readFileSync(MIXED_EVENTS, 'utf8').split('\n').filter((l) => l.trim() !== '');
}

/** The mixed hour `copies` times over, each copy an hour later with its own event ids (malformed lines kept as they are). */
export function longerMixedLines(copies: number): string[] {
  const base = mixedLines();
  const out: string[] = [];
  for (let c = 0; c < copies; c++) {
    for (const line of base) {
      let o: Record<string, unknown>;
      try {
        o = JSON.parse(line) as Record<string, unknown>;
      } catch {
        out.push(line);
        continue;
      }
      if (o && typeof o === 'object' && !Array.isArray(o) && c > 0) {
        if (typeof o.id === 'string') o.id = `${o.id}-c${c}`;
        const t = typeof o.time === 'string' ? Date.parse(o.time) : NaN;
        if (!Number.isNaN(t)) o.time = new Date(t + c * 3_600_000).toISOString();
      }
      out.push(JSON.stringify(o));
    }
  }
  return out;
}

export const REPO_ROOT = PACKAGE_ROOT;

export interface SpawnedWorker {
  child: ChildProcess;
  /** resolves when the worker printed that it is consuming (false if it exited first) */
  ready: Promise<boolean>;
  exited: Promise<number | null>;
  stderr(): string;
}

/** `node bin/authwatch.js worker --config FILE --data DIR`, a real process. */
export function spawnWorker(configFile: string, dataDir: string): SpawnedWorker {
  const child = spawn(process.execPath, [join(PACKAGE_ROOT, 'bin', 'authwatch.js'), 'worker', '--config', configFile, '--data', dataDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-20_000);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = new Promise<boolean>((resolve) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('consuming')) resolve(true);
    });
    void exited.then(() => resolve(false));
  });
  return { child, ready, exited, stderr: () => err };
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

export interface TestKafkaConfig {
  name: string;
  brokers: string[];
  /** YAML-able config object (for spawned workers) */
  raw: Record<string, unknown>;
  config(dataDir: string): Config;
  writeConfigFile(dir: string): string;
}

export function kafkaTestConfig(brokers: string[], name = uniqueName('aw')): TestKafkaConfig {
  const raw = {
    log: { level: 'warn' },
    ingest: { fingerprint_secret: FINGERPRINT_SECRET },
    rules: { allowed_lateness: LATENESS, watch: false },
    kafka: {
      brokers,
      client_id: name,
      group_id: name,
      topics: { events: `${name}.events`, alerts: `${name}.alerts`, actions: `${name}.actions`, dlq: `${name}.dlq` },
      max_in_flight_batches: 2,
    },
  };
  return {
    name,
    brokers,
    raw,
    config: (dataDir) => loadConfig({ overrides: { ...flatten(raw), data_dir: dataDir } }),
    writeConfigFile: (dir) => {
      const file = join(dir, 'authwatch.yml');
      writeFileSync(file, YAML.stringify(raw));
      return file;
    },
  };
}

function flatten(o: Record<string, unknown>, prefix = ''): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    if (v && typeof v === 'object' && !Array.isArray(v)) Object.assign(out, flatten(v as Record<string, unknown>, `${prefix}${k}.`));
    else out[`${prefix}${k}`] = v;
  }
  return out;
}

export function tempDir(prefix = 'aw-kafka-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function client(brokers: string[], clientId = 'authwatch-test') {
  return new Kafka({ clientId, brokers, logLevel: logLevel.NOTHING });
}

export async function createTopics(brokers: string[], topics: Array<{ topic: string; partitions: number }>): Promise<void> {
  const admin = client(brokers).admin();
  await admin.connect();
  try {
    await admin.createTopics({ waitForLeaders: true, topics: topics.map((t) => ({ topic: t.topic, numPartitions: t.partitions, replicationFactor: 1 })) });
  } finally {
    await admin.disconnect();
  }
}

/** Produce lines round-robin over the partitions (key = line number); returns where each landed. */
export async function produceLines(brokers: string[], topic: string, lines: readonly (string | Buffer)[], partitions = 3, firstIndex = 0): Promise<Array<{ partition: number; offset: string }>> {
  const producer = client(brokers).producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const where: Array<{ partition: number; offset: string }> = [];
  try {
    const CHUNK = 500;
    for (let i = 0; i < lines.length; i += CHUNK) {
      const chunk = lines.slice(i, i + CHUNK);
      // one send per partition keeps per-partition order = file order
      for (let p = 0; p < partitions; p++) {
        // partition by the line's index in the whole stream, so slices produced apart land like one stream
        const msgs = chunk.map((value, j) => ({ idx: i + j, value })).filter((m) => (m.idx + firstIndex) % partitions === p);
        if (msgs.length === 0) continue;
        const res = await producer.send({ topic, acks: -1, messages: msgs.map((m) => ({ key: String(m.idx + firstIndex), value: m.value, partition: p })) });
        const base = BigInt(res[0].baseOffset!);
        msgs.forEach((m, k) => (where[m.idx] = { partition: p, offset: (base + BigInt(k)).toString() }));
      }
    }
  } finally {
    await producer.disconnect();
  }
  return where;
}

export interface ReadMessage {
  partition: number;
  offset: string;
  key: string | null;
  value: string;
  headers: Record<string, string>;
}

/** Every committed message of a topic, from the beginning to the current end (bounded wait). */
export async function readTopic(brokers: string[], topic: string, opts: { transactional?: boolean } = {}): Promise<ReadMessage[]> {
  // a transactional topic ends with a commit marker, which takes an offset but is never delivered
  const markers = opts.transactional ? 1n : 0n;
  const kafka = client(brokers);
  const admin = kafka.admin();
  await admin.connect();
  const offs = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const pending = new Map(offs.filter((o) => BigInt(o.high) > BigInt(o.low)).map((o) => [o.partition, BigInt(o.high)]));
  const out: ReadMessage[] = [];
  if (pending.size === 0) return out;
  const consumer = kafka.consumer({ groupId: uniqueName('reader'), maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`reading ${topic} timed out`)), 60_000);
      const check = (partition: number, next: bigint) => {
        // transaction markers take offsets: the last record of a transactional topic sits below high - 1
        const end = pending.get(partition);
        if (end !== undefined && next >= end - markers) pending.delete(partition);
        if (pending.size === 0) {
          clearTimeout(timer);
          resolve();
        }
      };
      consumer
        .run({
          eachBatch: async ({ batch }) => {
            for (const m of batch.messages) {
              const headers: Record<string, string> = {};
              for (const [k, v] of Object.entries(m.headers ?? {})) if (v !== undefined) headers[k] = v.toString();
              out.push({ partition: batch.partition, offset: m.offset, key: m.key?.toString() ?? null, value: m.value?.toString() ?? '', headers });
            }
            if (batch.messages.length) check(batch.partition, BigInt(batch.messages[batch.messages.length - 1].offset) + 1n);
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return out;
}

/** The event copies in records of the internal rules topic (bundles: one line per event, with its input offset). */
export function forwardedCopies(records: readonly ReadMessage[]): Array<{ at: string; partition: number; line: string }> {
  return records.flatMap((r) => {
    const lines = bundleLines(Buffer.from(r.value, 'utf8'));
    if (!lines.length) return []; // a watermark-only record
    const offsets = r.headers[BUNDLE_HEADER.sourceOffsets].split(',');
    if (lines.length !== offsets.length) throw new Error(`bundle at ${r.partition}:${r.offset} has ${lines.length} lines and ${offsets.length} offsets`);
    return lines.map((line, i) => ({ at: `${r.headers[BUNDLE_HEADER.sourcePartition]}:${offsets[i]}`, partition: r.partition, line }));
  });
}

/** The reference: `authwatch replay` semantics (Replay over the same lines, same rules and secret). */
export function replayAlerts(lines: readonly string[], cfg: Config): Alert[] {
  const ingestor = createIngestor({
    fingerprintSecret: Buffer.from(FINGERPRINT_SECRET),
    routePolicy: compileRoutePolicy(cfg.route_policy),
    maxLineBytes: cfg.ingest.max_line_bytes,
    inputFormat: cfg.ingest.input_format,
  });
  const loaded = loadRuleSet(cfg.rules.dir, { includeExperimental: cfg.rules.include_experimental });
  if (loaded.errors.length) throw new Error(`rules failed to load: ${JSON.stringify(loaded.errors.slice(0, 3))}`);
  const engine = createEngine(loaded.ruleset, { allowedLatenessMs: parseDuration(cfg.rules.allowed_lateness), maxGroupKeys: cfg.rules.max_group_keys });
  const out: Alert[] = [];
  const replay = new Replay({ ingestor, engine, emit: (a) => out.push(a) });
  replay.ingestLines(lines, { source: 'file', name: 'mixed' }, 1);
  replay.finish();
  return out;
}

/**
 * Where stage 1 should send each line (index → rule-stage partitions), computed apart from the
 * worker: the same ingestor and rule set, and the router over `partitions` partitions.
 */
export function expectedRouting(lines: readonly (string | Buffer)[], cfg: Config): Map<number, Set<number>> {
  const ingestor = createIngestor({
    fingerprintSecret: Buffer.from(FINGERPRINT_SECRET),
    routePolicy: compileRoutePolicy(cfg.route_policy),
    maxLineBytes: cfg.ingest.max_line_bytes,
    inputFormat: cfg.ingest.input_format,
  });
  const loaded = loadRuleSet(cfg.rules.dir, { includeExperimental: cfg.rules.include_experimental });
  const router = new RuleRouter(loaded.ruleset, cfg.kafka.rule_partitions);
  const out = new Map<number, Set<number>>();
  lines.forEach((line, i) => {
    const r = ingestor.ingestLine(typeof line === 'string' ? line : line.toString('utf8'), { source: 'kafka', name: 'test', partition: 0, offset: String(i) });
    if (r.ok) out.set(i, new Set(router.targets(r.event).keys()));
  });
  return out;
}

/** What "the same alerts" means: id, rule, group, count, first/last seen. */
export function project(alerts: readonly Alert[]): string[] {
  return alerts
    .map((a) => JSON.stringify({ id: a.id, rule: a.rule.id, group: a.group, count: a.count, first_seen: a.first_seen, last_seen: a.last_seen }))
    .sort();
}

export function storeAlerts(store: Store): StoredAlert[] {
  const out: StoredAlert[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < 1000; i++) {
    const page = store.listAlerts({}, 500, cursor);
    out.push(...page.items);
    if (!page.next_cursor) break;
    cursor = page.next_cursor;
  }
  return out;
}

/** What every API node does with the alerts topic: upsert each value into its own store (monotone, order-free). */
export function materialiseAlerts(messages: readonly ReadMessage[], dir: string): StoredAlert[] {
  const store = openStore(join(dir, `view-${randomBytes(3).toString('hex')}.db`), { synchronous: 'NORMAL' });
  try {
    for (const m of messages) store.saveAlerts([(JSON.parse(m.value) as { alert: Alert }).alert]);
    return storeAlerts(store);
  } finally {
    store.close();
  }
}

/** Poll `probe` until it returns true or the bound passes; the caller asserts afterwards either way. */
export async function waitUntil(probe: () => boolean | Promise<boolean>, boundMs: number, everyMs = 250): Promise<boolean> {
  const deadline = Date.now() + boundMs;
  while (Date.now() < deadline) {
    if (await probe()) return true;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return probe();
}

/** Messages the group has committed on a topic (summed over partitions). */
export async function committedTotal(brokers: string[], groupId: string, topic: string): Promise<number> {
  const admin = client(brokers).admin();
  await admin.connect();
  try {
    const res = await admin.fetchOffsets({ groupId, topics: [topic] });
    return res.flatMap((t) => t.partitions).reduce((n, p) => n + Math.max(0, Number(p.offset)), 0);
  } finally {
    await admin.disconnect();
  }
}

/** A small seeded generator, so a failing kill schedule can be replayed. */
export function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
