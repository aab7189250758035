// The server's store runs in group commit (createApp default): an HTTP write is answered only
// after the fsync that makes it durable has completed (docs/api.md "Durability"); reads do not
// wait for it. The fsync is injected and held, so the order is observed, not timed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import { mintAccessToken } from '../../src/delivery/auth/dev-issuer.js';
import { createLogger } from '../../src/observability/logger.js';
import type { FsyncFn } from '../../src/store/wal-sync.js';

const held: Array<() => void> = [];
let release = true; // let fsyncs through until the test holds them
const fsync: FsyncFn = (_fd, cb) => (release ? cb(null) : held.push(() => cb(null)));

let app: App;
let url: string;
let dir: string;
let writer: string;
let reader: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'aw-gc-ack-'));
  const config = loadConfig({ env: {}, overrides: { data_dir: dir, 'http.port': 0, 'rules.watch': false } });
  app = await createApp(config, { logger: createLogger({ level: 'silent' }), storeFsync: fsync });
  url = await app.listen();
  const mint = (scopes: string[]) => mintAccessToken(app.auth.devIssuer!, { issuer: app.auth.issuer(), audience: config.auth.audience, scopes, ttlMs: 3_600_000, clientId: 'gc-test' });
  writer = await mint(['events:write']);
  reader = await mint(['alerts:read']);
});
afterAll(async () => {
  release = true;
  for (const h of held.splice(0)) h();
  await app?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('group commit acknowledgements', () => {
  it('POST /v1/events answers only after the fsync of what it wrote; a read meanwhile does not wait', async () => {
    release = false;
    let answered = false;
    // a line that is rejected: the dead-letter row is the write this reply acknowledges
    const reply = fetch(url + '/v1/events', { method: 'POST', headers: { authorization: `Bearer ${writer}`, 'content-type': 'application/x-ndjson' }, body: 'not json\n' }).then((r) => {
      answered = true;
      return r;
    });
    for (let i = 0; i < 500 && held.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(held.length).toBeGreaterThan(0);
    expect(answered).toBe(false);
    expect(app.store.rejections(1)[0].raw).toBe('not json'); // written, not yet acknowledged
    const read = await fetch(url + '/v1/alerts?limit=1', { headers: { authorization: `Bearer ${reader}` } });
    expect(read.status).toBe(200);
    expect(answered).toBe(false);
    release = true;
    for (const h of held.splice(0)) h();
    const r = await reply;
    expect(r.status).toBe(200);
    expect((await r.json()).rejected).toBe(1);
  });
});
