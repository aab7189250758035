// Writes the shipped rule pack's fixtures (rules/**/<rule>.fixtures/<case>.{events,expected}.ndjson)
// from the plan below. The expected alerts are written from what each case plants (how many
// events, which group, which times), never from running the engine. The files are the source of
// truth once written; this script only documents how they were made and keeps them consistent.
//   npx tsx test/rule-pack/author-fixtures.ts [RULESDIR]   (default: the checkout's rules/)
import { mkdirSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';

const RULES = process.argv[2] ?? resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'rules');
const BASE = Date.parse('2026-03-02T10:00:00.000Z');
const iso = (sec: number) => new Date(BASE + sec * 1000).toISOString();
/** A producer-side fingerprint stand-in: fixtures carry `token.fp`, never tokens. */
const fp = (label: string) => 'tfp_' + createHash('sha256').update(label).digest('base64url').slice(0, 22);

type Ev = Record<string, unknown>;
interface Expected { rule: string; group: Record<string, unknown>; count: number; first_seen: string; last_seen: string }
interface Case { dir: string; rule: string; name: string; events: Ev[]; expected: Expected[]; arrival?: 'time' | 'as-listed' }

interface Gw {
  ip: string; route?: string; method?: string; status: number; result: string;
  observer?: string; type?: 'gateway' | 'api'; cls?: string; token?: Ev; detail?: string; extra?: Ev;
}
function gw(sec: number, g: Gw): Ev {
  const e: Ev = {
    time: iso(sec),
    observer: { type: g.type ?? 'gateway', name: g.observer ?? 'edge-eu-1', env: 'prod' },
    source: { ip: g.ip, user_agent: 'okhttp/4.12.0' },
    http: { method: g.method ?? 'GET', route: g.route ?? '/api/v1/orders/{id}', status: g.status, ...(g.cls ? { route_class: g.cls } : {}) },
    auth: { result: g.result, scheme: g.result === 'missing_token' ? 'none' : 'bearer', ...(g.detail ? { detail: g.detail } : {}) },
  };
  if (g.token) e.token = g.token;
  return { ...e, ...(g.extra ?? {}) };
}
interface Idp { ip: string; client: string; grant: string; error?: string; result: string; endpoint?: string }
function idp(sec: number, i: Idp): Ev {
  return {
    time: iso(sec),
    observer: { type: 'idp', name: 'idp-main', env: 'prod' },
    source: { ip: i.ip, user_agent: 'python-requests/2.32.3' },
    auth: { result: i.result },
    idp: { endpoint: i.endpoint ?? 'token', grant_type: i.grant, client_id: i.client, ...(i.error ? { error: i.error } : {}) },
  };
}
const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const alert = (rule: string, group: Record<string, unknown>, count: number, first: number, last: number): Expected =>
  ({ rule, group, count, first_seen: iso(first), last_seen: iso(last) });

const ISS = 'https://idp.example.com/';
const cases: Case[] = [];
const add = (dir: string, rule: string, name: string, events: Ev[], expected: Expected[], arrival: 'time' | 'as-listed' = 'time') =>
  cases.push({ dir, rule, name, events, expected, arrival });
/** Deterministic arrival disorder: each event moves by less than `maxSec` of event time. */
function jitter(events: Ev[], maxSec: number, seed: number): Ev[] {
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  return events.map((e) => ({ e, k: Date.parse(String(e.time)) + rnd() * maxSec * 1000 })).sort((a, b) => a.k - b.k).map((x) => x.e);
}

// ---------- oauth-401-burst: ≥ 20 × 401 per source.ip in 60 s
{
  const r = 'oauth-401-burst';
  const bad = (sec: number, ip: string) => gw(sec, { ip, status: 401, result: 'malformed_token', detail: 'token is not a JWS' });
  const okNoise = range(5).map((i) => gw(i * 11 + 1, { ip: `198.51.100.${40 + i}`, status: 200, result: 'ok', token: { fp: fp(`noise-${i}`), client_id: 'web-shop', iss: ISS } }));
  add('stable', r, 'fires-at-threshold', [...range(20).map((i) => bad(i * 3, '203.0.113.7')), ...okNoise],
    [alert(r, { 'source.ip': '203.0.113.7' }, 20, 0, 57)]);
  add('stable', r, 'near-miss-one-below', [...range(19).map((i) => bad(i * 3, '203.0.113.7')), ...okNoise], []);
  // The same burst arriving out of order (each event up to 25 s late, within the 30 s
  // allowed lateness): same alert, same first_seen/last_seen.
  add('stable', r, 'fires-out-of-order-within-lateness', jitter([...range(20).map((i) => bad(i * 3, '203.0.113.7')), ...okNoise], 25, 42),
    [alert(r, { 'source.ip': '203.0.113.7' }, 20, 0, 57)], 'as-listed');
  // 20 events 4 s apart span 76 s: no 60 s window holds more than 16 of them.
  add('stable', r, 'near-miss-spread-over-timespan', range(20).map((i) => bad(i * 4, '203.0.113.7')), []);
  // Window edge: the 1st and 20th event exactly 60 s apart are not in one window, which holds
  // (newest - timespan, newest]: at most 19 events.
  add('stable', r, 'near-miss-exactly-timespan-apart', [bad(0, '203.0.113.7'), ...range(18).map((i) => bad(3 + i * 3, '203.0.113.7')), bad(60, '203.0.113.7')], []);
  // 19 from each of two IPs in the same minute: grouping keeps them apart.
  add('stable', r, 'near-miss-split-across-ips', range(38).map((i) => bad(i * 1.5, i % 2 ? '203.0.113.7' : '203.0.113.8')), []);
  // 35 events 2 s apart: one alert whose count grows to 35; a second burst after the 10 m
  // suppression window is a second alert.
  add('stable', r, 'suppression-one-alert-per-window', [
    ...range(35).map((i) => bad(i * 2, '203.0.113.7')),
    ...range(20).map((i) => bad(700 + i * 2, '203.0.113.7')),
  ], [alert(r, { 'source.ip': '203.0.113.7' }, 35, 0, 68), alert(r, { 'source.ip': '203.0.113.7' }, 20, 700, 738)]);
}
// ---------- filter: the health-check scanner range never counts toward oauth-401-burst
{
  const bad = (sec: number, ip: string) => gw(sec, { ip, route: '/api/v1/health/deep', status: 401, result: 'missing_token', cls: 'protected' });
  add('filters', 'healthcheck-scanner-allowlist', 'suppresses-scanner-range', [
    ...range(30).map((i) => bad(i * 2, '198.51.100.5')), // inside 198.51.100.0/28: filtered
    ...range(20).map((i) => bad(i * 2 + 1, '198.51.100.20')), // just outside the /28: fires
  ], [alert('oauth-401-burst', { 'source.ip': '198.51.100.20' }, 20, 1, 39)]);
}
// ---------- jwks-unknown-kid-spike: ≥ 10 unknown_kid per token.iss in 5 m
{
  const r = 'jwks-unknown-kid-spike';
  const uk = (sec: number, i: number, iss = ISS) => gw(sec, { ip: `192.0.2.${10 + (i % 40)}`, status: 401, result: 'unknown_kid', token: { iss, kid: '2026-03-rotation', alg: 'RS256', client_id: 'web-shop', fp: fp(`uk-${i}`) } });
  add('stable', r, 'fires-at-threshold', range(10).map((i) => uk(i * 20, i)), [alert(r, { 'token.iss': ISS }, 10, 0, 180)]);
  add('stable', r, 'near-miss-one-below', range(9).map((i) => uk(i * 20, i)), []);
  // 40 s apart: 10 events span 360 s, no 300 s window holds more than 8.
  add('stable', r, 'near-miss-spread-over-timespan', range(10).map((i) => uk(i * 40, i)), []);
  add('stable', r, 'near-miss-two-issuers', range(18).map((i) => uk(i * 10, i, i % 2 ? ISS : 'https://login.partner.example/')), []);
  add('stable', r, 'suppression-one-alert-per-window', range(15).map((i) => uk(i * 10, i)), [alert(r, { 'token.iss': ISS }, 15, 0, 140)]);
}
// ---------- jwks-fetch-failure: ≥ 3 jwks_unavailable per observer.name in 5 m
{
  const r = 'jwks-fetch-failure';
  const jf = (sec: number, observer = 'edge-eu-1') => gw(sec, { ip: '198.51.100.61', observer, status: 503, result: 'jwks_unavailable', detail: 'Jwks remote fetch is failed', token: { iss: ISS, kid: 'k1', fp: fp(`jf-${sec}`) } });
  add('stable', r, 'fires-at-threshold', [jf(0), jf(60), jf(120)], [alert(r, { 'observer.name': 'edge-eu-1' }, 3, 0, 120)]);
  add('stable', r, 'near-miss-one-below', [jf(0), jf(60)], []);
  add('stable', r, 'near-miss-spread-over-timespan', [jf(0), jf(200), jf(400)], []);
  add('stable', r, 'near-miss-exactly-timespan-apart', [jf(0), jf(150), jf(300)], []);
  add('stable', r, 'fires-just-inside-timespan', [jf(0), jf(150), jf(299.999)], [alert(r, { 'observer.name': 'edge-eu-1' }, 3, 0, 299.999)]);
  add('stable', r, 'near-miss-two-observers', [jf(0), jf(30, 'edge-us-2'), jf(60), jf(90, 'edge-us-2')], []);
  add('stable', r, 'suppression-one-alert-per-window', range(5).map((i) => jf(i * 30)), [alert(r, { 'observer.name': 'edge-eu-1' }, 5, 0, 120)]);
}
// ---------- under-scope-probing: ≥ 5 distinct http.route with insufficient_scope per token.client_id in 10 m
{
  const r = 'under-scope-probing';
  const routes = ['/api/v1/admin/users', '/api/v1/admin/audit', '/api/v1/billing/invoices', '/api/v1/billing/refunds', '/api/v1/exports/{id}', '/api/v1/keys', '/api/v1/settings'];
  const us = (sec: number, route: string, client = 'reporting-svc') => gw(sec, { ip: '198.51.100.33', route, status: 403, result: 'insufficient_scope', type: 'api', observer: 'orders-api', token: { client_id: client, iss: ISS, fp: fp(`us-${client}`), scopes: ['orders:read'] } });
  add('stable', r, 'fires-at-threshold', range(5).map((i) => us(i * 30, routes[i])), [alert(r, { 'token.client_id': 'reporting-svc' }, 5, 0, 120)]);
  // 8 refusals but only 4 distinct routes.
  add('stable', r, 'near-miss-four-routes-repeated', range(8).map((i) => us(i * 30, routes[i % 4])), []);
  // 160 s apart: 5 routes span 640 s, no 600 s window holds more than 4.
  add('stable', r, 'near-miss-spread-over-timespan', range(5).map((i) => us(i * 160, routes[i])), []);
  add('stable', r, 'suppression-one-alert-per-window', range(7).map((i) => us(i * 30, routes[i])), [alert(r, { 'token.client_id': 'reporting-svc' }, 7, 0, 180)]);
}
// ---------- revoked-token-reuse: any revoked, per token.fp
{
  const r = 'revoked-token-reuse';
  const rv = (sec: number, label: string, result = 'revoked') => gw(sec, { ip: '203.0.113.90', status: 401, result, route: '/api/v1/profile', token: { fp: fp(label), client_id: 'mobile-app', iss: ISS, jti: `jti-${label}` } });
  add('stable', r, 'fires-on-one', [rv(0, 'tok-a')], [alert(r, { 'token.fp': fp('tok-a') }, 1, 0, 0)]);
  add('stable', r, 'near-miss-expired-not-revoked', [rv(0, 'tok-a', 'expired'), rv(30, 'tok-b', 'ok')], []);
  add('stable', r, 'suppression-one-alert-per-window', [rv(0, 'tok-a'), rv(30, 'tok-b'), rv(60, 'tok-a'), rv(120, 'tok-a'), rv(700, 'tok-a')], [
    alert(r, { 'token.fp': fp('tok-a') }, 3, 0, 120),
    alert(r, { 'token.fp': fp('tok-b') }, 1, 30, 30),
    alert(r, { 'token.fp': fp('tok-a') }, 1, 700, 700),
  ]);
}
// ---------- token-multi-ip: ≥ 3 distinct source.ip with ok per token.fp in 5 m
{
  const r = 'token-multi-ip';
  const ok = (sec: number, ip: string, label = 'tok-m') => gw(sec, { ip, status: 200, result: 'ok', token: { fp: fp(label), client_id: 'web-shop', iss: ISS, sub: 'user-4711' } });
  add('stable', r, 'fires-at-threshold', [ok(0, '203.0.113.21'), ok(60, '198.51.100.14'), ok(120, '192.0.2.77')], [alert(r, { 'token.fp': fp('tok-m') }, 3, 0, 120)]);
  add('stable', r, 'fires-out-of-order-within-lateness', [ok(20, '192.0.2.77'), ok(0, '203.0.113.21'), ok(10, '198.51.100.14')],
    [alert(r, { 'token.fp': fp('tok-m') }, 3, 0, 20)], 'as-listed');
  add('stable', r, 'near-miss-two-ips', range(6).map((i) => ok(i * 20, i % 2 ? '203.0.113.21' : '198.51.100.14')), []);
  add('stable', r, 'near-miss-spread-over-timespan', [ok(0, '203.0.113.21'), ok(160, '198.51.100.14'), ok(320, '192.0.2.77')], []);
  add('stable', r, 'near-miss-different-tokens', [ok(0, '203.0.113.21', 'a'), ok(10, '198.51.100.14', 'b'), ok(20, '192.0.2.77', 'c')], []);
  add('stable', r, 'suppression-one-alert-per-window', [ok(0, '203.0.113.21'), ok(60, '198.51.100.14'), ok(120, '192.0.2.77'), ok(200, '2001:db8::42')], [alert(r, { 'token.fp': fp('tok-m') }, 4, 0, 200)]);
}
// ---------- alg-not-allowed: any alg_not_allowed or token.alg none, per source.ip
{
  const r = 'alg-not-allowed';
  const ev = (sec: number, ip: string, result: string, alg: string) => gw(sec, { ip, status: 401, result, route: '/api/v1/accounts/{id}', token: { alg, kid: 'k1', iss: ISS, fp: fp(`alg-${sec}`) } });
  add('stable', r, 'fires-on-one', [ev(0, '203.0.113.66', 'alg_not_allowed', 'HS256'), ev(10, '2001:db8:beef::6', 'malformed_token', 'NONE')], [
    alert(r, { 'source.ip': '203.0.113.66' }, 1, 0, 0),
    alert(r, { 'source.ip': '2001:db8:beef::6' }, 1, 10, 10),
  ]);
  // "nonexistent" must not match "none": Sigma values match the whole field.
  add('stable', r, 'near-miss-allowed-algs', [ev(0, '203.0.113.66', 'bad_signature', 'RS256'), ev(10, '203.0.113.67', 'malformed_token', 'nonexistent'), ev(20, '203.0.113.68', 'ok', 'ES256')], []);
  add('stable', r, 'suppression-one-alert-per-window', [ev(0, '203.0.113.66', 'alg_not_allowed', 'HS256'), ev(60, '203.0.113.66', 'malformed_token', 'none'), ev(120, '203.0.113.66', 'alg_not_allowed', 'HS512')], [alert(r, { 'source.ip': '203.0.113.66' }, 3, 0, 120)]);
}
// ---------- anonymous-access-protected-route: 2xx + missing_token on protected/restricted, per http.route
{
  const r = 'anonymous-access-protected-route';
  const an = (sec: number, route: string, status: number, cls: string, result = 'missing_token') => gw(sec, { ip: '192.0.2.150', route, status, result, cls, type: 'api', observer: 'orders-api' });
  add('stable', r, 'fires-on-one', [an(0, '/api/v1/orders/{id}', 200, 'protected')], [alert(r, { 'http.route': '/api/v1/orders/{id}' }, 1, 0, 0)]);
  add('stable', r, 'near-miss-refused-or-public', [
    an(0, '/api/v1/orders/{id}', 401, 'protected'),
    an(10, '/api/v1/catalog', 200, 'public'),
    an(20, '/api/v1/orders/{id}', 200, 'protected', 'ok'),
    an(30, '/api/v1/orders/{id}', 302, 'protected'),
  ], []);
  add('stable', r, 'suppression-one-alert-per-window', [
    an(0, '/api/v1/orders/{id}', 200, 'protected'),
    an(60, '/api/v1/orders/{id}', 204, 'protected'),
    an(90, '/admin/users', 200, 'restricted'),
    an(120, '/api/v1/orders/{id}', 200, 'protected'),
  ], [alert(r, { 'http.route': '/api/v1/orders/{id}' }, 3, 0, 120), alert(r, { 'http.route': '/admin/users' }, 1, 90, 90)]);
}
// ---------- audience-mismatch: ≥ 3 wrong_audience per token.client_id in 10 m
{
  const r = 'audience-mismatch';
  const wa = (sec: number, client = 'mobile-app') => gw(sec, { ip: '198.51.100.90', status: 401, result: 'wrong_audience', route: '/api/v1/payments', token: { client_id: client, aud: 'https://api.example.com/orders', iss: ISS, fp: fp(`wa-${sec}`) } });
  add('stable', r, 'fires-at-threshold', [wa(0), wa(200), wa(400)], [alert(r, { 'token.client_id': 'mobile-app' }, 3, 0, 400)]);
  add('stable', r, 'near-miss-one-below', [wa(0), wa(200)], []);
  add('stable', r, 'near-miss-spread-over-timespan', [wa(0), wa(320), wa(640)], []);
  add('stable', r, 'suppression-one-alert-per-window', range(5).map((i) => wa(i * 60)), [alert(r, { 'token.client_id': 'mobile-app' }, 5, 0, 240)]);
}
// ---------- client-secret-bruteforce: ≥ 10 invalid_client per idp.client_id in 5 m
{
  const r = 'client-secret-bruteforce';
  const ic = (sec: number, client = 'billing-batch') => idp(sec, { ip: '203.0.113.140', client, grant: 'client_credentials', error: 'invalid_client', result: 'invalid_client' });
  add('stable', r, 'fires-at-threshold', range(10).map((i) => ic(i * 20)), [alert(r, { 'idp.client_id': 'billing-batch' }, 10, 0, 180)]);
  add('stable', r, 'near-miss-one-below', range(9).map((i) => ic(i * 20)), []);
  add('stable', r, 'near-miss-spread-over-timespan', range(10).map((i) => ic(i * 40)), []);
  add('stable', r, 'suppression-one-alert-per-window', range(14).map((i) => ic(i * 15)), [alert(r, { 'idp.client_id': 'billing-batch' }, 14, 0, 195)]);
}
// ---------- refresh-token-reuse: any refresh_reuse, per idp.client_id
{
  const r = 'refresh-token-reuse';
  const rr = (sec: number, result = 'refresh_reuse') => idp(sec, { ip: '192.0.2.201', client: 'mobile-app', grant: 'refresh_token', error: 'invalid_grant', result });
  add('stable', r, 'fires-on-one', [rr(0)], [alert(r, { 'idp.client_id': 'mobile-app' }, 1, 0, 0)]);
  add('stable', r, 'near-miss-plain-invalid-grant', [rr(0, 'invalid_grant'), rr(30, 'invalid_grant')], []);
  add('stable', r, 'suppression-one-alert-per-window', [rr(0), rr(120), rr(660)], [alert(r, { 'idp.client_id': 'mobile-app' }, 2, 0, 120), alert(r, { 'idp.client_id': 'mobile-app' }, 1, 660, 660)]);
}
// ---------- ingest-unredacted-token: events ingest had to redact, per observer.name
{
  const r = 'ingest-unredacted-token';
  // An opaque bearer value made up for this fixture (not a real credential): ingest must redact it.
  const leak = (sec: number, observer: string, n: number) => gw(sec, { ip: '198.51.100.120', observer, status: 200, result: 'ok', route: '/api/v1/cart', extra: { request_headers: { authorization: `Bearer awfx${'0'.repeat(n)}q7Rk2mVtY9pLx4cN8sWb3ZeHf6JdGu1A` } } });
  const clean = (sec: number, observer: string) => gw(sec, { ip: '198.51.100.121', observer, status: 200, result: 'ok', route: '/api/v1/cart', token: { fp: fp(`clean-${sec}`) }, detail: 'token ok' });
  add('stable', r, 'fires-on-one', [leak(0, 'kong-legacy-1', 1)], [alert(r, { 'observer.name': 'kong-legacy-1' }, 1, 0, 0)]);
  add('stable', r, 'near-miss-already-fingerprinted', [clean(0, 'kong-legacy-1'), clean(30, 'edge-eu-1')], []);
  add('stable', r, 'suppression-one-alert-per-window', [leak(0, 'kong-legacy-1', 1), leak(600, 'kong-legacy-1', 2), leak(1200, 'kong-legacy-1', 3), leak(1300, 'edge-us-2', 4)], [
    alert(r, { 'observer.name': 'kong-legacy-1' }, 3, 0, 1200),
    alert(r, { 'observer.name': 'edge-us-2' }, 1, 1300, 1300),
  ]);
}
// ---------- experimental: expired-token-replay: ≥ 5 expired per token.fp in 10 m
{
  const r = 'expired-token-replay';
  // Five different IPs so the failures-then-success burst (per IP) stays quiet.
  const ex = (sec: number, i: number) => gw(sec, { ip: `203.0.113.${150 + i}`, status: 401, result: 'expired', route: '/api/v1/orders', token: { fp: fp('tok-exp'), client_id: 'web-shop', iss: ISS, exp: Math.floor(BASE / 1000) - 3600 } });
  add('experimental', r, 'fires-at-threshold', range(5).map((i) => ex(i * 100, i)), [alert(r, { 'token.fp': fp('tok-exp') }, 5, 0, 400)]);
  add('experimental', r, 'near-miss-one-below', range(4).map((i) => ex(i * 100, i)), []);
  add('experimental', r, 'near-miss-spread-over-timespan', range(5).map((i) => ex(i * 160, i)), []);
  add('experimental', r, 'suppression-one-alert-per-window', range(7).map((i) => ex(i * 60, i)), [alert(r, { 'token.fp': fp('tok-exp') }, 7, 0, 360)]);
}
// ---------- experimental: forged-kid-probing: ≥ 4 distinct token.kid failing signature per source.ip in 10 m
{
  const r = 'forged-kid-probing';
  const kids = ['../../../../dev/null', "x' UNION SELECT 'k", 'key-2019-01', 'key-2020-07', 'jwk-legacy', 'default'];
  const fk = (sec: number, kid: string, result = 'unknown_kid') => gw(sec, { ip: '192.0.2.66', status: 401, result, route: '/api/v1/accounts/{id}', token: { kid, alg: 'RS256', iss: ISS, fp: fp(`fk-${sec}`) } });
  add('experimental', r, 'fires-at-threshold', [fk(0, kids[0]), fk(30, kids[1], 'bad_signature'), fk(60, kids[2]), fk(90, kids[3])], [alert(r, { 'source.ip': '192.0.2.66' }, 4, 0, 90)]);
  add('experimental', r, 'near-miss-three-kids', range(6).map((i) => fk(i * 30, kids[i % 3])), []);
  add('experimental', r, 'suppression-one-alert-per-window', range(6).map((i) => fk(i * 30, kids[i])), [alert(r, { 'source.ip': '192.0.2.66' }, 6, 0, 150)]);
}
// ---------- experimental: token-endpoint-spray: ≥ 5 distinct idp.client_id with invalid_grant per source.ip in 5 m
{
  const r = 'token-endpoint-spray';
  const clients = ['web-shop', 'mobile-app', 'partner-portal', 'reporting-svc', 'support-desk', 'billing-batch'];
  const ig = (sec: number, client: string) => idp(sec, { ip: '198.51.100.77', client, grant: 'authorization_code', error: 'invalid_grant', result: 'invalid_grant' });
  add('experimental', r, 'fires-at-threshold', range(5).map((i) => ig(i * 20, clients[i])), [alert(r, { 'source.ip': '198.51.100.77' }, 5, 0, 80)]);
  add('experimental', r, 'near-miss-four-clients', range(8).map((i) => ig(i * 20, clients[i % 4])), []);
  add('experimental', r, 'suppression-one-alert-per-window', range(6).map((i) => ig(i * 20, clients[i])), [alert(r, { 'source.ip': '198.51.100.77' }, 6, 0, 100)]);
}
// ---------- experimental: failures-then-success: burst of ≥ 5 bad_signature/expired, then ok, per source.ip
{
  const r = 'failures-then-success';
  const f = (sec: number, result = 'bad_signature') => gw(sec, { ip: '203.0.113.50', status: 401, result, route: '/api/v1/accounts/{id}', token: { alg: 'RS256', kid: 'k1', iss: ISS, fp: fp(`fs-${sec}`) } });
  const ok = (sec: number) => gw(sec, { ip: '203.0.113.50', status: 200, result: 'ok', route: '/api/v1/accounts/{id}', token: { alg: 'RS256', kid: 'k1', iss: ISS, fp: fp('fs-ok') } });
  // The chained correlation sees two matches: the burst (complete at the 5th failure, t=40)
  // and the success; its alert spans those two.
  add('experimental', r, 'fires-burst-then-ok', [...range(5).map((i) => f(i * 10, i % 2 ? 'expired' : 'bad_signature')), ok(60)], [alert(r, { 'source.ip': '203.0.113.50' }, 2, 40, 60)]);
  // More successes inside the suppression window grow the one alert; a success after the
  // window, with the burst long gone, raises nothing.
  add('experimental', r, 'suppression-one-alert-per-window', [...range(5).map((i) => f(i * 10)), ok(60), ok(120), ok(700)], [alert(r, { 'source.ip': '203.0.113.50' }, 3, 40, 120)]);
  add('experimental', r, 'near-miss-four-failures', [...range(4).map((i) => f(i * 10)), ok(60)], []);
  add('experimental', r, 'near-miss-success-first', [ok(0), ...range(5).map((i) => f(10 + i * 10))], []);
}

// Expected files are sorted the way the fixture runner sorts actual alerts.
const order = (a: Expected, b: Expected) =>
  a.rule.localeCompare(b.rule) || a.first_seen.localeCompare(b.first_seen) || JSON.stringify(a.group).localeCompare(JSON.stringify(b.group));

const written = new Set<string>();
for (const c of cases) {
  const dir = join(RULES, c.dir, `${c.rule}.fixtures`);
  if (!written.has(dir)) {
    if (existsSync(dir)) rmSync(dir, { recursive: true });
    mkdirSync(dir, { recursive: true });
    written.add(dir);
  }
  const withIds = c.events.map((e, i): Ev & { id: string } => ({ id: `${c.rule}.${c.name}.${String(i + 1).padStart(3, '0')}`, ...e }));
  const events = c.arrival === 'as-listed' ? withIds : withIds.sort((a, b) => String(a.time).localeCompare(String(b.time)) || a.id.localeCompare(b.id));
  writeFileSync(join(dir, `${c.name}.events.ndjson`), events.map((e) => JSON.stringify(e)).join('\n') + '\n');
  writeFileSync(join(dir, `${c.name}.expected.ndjson`), [...c.expected].sort(order).map((e) => JSON.stringify(e) + '\n').join(''));
}
process.stdout.write(`wrote ${cases.length} fixture cases in ${written.size} folders\n`);
