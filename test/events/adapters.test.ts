import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expectedFor, FIXTURE_FINGERPRINT_SECRET } from './support/adapter-fixtures.js';
import { fingerprint } from '../../src/events/redaction.js';
import { resultFromDetails, stripPort } from '../../src/events/adapters/envoy-adapter.js';
import { templateRoute, resultFromStatus } from '../../src/events/adapters/http-facts.js';
import { timeLocalToRfc3339 } from '../../src/events/adapters/nginx-adapter.js';
import { detectObjectFormat, detectTextFormat } from '../../src/events/adapters/detect.js';

const FIX = join(import.meta.dirname, '../../fixtures/adapters');
const FILES = ['authwatch/events.ndjson', 'nginx/combined.log', 'nginx/json.log', 'envoy/access.log', 'kong/http-log.ndjson'];
const read = (rel: string) => readFileSync(join(FIX, rel), 'utf8');
const expectedFile = (rel: string) =>
  read(rel.replace(/\.[a-z]+$/, '.expected.ndjson'))
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));

describe('adapter fixtures', () => {
  for (const rel of FILES) {
    it(`${rel} produces exactly the expected events and rejections`, () => {
      expect(expectedFor(rel, read(rel))).toEqual(expectedFile(rel));
    });

    it(`${rel}: per-line detection (auto) gives the same events`, () => {
      const explicit = expectedFor(rel, read(rel));
      const auto = expectedFor(rel, read(rel), 'auto');
      expect(auto.length).toBe(explicit.length);
      for (let i = 0; i < auto.length; i++) {
        if ('event' in explicit[i]) expect(auto[i]).toEqual(explicit[i]);
        else expect('rejected' in auto[i]).toBe(true);
      }
    });

    it(`${rel}: no token from the input survives, and every fingerprint is fingerprint() of an input token`, () => {
      const input = read(rel);
      const tokens = [...input.matchAll(/eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g)].map((m) => m[0]);
      tokens.push(...[...input.matchAll(/(?:op|rt|k_live)_[A-Za-z0-9_]{12,}/g)].map((m) => m[0]));
      tokens.push(...[...input.matchAll(/code=([A-Za-z0-9]{12,})/g)].map((m) => m[1]));
      const out = JSON.stringify(expectedFor(rel, input));
      for (const t of tokens) {
        for (const piece of [t, ...t.split('.').filter((s) => s.length >= 8)]) expect(out.includes(piece)).toBe(false);
      }
      const fps = new Set(tokens.map((t) => fingerprint(FIXTURE_FINGERPRINT_SECRET, t)));
      for (const fp of out.match(/tfp_[A-Za-z0-9_-]{22}/g) ?? []) {
        if (rel.startsWith('authwatch') && fp === 'tfp_3q2b8Jx0VhQ1mYc7Lr9sAe') continue; // producer-supplied
        expect(fps.has(fp)).toBe(true);
      }
    });
  }

  it('kong: the Authorization header comes out fingerprinted, its claims decoded, the header redacted and the event marked', () => {
    const rows = expectedFor('kong/http-log.ndjson', read('kong/http-log.ndjson'));
    const first = rows[0] as { event: Record<string, any> };
    const input = JSON.parse(read('kong/http-log.ndjson').split('\n')[0]);
    const token = (input.request.headers.authorization as string).slice('Bearer '.length);
    expect(first.event.token.fp).toBe(fingerprint(FIXTURE_FINGERPRINT_SECRET, token));
    expect(first.event.token).toMatchObject({ kid: 'shop-2026-03', alg: 'RS256', iss: 'https://login.example.com/realms/shop', client_id: 'web-shop', scopes: ['openid', 'orders:read', 'orders:write'] });
    expect(first.event.http.request_headers.authorization).toBe('[REDACTED]');
    expect(first.event.redaction).toEqual({ applied: true, count: 1, fields: ['http.request_headers.authorization'] });
  });
});

describe('kong edge cases', () => {
  it('a repeated Authorization header (array): the first is fingerprinted, all are redacted; an API key counts as a credential', () => {
    const rows = expectedFor(
      'kong/inline',
      [
        JSON.stringify({ request: { method: 'GET', uri: '/api/v1/x', headers: { authorization: ['Bearer op_Q8x2mZ7LkP4wN9vB', 'Bearer op_Z1y2X3w4V5u6T7s8'] } }, response: { status: 401 }, client_ip: '198.51.100.1', started_at: 1773480840000 }),
        JSON.stringify({ request: { method: 'GET', uri: '/api/v1/x', headers: { 'x-api-key': 'k_9f8e7d6c5b4a3921' } }, response: { status: 200 }, client_ip: '198.51.100.1', started_at: 1773480841000 }),
      ].join('\n'),
      'kong',
    ) as Array<{ event: Record<string, any> }>;
    const out = JSON.stringify(rows);
    for (const secret of ['op_Q8x2mZ7LkP4wN9vB', 'op_Z1y2X3w4V5u6T7s8', 'k_9f8e7d6c5b4a3921']) expect(out).not.toContain(secret);
    expect(rows[0].event.auth).toMatchObject({ result: 'other', scheme: 'bearer' });
    expect(rows[0].event.token.fp).toBe(fingerprint(FIXTURE_FINGERPRINT_SECRET, 'op_Q8x2mZ7LkP4wN9vB'));
    expect(rows[1].event.auth).toEqual({ result: 'ok', scheme: 'other' });
    expect(rows[1].event.http.request_headers['x-api-key']).toBe('[REDACTED]');
  });
});

describe('envoy jwt_authn response code details', () => {
  const cases: Array<[string, string | undefined]> = [
    ['jwt_authn_access_denied{Jwt_is_expired}', 'expired'],
    ['jwt_authn_access_denied{Jwt_verification_fails}', 'bad_signature'],
    ["jwt_authn_access_denied{Jwks_doesn't_have_key_to_match_kid_or_alg_from_Jwt}", 'unknown_kid'],
    ['jwt_authn_access_denied{Jwks_remote_fetch_is_failed}', 'jwks_unavailable'],
    ['jwt_authn_access_denied{Jwt_is_missing}', 'missing_token'],
    ['jwt_authn_access_denied{Audiences_in_Jwt_are_not_allowed}', 'wrong_audience'],
    ['jwt_authn_access_denied{Jwt_issuer_is_not_configured}', 'wrong_issuer'],
    ['jwt_authn_access_denied{Jwt_not_yet_valid}', 'not_yet_valid'],
    ['jwt_authn_access_denied{Jwt_header_is_an_invalid_JSON}', 'malformed_token'],
    ['jwt_authn_access_denied{Found_multiple_Jwt_tokens}', 'malformed_token'],
    ['jwt_authn_access_denied{Something_new}', 'other'],
    ['rbac_access_denied_matched_policy[none]', 'insufficient_scope'],
    ['via_upstream', undefined],
  ];
  for (const [details, result] of cases) it(`${details} → ${result}`, () => expect(resultFromDetails(details)).toBe(result));

  it('strips ports from downstream addresses', () => {
    expect(stripPort('198.51.100.7:5040')).toBe('198.51.100.7');
    expect(stripPort('[2001:db8::1]:443')).toBe('2001:db8::1');
    expect(stripPort('2001:db8::1')).toBe('2001:db8::1');
  });
});

describe('shared gateway facts', () => {
  it('templates id-like path segments and drops the query', () => {
    expect(templateRoute('/api/v1/orders/48213?x=1')).toBe('/api/v1/orders/{id}');
    expect(templateRoute('/u/3f2b9c1e-8d4a-4f6b-9c2d-1a2b3c4d5e6f/p')).toBe('/u/{id}/p');
    expect(templateRoute('/blobs/9f86d081884c7d659a2feaa0c55ad015')).toBe('/blobs/{id}');
    expect(templateRoute('/api/v1/orders/catalog')).toBe('/api/v1/orders/catalog');
    expect(templateRoute('')).toBe('/');
  });

  it('maps status codes: 401 unknown kind, 403 insufficient scope, others ok; no credential means missing_token', () => {
    expect(resultFromStatus(401, { credentialKnown: false, hasCredential: false }).result).toBe('other');
    expect(resultFromStatus(403, { credentialKnown: false, hasCredential: false }).result).toBe('insufficient_scope');
    expect(resultFromStatus(200, { credentialKnown: false, hasCredential: false }).result).toBe('ok');
    expect(resultFromStatus(404, { credentialKnown: false, hasCredential: false }).result).toBe('ok');
    expect(resultFromStatus(200, { credentialKnown: true, hasCredential: false }).result).toBe('missing_token');
    expect(resultFromStatus(401, { credentialKnown: true, hasCredential: true, token: { exp: 100 }, timeMs: 200_000 }).result).toBe('expired');
    expect(resultFromStatus(401, { credentialKnown: true, hasCredential: true, token: { nbf: 300 }, timeMs: 200_000 }).result).toBe('not_yet_valid');
  });

  it('converts nginx time_local to RFC 3339', () => {
    expect(timeLocalToRfc3339('14/Mar/2026:10:30:00 +0100')).toBe('2026-03-14T10:30:00+01:00');
    expect(timeLocalToRfc3339('14/Foo/2026:10:30:00 +0100')).toBeUndefined();
  });

  it('detects formats per record', () => {
    expect(detectObjectFormat({ observer: { type: 'api' }, auth: {} })).toBe('authwatch');
    expect(detectObjectFormat({ request: {}, response: {}, started_at: 1 })).toBe('kong');
    expect(detectObjectFormat({ response_code_details: 'via_upstream' })).toBe('envoy');
    expect(detectObjectFormat({ remote_addr: '1.2.3.4', status: '200' })).toBe('nginx');
    expect(detectObjectFormat({ hello: 'world' })).toBeUndefined();
    expect(detectTextFormat('1.2.3.4 - - [14/Mar/2026:10:30:00 +0100] "GET / HTTP/1.1" 200 1 "-" "-"')).toBe('nginx');
    expect(detectTextFormat('GET / 200')).toBeUndefined();
  });
});
