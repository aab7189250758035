// API under load while ingesting: the alert list and feed endpoints of a real server on
// loopback, holding N alerts, while the pipeline ingests events (alerts keep being written).
// The load generator runs in a CHILD process (same file, --client) so it does not share the
// server's event loop; on a 2-core machine it still shares the CPUs, which the output says
// (CPU of the server, the client and other work on the machine per phase, from /proc/stat).
//
//   npx tsx bench/api.bench.ts [--alerts 20000] [--seconds 10] [--rate 1000] [--concurrency 16] [--sync GROUP|FULL|NORMAL]
//
// Routes rotated: list, list filtered, feed "tail" (a SIEM poller: cursor within the newest
// 1,000 changes) and feed "backfill" (cursor anywhere in the history: a reader catching up from
// the start, whose alerts are mostly outside the store's parsed-alert cache). The aim figure is
// list + tail feed; the backfill feed is reported beside it.
//
// Phases: (1b, run first) paced at --rate req/s with list and tail feed only: issue 7's aim,
// list + tail feed p99 ≤ 5 ms at 1,000 req/s while ingesting; (1) the same rate over all four
// routes (a quarter backfill pages); each paced phase first sends for --warmup seconds (1 by
// default) without recording (fresh sockets, first compiles);
// (2) closed loop with --concurrency connections (max req/s); (3) wrk, when installed, closed loop
// over list + tail feed (a C client leaves more of the shared CPUs to the server). Server CPU
// per request (process CPU time, ingest batches subtracted) is the figure least sensitive to
// other load on the machine. Plus the store's write cost with
// synchronous=FULL versus NORMAL versus GROUP (group commit, the server's default: commits as
// NORMAL, the fsync off the event loop; the durability choice, docs/api.md).
//
// The client (changed in the fourth round of issue 7; figures before it are not comparable):
// raw-socket HTTP/1.1 keep-alive, open loop — request i is due at start + i/rate whatever
// happened before, and its latency runs from that due time, so waiting for a free connection
// or a late client timer counts (no coordinated omission). Until then it was node:http with one
// in-flight request per worker, latency from the actual send: it cost ~0.5 of a core at
// 1,000 req/s (the server needs ~0.6-0.8 of the 2), and a server stall delayed the next sends
// instead of counting against them. Neither process is pinned: pinned to one core (taskset)
// the server saturates — its main thread, GC helper threads and SQLite's fsync thread need
// more than one core together (probe runs: p99 0.7 s on one core against 50-70 ms unpinned).
// The phase with list + tail feed runs before the mixed one, which saturates the server and
// left old-generation garbage and a backlog behind it.
//
// Ingest beside the load: ~1,000 events/s offered as 50-line bodies every 50 ms, through the
// same sliced path as POST /v1/events (sliced-ingest.ts: 16 lines per pipeline call, yielding
// after ~1 ms), in this process, without the HTTP round trip. Until this round the bench called
// pipeline.ingestLines with the 50 lines at once (as the route then did), holding the loop
// 2-4 ms per batch. The server's store runs with --sync (default GROUP; FULL was the default
// before, and its figures were measured with it). "Server CPU per request (ingest excluded)"
// now subtracts the CPU measured inside each ingest slice; before, it subtracted the batches'
// wall time, which on a loaded machine (preemption inside a batch) exceeded their CPU and made
// the per-request figure too low: old and new figures of that row are not strictly comparable.
// Event-loop delay (perf_hooks histogram) is reported per phase: a request cannot be answered
// faster than the loop gets to it, so its p99 bounds the latency p99 from below (ingest
// batches, store commits, GC, and the CPU share the machine leaves the process).
import { spawn, spawnSync } from 'node:child_process';
import net from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { alertId, type Alert } from '../src/alerts/alert.js';
import { ingestSliced } from '../src/delivery/api/sliced-ingest.js';
import { openStore } from '../src/store/store.js';
import { authwatchLines } from './lib/datagen.js';
import { machineFacts } from './lib/machine.js';
import { reportResult, type Figure } from './lib/result.js';
import { percentile } from './lib/stats.js';

const SELF = fileURLToPath(import.meta.url);
const QUICK = process.env.BENCH_QUICK === '1';

interface ClientResult {
  latencies: Record<string, number[]>;
  errors: number;
  statuses: Record<string, number>;
  elapsedMs: number;
  requests: number;
  /** p99 of how late the client sent a request after its due time (a busy or descheduled client) */
  lateSendP99: number;
  /** the client process's CPU time over the phase */
  cpuMs: number;
  /** ... and since it started (its start-up included) */
  cpuTotalMs: number;
  /** latency p99 (all routes) counted from the actual send instead of the due time */
  fromSendP99: number;
}

// ------------------------------------------------------------------ client mode (child process)

/**
 * A minimal HTTP/1.1 keep-alive client on raw sockets: one prebuilt request per route, responses
 * framed by Content-Length (the alert routes always send one). Until this round the client was
 * node:http, which cost the load generator ~0.5 of a core at 1,000 req/s on this 2-core machine
 * (the server needs ~0.8): the client's own CPU, GC and timer lateness were read as server
 * latency. This one costs a fraction of that (its CPU time is reported per phase).
 */
class RawConnection {
  private buf: Buffer | null = null;
  private need = -1; // body bytes still expected once the head is parsed
  private status = 0;
  onResponse: (status: number) => void = () => {};

  private constructor(readonly socket: net.Socket) {
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => this.data(d));
  }

  static open(host: string, port: number): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ host, port }, () => resolve(new RawConnection(s)));
      s.once('error', reject);
    });
  }

  send(request: Buffer): void {
    this.socket.write(request);
  }

  /** Response bytes: the head is parsed, a body is only counted (never copied). */
  private data(d: Buffer): void {
    let at = 0;
    while (at < d.length) {
      if (this.need === -1) {
        // the head, possibly split across packets
        const chunk = this.buf ? Buffer.concat([this.buf, d.subarray(at)]) : d.subarray(at);
        const headEnd = chunk.indexOf('\r\n\r\n');
        if (headEnd === -1) {
          this.buf = Buffer.from(chunk);
          return;
        }
        const head = chunk.toString('latin1', 0, headEnd);
        this.status = Number(head.slice(9, 12));
        const len = /\r\ncontent-length:\s*(\d+)/i.exec(head);
        if (!len) throw new Error(`bench client: a response without content-length (${head.split('\r\n')[0]})`);
        this.need = Number(len[1]);
        // continue in d after the head (the part of the head that came from this.buf is before `at`)
        at += headEnd + 4 - (this.buf ? this.buf.length : 0);
        this.buf = null;
      }
      const take = Math.min(this.need, d.length - at);
      this.need -= take;
      at += take;
      if (this.need === 0) {
        this.need = -1;
        this.onResponse(this.status);
      }
    }
  }
}

async function clientMain(a: { url: string; token: string; seconds: number; rate: number; concurrency: number; head: number; backfill: boolean; warmup: number }): Promise<void> {
  const u = new URL(a.url);
  const request = (path: string) => Buffer.from(`GET ${path} HTTP/1.1\r\nHost: ${u.host}\r\nAuthorization: Bearer ${a.token}\r\n\r\n`, 'latin1');
  // Tail-feed cursors: one prebuilt request per cursor (the newest 1,000 changes).
  const tail = Array.from({ length: 1000 }, (_, k) => request(`/v1/alerts/feed?limit=100&cursor=${Math.max(0, a.head - k)}`));
  const allPaths: Array<[string, () => Buffer]> = [
    ['list', ((r) => () => r)(request('/v1/alerts?limit=50'))],
    ['list_filtered', ((r) => () => r)(request('/v1/alerts?limit=50&level=high&status=open'))],
    ['feed', () => tail[Math.floor(Math.random() * 1000)]],
    ['feed_backfill', () => request(`/v1/alerts/feed?limit=100&cursor=${Math.floor(Math.random() * Math.max(1, a.head))}`)],
  ];
  const paths = a.backfill ? allPaths : allPaths.filter(([k]) => k !== 'feed_backfill');
  const res: ClientResult = { latencies: Object.fromEntries(paths.map(([k]) => [k, []])), errors: 0, statuses: {}, elapsedMs: 0, requests: 0, lateSendP99: 0, cpuMs: 0, cpuTotalMs: 0, fromSendP99: 0 };
  const fromSend: number[] = [];
  const conns = await Promise.all(Array.from({ length: a.concurrency }, () => RawConnection.open(u.hostname, Number(u.port))));
  const idle = [...conns];
  const lateSend: number[] = [];
  const cpu0 = process.cpuUsage();
  const start = performance.now() + 5;
  // The warm-up seconds are sent but not recorded: fresh sockets and a cold server route
  // (first compiles) made the first ~300 ms of every phase read 60-100 ms.
  const measureFrom = start + a.warmup * 1000;
  const end = measureFrom + a.seconds * 1000;
  // Open loop when paced: request i is due at start + i / rate, whatever happened before, and
  // its latency is counted from that due time (a request waiting for a free connection, or a
  // late client timer, counts against the latency: no coordinated omission). Closed loop
  // (rate 0): each connection sends its next request as soon as the previous one is answered.
  const due: Array<{ at: number; route: number; req: Buffer }> = [];
  let sent = 0;
  let inFlight = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  let stopping = false;
  const dispatch = () => {
    while (idle.length && (a.rate > 0 ? due.length > 0 : !stopping)) {
      const c = idle.pop()!;
      const route = sent++ % paths.length;
      const job = a.rate > 0 ? due.shift()! : { at: performance.now(), route, req: paths[route][1]() };
      const t0 = performance.now();
      if (job.at >= measureFrom) lateSend.push(t0 - job.at);
      inFlight++;
      c.onResponse = (status) => {
        const t = performance.now();
        inFlight--;
        if (job.at >= measureFrom && job.at < end) {
          res.latencies[paths[job.route][0]].push(t - job.at);
          fromSend.push(t - t0);
          res.statuses[status] = (res.statuses[status] ?? 0) + 1;
          res.requests++;
          if (status !== 200) res.errors++;
        }
        idle.push(c);
        if (t >= end) stopping = true;
        if (!stopping || due.length) dispatch();
        if (stopping && inFlight === 0 && due.length === 0) done();
      };
      c.send(job.req);
    }
  };
  if (a.rate > 0) {
    const interval = 1000 / a.rate;
    let i = 0;
    const pump = () => {
      const now = performance.now();
      for (let at = start + i * interval; at <= now && at < end; at = start + ++i * interval) due.push({ at, route: i % paths.length, req: paths[i % paths.length][1]() });
      dispatch();
      if (start + i * interval < end) setTimeout(pump, Math.max(0, start + i * interval - performance.now()));
      else {
        stopping = true;
        if (inFlight === 0 && due.length === 0) done();
      }
    };
    setTimeout(pump, Math.max(0, start - performance.now()));
  } else {
    setTimeout(() => dispatch(), Math.max(0, start - performance.now()));
    setTimeout(() => (stopping = true), end - performance.now());
  }
  await finished;
  const c = process.cpuUsage(cpu0);
  res.elapsedMs = a.seconds * 1000;
  res.lateSendP99 = lateSend.length ? percentile(lateSend, 99) : 0;
  res.fromSendP99 = fromSend.length ? percentile(fromSend, 99) : 0;
  res.cpuMs = (c.user + c.system) / 1000;
  const all = process.cpuUsage();
  res.cpuTotalMs = (all.user + all.system) / 1000;
  for (const x of conns) x.socket.destroy();
  process.stdout.write(JSON.stringify(res) + '\n');
}

function runClient(args: Record<string, string | number>): Promise<ClientResult> {
  return new Promise((resolve, reject) => {
    // A larger young generation for the load client: its scavenges (60 MB/s of response bytes
    // read) delayed its sends and reads; probe runs: p99 13-14 ms with it against 29-45 ms without.
    const argv = ['--max-semi-space-size=64', '--import', 'tsx', SELF, '--client', ...Object.entries(args).flatMap(([k, v]) => [`--${k}`, String(v)])];
    const child = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('exit', (code) => {
      try {
        if (code !== 0) throw new Error(`client exited ${code}`);
        resolve(JSON.parse(out.trim().split('\n').pop()!));
      } catch (e) {
        reject(e);
      }
    });
  });
}

// ------------------------------------------------------------------ wrk (C load generator)

interface WrkResult {
  reqPerSec: number;
  p50: number;
  p99: number;
  requests: number;
  non2xx: number;
}

/**
 * The same routes (list, filtered list, tail feed) driven by wrk, when it is installed (Debian:
 * `apt-get install wrk`): a C client costs the shared CPUs far less than the Node.js client, so
 * more of the machine is left to the server. Closed loop (wrk has no fixed rate).
 */
async function runWrk(url: string, token: string, head: number, seconds: number, connections: number): Promise<WrkResult | null> {
  if (spawnSync('wrk', ['--version']).error) return null;
  const dir = mkdtempSync(join(tmpdir(), 'aw-bench-wrk-'));
  try {
    const script = join(dir, 'routes.lua');
    writeFileSync(
      script,
      `local i = 0
local hdr = { ["Authorization"] = "Bearer ${token}" }
request = function()
  i = i + 1
  local k = i % 3
  local path
  if k == 0 then path = "/v1/alerts?limit=50"
  elseif k == 1 then path = "/v1/alerts?limit=50&level=high&status=open"
  else path = "/v1/alerts/feed?limit=100&cursor=" .. math.max(0, ${head} - math.random(0, 999)) end
  return wrk.format("GET", path, hdr)
end
`,
    );
    // async: the server under test runs on this process's event loop
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn('wrk', ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', '-s', script, url], { stdio: ['ignore', 'pipe', 'inherit'] });
      let text = '';
      child.stdout.on('data', (d) => (text += d));
      child.on('error', reject);
      child.on('exit', () => resolve(text));
    });
    const ms = (s: string | undefined) => {
      const m = /([\d.]+)(us|ms|s)/.exec(s ?? '');
      if (!m) return NaN;
      return Number(m[1]) * (m[2] === 'us' ? 0.001 : m[2] === 's' ? 1000 : 1);
    };
    const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
    return {
      reqPerSec: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN),
      p50: ms(/^\s+50%\s+(\S+)/m.exec(out)?.[1]),
      p99: ms(/^\s+99%\s+(\S+)/m.exec(out)?.[1]),
      requests: Number(/(\d+) requests in/.exec(out)?.[1] ?? 0),
      non2xx,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ------------------------------------------------------------------ server mode

function seedAlerts(n: number, offset: number): Alert[] {
  const levels = ['low', 'medium', 'high', 'critical'] as const;
  return Array.from({ length: n }, (_, j) => {
    const i = offset + j;
    const group = { 'source.ip': `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, 'token.client_id': `app-${i % 200}` };
    const t = new Date(Date.UTC(2026, 10, 26) + i * 1000).toISOString();
    return {
      id: alertId(`bench-rule-${i % 12}`, group, t),
      rule: { id: `bench-rule-${i % 12}`, name: `bench-rule-${i % 12}`, title: 'Benchmark alert', level: levels[i % 4] },
      group,
      count: 10 + (i % 50),
      first_seen: t,
      last_seen: t,
      evidence: { event_ids: Array.from({ length: 10 }, (_, k) => `ev-${i}-${k}`), samples: [{ http: { status: 401 }, source: { ip: group['source.ip'] } }] },
      status: 'open',
      proposed: [],
    };
  });
}

/**
 * One alert per transaction, written and (GROUP) awaited until durable, one after the other.
 * p50/p99: time on the event loop (the saveAlerts call); durableP50: the wait for durable()
 * after it (GROUP only: the loop is free meanwhile).
 */
async function storeWriteCost(sync: 'FULL' | 'NORMAL' | 'GROUP', n: number): Promise<{ p50: number; p99: number; perSec: number; durableP50: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'aw-bench-sync-'));
  const store = openStore(join(dir, 'a.db'), { synchronous: sync });
  const lat: number[] = [];
  const wait: number[] = [];
  const batches = seedAlerts(n, 5_000_000);
  const t0 = performance.now();
  for (const a of batches) {
    const s = performance.now();
    store.saveAlerts([a]);
    const m = performance.now();
    lat.push(m - s);
    if (sync === 'GROUP') {
      await store.durable();
      wait.push(performance.now() - m);
    }
  }
  const total = performance.now() - t0;
  store.close();
  rmSync(dir, { recursive: true, force: true });
  return { p50: percentile(lat, 50), p99: percentile(lat, 99), perSec: (n / total) * 1000, durableP50: wait.length ? percentile(wait, 50) : 0 };
}

/** Busy and total CPU time of the whole machine so far (ms, all cores), from /proc/stat; null off Linux. */
function machineCpu(): { busy: number; total: number } | null {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const total = f.reduce((x, y) => x + y, 0);
    return { busy: ((total - f[3] - (f[4] ?? 0)) * 1000) / 100, total: (total * 1000) / 100 }; // USER_HZ = 100
  } catch {
    return null;
  }
}

/** GC pauses of this (the server's) process, kept for per-phase figures. */
const gcPauses: Array<{ at: number; ms: number; major: boolean }> = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcPauses.push({ at: e.startTime, ms: e.duration, major: ((e as { detail?: { kind?: number } }).detail?.kind ?? 0) !== 1 });
}).observe({ entryTypes: ['gc'] });

interface PhaseLoad {
  wallMs: number;
  /** server process CPU (this process: HTTP, store, ingest, GC threads) */
  serverCpuMs: number;
  clientCpuMs: number;
  /** the rest of the machine's busy CPU time: other work sharing the cores (and the client's start-up) */
  otherCores: number | null;
  majorGcs: number;
  majorGcMs: number;
  minorGcMs: number;
  maxGcMs: number;
}

/** Runs one client phase and measures what shared the machine meanwhile. */
async function phase(args: Record<string, string | number>): Promise<{ r: ClientResult; load: PhaseLoad }> {
  const m0 = machineCpu();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const g0 = gcPauses.length;
  const r = await runClient(args);
  const wallMs = performance.now() - t0;
  const c = process.cpuUsage(c0);
  const m1 = machineCpu();
  const serverCpuMs = (c.user + c.system) / 1000;
  const gcs = gcPauses.slice(g0).filter((g) => g.at >= t0);
  const major = gcs.filter((g) => g.major);
  return {
    r,
    load: {
      wallMs,
      serverCpuMs,
      clientCpuMs: r.cpuMs,
      otherCores: m0 && m1 ? Math.max(0, m1.busy - m0.busy - serverCpuMs - r.cpuTotalMs) / wallMs : null,
      majorGcs: major.length,
      majorGcMs: major.reduce((x, g) => x + g.ms, 0),
      minorGcMs: gcs.filter((g) => !g.major).reduce((x, g) => x + g.ms, 0),
      maxGcMs: gcs.reduce((x, g) => Math.max(x, g.ms), 0),
    },
  };
}

async function serverMain(o: { alerts: number; seconds: number; rate: number; concurrency: number; ingest: boolean; sync: 'FULL' | 'NORMAL' | 'GROUP' }): Promise<void> {
  const facts = machineFacts();
  const dir = mkdtempSync(join(tmpdir(), 'aw-bench-api-'));
  const { loadConfig } = await import('../src/config/config.js');
  const { createLogger } = await import('../src/observability/logger.js');
  const { createApp } = await import('../src/app.js');
  const { mintAccessToken } = await import('../src/delivery/auth/dev-issuer.js');
  const config = loadConfig({ env: {}, overrides: { data_dir: dir, 'http.port': 0, 'rules.watch': false, 'http.rate_limit.max': 100_000_000 } });
  // Logger at info (the default): what a deployment runs with, request lines included if any.
  const app = await createApp(config, { logger: createLogger({ level: 'info', destination: { write: () => {} } }), storeSynchronous: o.sync });
  const url = await app.listen();
  const token = await mintAccessToken(app.auth.devIssuer!, { issuer: app.auth.issuer(), audience: config.auth.audience, scopes: ['alerts:read'], ttlMs: 3_600_000, clientId: 'bench' });
  const probe = await fetch(`${url}/v1/alerts?limit=1`, { headers: { authorization: `Bearer ${token}` } });
  if (probe.status !== 200) throw new Error(`GET /v1/alerts answered ${probe.status}: are the alert routes registered in buildServer?`);

  process.stderr.write(`seeding ${o.alerts} alerts...\n`);
  for (let i = 0; i < o.alerts; i += 1000) app.store.saveAlerts(seedAlerts(Math.min(1000, o.alerts - i), i));
  const head = app.store.alertFeedHead();

  // Ingest loop beside the load: bodies of real event lines through the pipeline (ingest →
  // rules → store) by the HTTP route's own sliced path, on the server's event loop.
  const gen = authwatchLines(10_000_000, { eventsPerSecond: 2000, burstEvery: 500 });
  let ingested = 0;
  let ingesting = true;
  const ingestBatch = 50;
  const ingestEveryMs = 50; // ~1,000 events/s offered
  const batchMs: number[] = [];
  const sliceWallMs: number[] = [];
  // Ingest CPU is taken inside each pipeline call (one slice, synchronous), not around the
  // whole body: requests served between the slices of a body are the requests' cost.
  const sliceHoldMs: number[] = [];
  let ingestCpuMs = 0;
  const ingestLines = app.pipeline.ingestLines.bind(app.pipeline);
  app.pipeline.ingestLines = (...args: Parameters<typeof ingestLines>) => {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    try {
      return ingestLines(...args);
    } finally {
      sliceHoldMs.push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      ingestCpuMs += (c.user + c.system) / 1000;
    }
  };
  const ingestLoop = (async () => {
    while (ingesting && o.ingest) {
      const lines: string[] = [];
      for (let k = 0; k < ingestBatch; k++) lines.push(gen.next().value as string);
      const t0 = performance.now();
      const cpuBefore = ingestCpuMs;
      ingested += (await ingestSliced(app.pipeline, 'lines', lines, { source: 'http', name: 'bench' })).accepted;
      const c0 = process.cpuUsage();
      app.pipeline.tick(Date.UTC(2026, 10, 26) + ingested * 500);
      const c = process.cpuUsage(c0);
      batchMs.push(ingestCpuMs - cpuBefore + (c.user + c.system) / 1000);
      sliceWallMs.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, ingestEveryMs));
    }
  })();
  const alertsBefore = app.store.alertFeedHead();

  const loopDelay = monitorEventLoopDelay({ resolution: 5 });
  loopDelay.enable();
  const loopP99 = () => {
    const v = Math.round((loopDelay.percentile(99) / 1e6) * 10) / 10;
    loopDelay.reset();
    return v;
  };
  // The aim's phase first (list, filtered list, tail feed: what dashboards and SIEM pollers
  // send), so it does not inherit the mixed phase's GC debt and backlog: with a quarter of the
  // requests backfill pages (~5x the CPU each) the mixed phase saturates the server here.
  process.stderr.write(`phase 1b: paced ${o.rate} req/s, list + tail feed only, for ${o.seconds}s...\n`);
  loopDelay.reset();
  const { r: pacedAim, load: pacedAimLoad } = await phase({ url, token, seconds: o.seconds, rate: o.rate, concurrency: Math.max(o.concurrency, 64), head, backfill: 0 });
  const pacedAimLoopP99 = loopP99();
  process.stderr.write(`phase 1: paced ${o.rate} req/s over all four routes for ${o.seconds}s...\n`);
  // Enough connections that pacing, not in-flight requests, sets the rate (up to 64 ms per request at 1,000 req/s).
  const cpu0 = process.cpuUsage();
  const batches0 = batchMs.length;
  loopDelay.reset();
  const { r: paced, load: pacedLoad } = await phase({ url, token, seconds: o.seconds, rate: o.rate, concurrency: Math.max(o.concurrency, 64), head, backfill: 1 });
  const pacedLoopP99 = loopP99();
  process.stderr.write(`phase 2: closed loop, ${o.concurrency} workers for ${o.seconds}s...\n`);
  const cpu1 = process.cpuUsage();
  const batches1 = batchMs.length;
  const { r: closed } = await phase({ url, token, seconds: o.seconds, rate: 0, concurrency: o.concurrency, head, backfill: 1 });
  const cpu2 = process.cpuUsage();
  const batches2 = batchMs.length;
  // Server CPU per request, ingest batches' time subtracted: on a machine loaded by other work
  // this, unlike latency, barely depends on the load (it is what a quiet machine would pay).
  const cpuMs = (a: NodeJS.CpuUsage, b: NodeJS.CpuUsage) => (b.user - a.user + b.system - a.system) / 1000;
  const sum = (xs: number[]) => xs.reduce((x, y) => x + y, 0);
  const cpuPerRequest = (a: NodeJS.CpuUsage, b: NodeJS.CpuUsage, from: number, to: number, n: number) => (n ? Math.max(0, cpuMs(a, b) - sum(batchMs.slice(from, to))) / n : 0);
  process.stderr.write(`phase 3: wrk closed loop, ${o.concurrency} connections for ${o.seconds}s (if installed)...\n`);
  const cpu3 = process.cpuUsage();
  const batches3 = batchMs.length;
  loopDelay.reset();
  const wrk = await runWrk(url, token, head, o.seconds, o.concurrency);
  const wrkLoopP99 = loopP99();
  loopDelay.disable();
  const cpu4 = process.cpuUsage();
  const batches4 = batchMs.length;
  ingesting = false;
  await ingestLoop;
  const feedGrowth = app.store.alertFeedHead() - alertsBefore;
  await app.close();
  rmSync(dir, { recursive: true, force: true });

  process.stderr.write('store write cost: FULL vs NORMAL vs GROUP...\n');
  const nWrites = QUICK ? 200 : 2000;
  const full = await storeWriteCost('FULL', nWrites);
  const normal = await storeWriteCost('NORMAL', nWrites);
  const group = await storeWriteCost('GROUP', nWrites);

  const figures: Figure[] = [];
  const all = (r: ClientResult) => Object.values(r.latencies).flat();
  const aimRoutes = (r: ClientResult) => ['list', 'list_filtered', 'feed'].flatMap((k) => r.latencies[k] ?? []);
  const p = (xs: number[], q: number) => (xs.length ? Math.round(percentile(xs, q) * 100) / 100 : 0);
  const pacedRate = (paced.requests / paced.elapsedMs) * 1000;
  figures.push({ metric: `paced ${o.rate} req/s: achieved`, value: Math.round(pacedRate), unit: 'req/s' });
  figures.push({ metric: 'paced: p50 latency (all routes)', value: p(all(paced), 50), unit: 'ms' });
  figures.push({ metric: 'paced: p99 latency (all routes)', value: p(all(paced), 99), unit: 'ms' });
  figures.push({ metric: 'paced: p99 latency (list + tail feed)', value: p(aimRoutes(paced), 99), unit: 'ms', aim: 'p99 ≤ 5 ms at 1,000 req/s (issue 7)', note: 'with a quarter of the requests backfill pages beside them' });
  for (const [name, xs] of Object.entries(paced.latencies)) {
    figures.push({ metric: `paced: ${name} p50`, value: p(xs, 50), unit: 'ms' });
    figures.push({ metric: `paced: ${name} p99`, value: p(xs, 99), unit: 'ms' });
  }
  figures.push({ metric: 'paced: event-loop delay p99', value: pacedLoopP99, unit: 'ms' });
  const aimRate = (pacedAim.requests / pacedAim.elapsedMs) * 1000;
  figures.push({ metric: `paced ${o.rate} req/s, list + tail feed only: achieved`, value: Math.round(aimRate), unit: 'req/s' });
  figures.push({ metric: 'paced, list + tail feed only: p50 latency', value: p(all(pacedAim), 50), unit: 'ms' });
  figures.push({ metric: 'paced, list + tail feed only: p99 latency', value: p(all(pacedAim), 99), unit: 'ms', aim: 'p99 ≤ 5 ms at 1,000 req/s (issue 7)', note: 'list, filtered list, tail feed while ingesting; open loop, latency from each request\'s due time; the load client is a separate process on the same 2 cores, neither pinned' });
  figures.push({ metric: 'paced, list + tail feed only: event-loop delay p99', value: pacedAimLoopP99, unit: 'ms' });
  if (pacedAim.errors) figures.push({ metric: 'paced, list + tail feed only: errors', value: pacedAim.errors, unit: 'requests' });
  // What shared the 2 cores during the aim's phase, and the server's GC: the tail follows them.
  const r1 = (x: number) => Math.round(x * 10) / 10;
  const loadNote = (l: PhaseLoad) =>
    `server process ${r1(l.serverCpuMs / l.wallMs)} cores, load client ${r1(l.clientCpuMs / l.wallMs)} cores, other work on the machine ${l.otherCores === null ? 'unknown' : r1(l.otherCores) + ' cores'}; server GC: ${l.majorGcs} major (${Math.round(l.majorGcMs)} ms of pauses), minor ${Math.round(l.minorGcMs)} ms, longest pause ${r1(l.maxGcMs)} ms`;
  figures.push({ metric: 'paced, list + tail feed only: server GC pauses (major + minor)', value: Math.round(pacedAimLoad.majorGcMs + pacedAimLoad.minorGcMs), unit: 'ms', note: loadNote(pacedAimLoad) });
  figures.push({ metric: 'paced, list + tail feed only: p99 latency from the actual send', value: p([pacedAim.fromSendP99], 50), unit: 'ms', note: 'the same requests without the time they waited for the client (the aim figure above counts it)' });
  figures.push({ metric: 'paced, list + tail feed only: client sends late, p99', value: p([pacedAim.lateSendP99], 50), unit: 'ms', note: 'how long a due request waited for the client (its timer or a free connection); counted in the latency' });
  if (pacedAimLoad.otherCores !== null) figures.push({ metric: 'paced, list + tail feed only: other work on the machine', value: r1(pacedAimLoad.otherCores), unit: 'cores', note: 'busy CPU time of the whole machine (/proc/stat) minus the server and the client, per second of the phase' });
  if (sliceHoldMs.length) figures.push({ metric: 'ingest: one slice holds the event loop, p99', value: Math.round(percentile(sliceHoldMs, 99) * 100) / 100, unit: 'ms', note: `${ingestBatch}-line bodies through the sliced HTTP ingest path, 16 lines per slice` });
  figures.push({ metric: `closed loop (${o.concurrency} workers): throughput`, value: Math.round((closed.requests / closed.elapsedMs) * 1000), unit: 'req/s' });
  figures.push({ metric: 'paced: server CPU per request (ingest excluded)', value: Math.round(cpuPerRequest(cpu0, cpu1, batches0, batches1, paced.requests) * 1000) / 1000, unit: 'ms' });
  figures.push({ metric: 'closed loop: server CPU per request (ingest excluded)', value: Math.round(cpuPerRequest(cpu1, cpu2, batches1, batches2, closed.requests) * 1000) / 1000, unit: 'ms' });
  if (wrk) {
    figures.push({ metric: `wrk closed loop (${o.concurrency} connections, list + tail feed): throughput`, value: Math.round(wrk.reqPerSec), unit: 'req/s' });
    figures.push({ metric: 'wrk: p50 latency', value: Math.round(wrk.p50 * 100) / 100, unit: 'ms' });
    figures.push({ metric: 'wrk: p99 latency', value: Math.round(wrk.p99 * 100) / 100, unit: 'ms' });
    figures.push({ metric: 'wrk: server CPU per request (ingest excluded)', value: Math.round(cpuPerRequest(cpu3, cpu4, batches3, batches4, wrk.requests) * 1000) / 1000, unit: 'ms' });
    figures.push({ metric: 'wrk: event-loop delay p99', value: wrkLoopP99, unit: 'ms' });
  }
  figures.push({ metric: 'closed loop: p50 latency', value: p(all(closed), 50), unit: 'ms' });
  figures.push({ metric: 'closed loop: p99 latency', value: p(all(closed), 99), unit: 'ms' });
  figures.push({
    metric: 'saveAlerts (1 alert/transaction), synchronous=FULL: p50',
    value: Math.round(full.p50 * 1000) / 1000,
    unit: 'ms',
    baseline: { metric: 'synchronous=NORMAL p50', value: Math.round(normal.p50 * 1000) / 1000, unit: 'ms' },
    ratio: normal.p50 > 0 ? full.p50 / normal.p50 : undefined,
    note: `FULL ${Math.round(full.perSec)}/s vs NORMAL ${Math.round(normal.perSec)}/s; p99 ${full.p99.toFixed(2)} vs ${normal.p99.toFixed(2)} ms`,
  });
  figures.push({
    metric: 'saveAlerts (1 alert/transaction), GROUP (group commit): p50 on the event loop',
    value: Math.round(group.p50 * 1000) / 1000,
    unit: 'ms',
    baseline: { metric: 'synchronous=FULL p50', value: Math.round(full.p50 * 1000) / 1000, unit: 'ms' },
    ratio: full.p50 > 0 ? group.p50 / full.p50 : undefined,
    note: `then durable() p50 ${group.durableP50.toFixed(2)} ms off the loop (fsync on the thread pool); ${Math.round(group.perSec)}/s awaited one by one; loop p99 ${group.p99.toFixed(2)} ms`,
  });

  process.stderr.write(
    [
      `machine: ${facts.cpuModel}, ${facts.cores} cores (shared with other work; load at start ${facts.loadAvg.join(' ')}, at end ${loadavg().map((x) => x.toFixed(2)).join(' ')}), node ${facts.node}`,
      `server: createApp/buildServer (real bearer-token verification with its verified-token cache, logger at info, rate limit raised, store synchronous=${o.sync}), ${o.alerts} alerts seeded, loopback HTTP/1.1 keep-alive`,
      o.ingest
        ? `ingest beside the load: ${ingested} events accepted through the pipeline (${feedGrowth} alert changes written) during ${(3 * o.seconds).toFixed(0)}s; one ${ingestBatch}-event body costs CPU p50 ${batchMs.length ? percentile(batchMs, 50).toFixed(1) : '-'} ms, p99 ${batchMs.length ? percentile(batchMs, 99).toFixed(1) : '-'} ms, through the sliced path (one slice holds the loop p50 ${sliceHoldMs.length ? percentile(sliceHoldMs, 50).toFixed(2) : '-'} ms, p99 ${sliceHoldMs.length ? percentile(sliceHoldMs, 99).toFixed(2) : '-'} ms; a body from first to last slice p50 ${sliceWallMs.length ? percentile(sliceWallMs, 50).toFixed(1) : '-'} ms)`
        : 'no ingest beside the load (--no-ingest)',
      `client: separate process (raw-socket HTTP/1.1 keep-alive), not pinned (neither is the server: see the header), paced open loop over ${Math.max(o.concurrency, 64)} connections (latency from each request's due time), closed loop ${o.concurrency} connections, routes rotated list / list?level&status / feed tail (cursor within the newest 1,000 changes) / feed backfill (random cursor)`,
      `phase 1 load: ${loadNote(pacedLoad)}`,
      `phase 1b load: ${loadNote(pacedAimLoad)}`,
      `paced: ${paced.requests} requests, errors ${paced.errors}, statuses ${JSON.stringify(paced.statuses)}`,
      `closed: ${closed.requests} requests, errors ${closed.errors}, statuses ${JSON.stringify(closed.statuses)}`,
      wrk ? `wrk: ${wrk.requests} requests, non-2xx ${wrk.non2xx}` : 'wrk: not installed (apt-get install wrk), phase skipped',
      ...figures.map((f) => `  ${f.metric}: ${f.value} ${f.unit}${f.baseline ? ` (baseline ${f.baseline.value} ${f.baseline.unit})` : ''}${f.note ? ` — ${f.note}` : ''}`),
      '',
    ].join('\n'),
  );
  reportResult({
    name: 'api',
    conditions: {
      alerts: o.alerts,
      seconds_per_phase: o.seconds,
      paced_rate: o.rate,
      concurrency: o.concurrency,
      ingested_events: ingested,
      ingest_beside_load: o.ingest,
      store_synchronous: o.sync,
      cores: facts.cores,
      cpu: facts.cpuModel,
      load_avg_1m: facts.loadAvg[0],
      load_avg_1m_end: Math.round(loadavg()[0] * 100) / 100,
      client: 'separate process on the same machine, raw-socket HTTP/1.1, open loop, not pinned',
      client_cpu_cores_1b: r1(pacedAimLoad.clientCpuMs / pacedAimLoad.wallMs),
      other_work_cores_1b: pacedAimLoad.otherCores === null ? null : r1(pacedAimLoad.otherCores),
      latency_from: 'due time (open loop)',
      errors: paced.errors + closed.errors + (wrk?.non2xx ?? 0),
    },
    figures,
  });
}

const { values } = parseArgs({
  options: {
    client: { type: 'boolean', default: false },
    url: { type: 'string' },
    token: { type: 'string' },
    head: { type: 'string', default: '1' },
    backfill: { type: 'string', default: '1' },
    warmup: { type: 'string', default: '1' },
    alerts: { type: 'string', default: QUICK ? '2000' : '20000' },
    seconds: { type: 'string', default: QUICK ? '3' : '10' },
    rate: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '16' },
    'no-ingest': { type: 'boolean', default: false },
    sync: { type: 'string', default: 'GROUP' },
  },
  allowPositionals: true,
});

if (values.client) {
  await clientMain({ url: values.url!, token: values.token!, seconds: Number(values.seconds), rate: Number(values.rate), concurrency: Number(values.concurrency), head: Number(values.head), backfill: values.backfill !== '0', warmup: Number(values.warmup) });
} else {
  await serverMain({ alerts: Number(values.alerts), seconds: Number(values.seconds), rate: Number(values.rate), concurrency: Number(values.concurrency), ingest: !values['no-ingest'], sync: values.sync === 'NORMAL' || values.sync === 'FULL' ? values.sync : 'GROUP' });
}
