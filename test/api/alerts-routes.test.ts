import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeAlert } from '../store/helpers.js';
import { call, startRoutes, type RoutesHarness } from './routes-harness.js';

let h: RoutesHarness;
let reader: Record<string, string>;
let writer: Record<string, string>;
const alerts = Array.from({ length: 12 }, (_, i) =>
  makeAlert({
    rule: i % 2 ? 'r-spray' : 'r-replay',
    name: i % 2 ? 'token-spray' : 'token-replay',
    level: i % 3 === 0 ? 'critical' : 'medium',
    group: { 'source.ip': `203.0.113.${i}`, 'token.client_id': i < 4 ? 'app-a' : 'app-b' },
    first: `2026-11-26T01:${String(i).padStart(2, '0')}:00.000Z`,
    last: `2026-11-26T01:${String(i).padStart(2, '0')}:40.000Z`,
  }),
);

beforeAll(async () => {
  h = await startRoutes();
  reader = h.as('siem-1', ['alerts:read']);
  writer = h.as('analyst-7', ['alerts:read', 'alerts:write']);
  h.store.saveAlerts(alerts);
});
afterAll(async () => {
  await h?.close();
});

describe('GET /v1/alerts', () => {
  it('pages newest first with an opaque cursor, every alert exactly once', async () => {
    const ids: string[] = [];
    let cursor = '';
    for (let i = 0; i < 10; i++) {
      const r = await call(`${h.url}/v1/alerts?limit=5${cursor ? `&cursor=${cursor}` : ''}`, { headers: reader });
      expect(r.status).toBe(200);
      ids.push(...r.body.items.map((a: { id: string }) => a.id));
      if (!r.body.next_cursor) break;
      cursor = r.body.next_cursor;
    }
    expect(ids).toEqual([...alerts].reverse().map((a) => a.id));
  });

  it('filters by rule id or name, level, status, time range and group value', async () => {
    const q = async (qs: string) => (await call(`${h.url}/v1/alerts?${qs}`, { headers: reader })).body.items.map((a: { id: string }) => a.id);
    expect(await q('rule=r-spray')).toHaveLength(6);
    expect(await q('rule=token-replay')).toHaveLength(6);
    expect(await q('level=critical')).toHaveLength(4);
    expect(await q('level=critical,medium')).toHaveLength(12);
    expect(await q('group.source.ip=203.0.113.5')).toEqual([alerts[5].id]);
    expect(await q('group=source.ip:203.0.113.5')).toEqual([alerts[5].id]);
    expect(await q('group=token.client_id:app-a&group=source.ip:203.0.113.2')).toEqual([alerts[2].id]);
    expect(await q(`since=${encodeURIComponent('2026-11-26T01:10:00Z')}`)).toEqual([alerts[11].id, alerts[10].id]);
    expect(await q(`until=${encodeURIComponent('2026-11-26T01:01:00Z')}`)).toEqual([alerts[1].id, alerts[0].id]);
    expect(await q('status=acknowledged')).toEqual([]);
  });

  it('refuses bad input with 400 codes, never 5xx', async () => {
    const bad = ['cursor=%%%', 'cursor=abc', `cursor=${Buffer.from('{"pk":-1}').toString('base64url')}`, 'limit=0', 'limit=501', 'level=severe', 'since=yesterday', 'group=novalue', 'format=xml'];
    for (const qs of bad) {
      const r = await call(`${h.url}/v1/alerts?${qs}`, { headers: reader });
      expect(r.status, qs).toBe(400);
      expect(['INVALID_CURSOR', 'VALIDATION_FAILED']).toContain(r.body.code);
    }
    expect((await call(`${h.url}/v1/alerts?cursor=abc`, { headers: reader })).body.code).toBe('INVALID_CURSOR');
  });

  it('needs alerts:read', async () => {
    expect((await call(`${h.url}/v1/alerts`, { headers: h.as('x', ['actions:read']) })).status).toBe(403);
  });
});

describe('GET /v1/alerts/{id} and lifecycle', () => {
  it('gets one alert, 404 for unknown ids', async () => {
    const r = await call(`${h.url}/v1/alerts/${alerts[3].id}`, { headers: reader });
    expect(r.body).toMatchObject({ id: alerts[3].id, status: 'open', count: 5, group: alerts[3].group });
    expect((await call(`${h.url}/v1/alerts/al_unknown`, { headers: reader })).body.code).toBe('NOT_FOUND');
  });

  it('ack → resolve → reopen with comments; audit carries the caller; invalid transitions are 409', async () => {
    const id = alerts[0].id;
    expect((await call(`${h.url}/v1/alerts/${id}/ack`, { headers: reader, json: {} })).status).toBe(403);
    const ack = await call(`${h.url}/v1/alerts/${id}/ack`, { headers: writer, json: { comment: 'on it' } });
    expect(ack.status).toBe(200);
    expect(ack.body.status).toBe('acknowledged');
    const again = await call(`${h.url}/v1/alerts/${id}/ack`, { headers: writer, json: {} });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('CONFLICT');
    // no body at all is fine too
    expect((await call(`${h.url}/v1/alerts/${id}/resolve`, { method: 'POST', headers: writer })).body.status).toBe('resolved');
    expect((await call(`${h.url}/v1/alerts/${id}/reopen`, { headers: writer, json: { comment: 'recurred' } })).body.status).toBe('open');
    expect((await call(`${h.url}/v1/alerts/${id}/ack`, { headers: writer, json: { comment: { nested: true } } })).status).toBe(400);
    expect((await call(`${h.url}/v1/alerts/al_nope/ack`, { headers: writer, json: {} })).status).toBe(404);
    const audit = h.store.audit('alert', id).slice(1);
    expect(audit.map((e) => [e.actor, e.op, e.comment])).toEqual([
      ['analyst-7', 'ack', 'on it'],
      ['analyst-7', 'resolve', null],
      ['analyst-7', 'reopen', 'recurred'],
    ]);
  });
});

describe('formats on list and get', () => {
  it('?format= and Accept choose OCSF, ECS, CEF or JSON', async () => {
    const id = alerts[4].id;
    const ocsf = await call(`${h.url}/v1/alerts/${id}?format=ocsf`, { headers: reader });
    expect(ocsf.headers.get('content-type')).toMatch(/application\/ocsf\+json/);
    expect(ocsf.body).toMatchObject({ class_uid: 2004, category_uid: 2, finding_info: { uid: id } });
    const ecs = await call(`${h.url}/v1/alerts/${id}`, { headers: { ...reader, accept: 'application/ecs+json' } });
    expect(ecs.body).toMatchObject({ event: { kind: 'alert', id }, source: { ip: '203.0.113.4' } });
    const cef = await call(`${h.url}/v1/alerts?limit=3`, { headers: { ...reader, accept: 'text/cef' } });
    expect(cef.headers.get('content-type')).toMatch(/text\/cef/);
    const lines = cef.text.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    for (const l of lines) expect(l).toMatch(/^CEF:0\|authwatch\|authwatch\|[^|]+\|r-(spray|replay)\|/);
    expect(cef.headers.get('x-next-cursor')).toBeTruthy();
    const nd = await call(`${h.url}/v1/alerts?limit=4`, { headers: { ...reader, accept: 'application/x-ndjson' } });
    expect(nd.headers.get('content-type')).toMatch(/application\/x-ndjson/);
    expect(nd.text.trimEnd().split('\n').map((l) => JSON.parse(l).id)).toEqual([alerts[11].id, alerts[10].id, alerts[9].id, alerts[8].id]);
    const ndFeed = await call(`${h.url}/v1/alerts/feed?limit=2&format=ndjson`, { headers: reader });
    expect(ndFeed.text.trimEnd().split('\n').map((l) => JSON.parse(l).seq)).toEqual([1, 2]);
    expect(ndFeed.headers.get('x-next-cursor')).toBe('2');
    const json = await call(`${h.url}/v1/alerts/${id}`, { headers: { ...reader, accept: 'application/json' } });
    expect(json.body.id).toBe(id);
    const list = await call(`${h.url}/v1/alerts?format=ocsf&limit=2`, { headers: reader });
    expect(list.body.items.map((f: { finding_info: { uid: string } }) => f.finding_info.uid)).toEqual([alerts[11].id, alerts[10].id]);
  });
});

describe('GET /v1/alerts/feed', () => {
  it('walks changes by cursor without skipping or repeating; the cursor survives a restart', async () => {
    const first = await call(`${h.url}/v1/alerts/feed?limit=5`, { headers: reader });
    expect(first.body.items.map((i: { seq: number }) => i.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(first.body.items[0]).toMatchObject({ change: 'created', alert: { id: alerts[0].id } });
    const cursor = first.body.next_cursor;
    const rest = await call(`${h.url}/v1/alerts/feed?limit=500&cursor=${cursor}`, { headers: reader });
    const seqs = rest.body.items.map((i: { seq: number }) => i.seq);
    expect(seqs[0]).toBe(6);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    const tail = await call(`${h.url}/v1/alerts/feed?cursor=${rest.body.next_cursor}`, { headers: reader });
    expect(tail.body).toEqual({ items: [], next_cursor: rest.body.next_cursor });
    expect((await call(`${h.url}/v1/alerts/feed?cursor=-1`, { headers: reader })).body.code).toBe('INVALID_CURSOR');
    const cef = await call(`${h.url}/v1/alerts/feed?limit=2&format=cef`, { headers: reader });
    expect(cef.text).toMatch(/cn1Label=feedSeq cn1=1 act=created\n/);
  });

  it('streams server-sent events with id: <seq>, wakes on new alerts and resumes from Last-Event-ID', async () => {
    const head = h.store.alertFeedHead();
    const ctrl = new AbortController();
    const res = await fetch(`${h.url}/v1/alerts/feed?cursor=${head - 2}`, { headers: { ...reader, accept: 'text/event-stream' }, signal: ctrl.signal });
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const rd = res.body!.getReader();
    const events: Array<{ id: number; data: any }> = [];
    let buf = '';
    const readUntil = async (n: number) => {
      for (let i = 0; i < 200 && events.length < n; i++) {
        const { value, done } = await rd.read();
        if (done) break;
        buf += Buffer.from(value).toString('utf8');
        let k;
        while ((k = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, k);
          buf = buf.slice(k + 2);
          const id = /^id: (\d+)$/m.exec(block);
          const data = /^data: (.*)$/m.exec(block);
          if (id && data) events.push({ id: Number(id[1]), data: JSON.parse(data[1]) });
        }
      }
    };
    await readUntil(2);
    expect(events.map((e) => e.id)).toEqual([head - 1, head]);
    const fresh = makeAlert({ group: { 'source.ip': '192.0.2.200' } });
    h.store.saveAlerts([fresh]);
    await readUntil(3);
    expect(events[2]).toMatchObject({ id: head + 1, data: { change: 'created', alert: { id: fresh.id } } });
    ctrl.abort();
    // reconnect as an EventSource would: Last-Event-ID wins over the query cursor
    h.store.transitionAlert(fresh.id, 'ack', 'someone');
    const ctrl2 = new AbortController();
    const res2 = await fetch(`${h.url}/v1/alerts/feed/stream?cursor=0&format=ocsf`, { headers: { ...reader, 'last-event-id': String(head + 1) }, signal: ctrl2.signal });
    const rd2 = res2.body!.getReader();
    let text = '';
    for (let i = 0; i < 50 && !/\n\n.*id: /s.test(text); i++) text += Buffer.from((await rd2.read()).value!).toString('utf8');
    ctrl2.abort();
    const ids = [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
    expect(ids).toEqual([head + 2]);
    expect(text).toMatch(/"class_uid":2004/);
  });
});

describe('fuzzed query strings and bodies', () => {
  it('answer 2xx or 4xx, never 5xx', async () => {
    const fc = (await import('fast-check')).default;
    const keys = ['rule', 'level', 'status', 'since', 'until', 'group', 'group.source.ip', 'limit', 'cursor', 'format', 'x'];
    const value = fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('high', '-1', '501', '0', 'ocsf', '%00', '%ZZ', 'a:b', '2026-11-26T00:00:00Z', 'eyJ'));
    const qs = fc.array(fc.tuple(fc.constantFrom(...keys), value), { maxLength: 6 });
    const paths = ['/v1/alerts', '/v1/alerts/feed', `/v1/alerts/${alerts[1].id}`, '/v1/actions', '/v1/decisions'];
    const headers = h.as('fuzzer', ['alerts:read', 'alerts:write', 'actions:read', 'actions:write']);
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...paths), qs, async (path, pairs) => {
        const q = pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
        const r = await fetch(`${h.url}${path}?${q}`, { headers });
        await r.arrayBuffer();
        expect(r.status, `${path}?${q}`).toBeLessThan(500);
      }),
      { numRuns: 150 },
    );
    const body = fc.oneof(fc.json(), fc.string({ maxLength: 50 }), fc.record({ type: fc.string(), target: fc.string(), ttl: fc.string(), reason: fc.string(), comment: fc.anything() }));
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('/v1/actions', `/v1/alerts/${alerts[2].id}/ack`, '/v1/actions/ac_x/approve'), body, async (path, b) => {
        const r = await fetch(`${h.url}${path}`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: typeof b === 'string' ? b : JSON.stringify(b) });
        await r.arrayBuffer();
        expect(r.status, `${path} ${JSON.stringify(b)}`).toBeLessThan(500);
      }),
      { numRuns: 150 },
    );
  }, 120_000);
});
