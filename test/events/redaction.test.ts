import { describe, expect, it } from 'vitest';
import { createHmac } from 'node:crypto';
import { createRedactor, fingerprint, redactText, REDACTED, FINGERPRINT_RE } from '../../src/events/redaction.js';
import { expectNoSecret, mintJwt, opaqueToken } from './support/tokens.js';

const SECRET = Buffer.from('redaction-test-secret-0123456789');

describe('fingerprint', () => {
  it('is tfp_ + the first 22 chars of base64url(HMAC-SHA256(secret, token))', () => {
    const t = opaqueToken();
    const want = 'tfp_' + createHmac('sha256', SECRET).update(t).digest('base64url').slice(0, 22);
    expect(fingerprint(SECRET, t)).toBe(want);
    expect(fingerprint(SECRET, t)).toMatch(FINGERPRINT_RE);
    expect(fingerprint(Buffer.from('another-secret-0123456789'), t)).not.toBe(want);
  });
});

describe('redactText', () => {
  const jwt = mintJwt();
  const cases: Array<[string, string]> = [
    [`Authorization: Bearer ${jwt}`, 'Authorization: [REDACTED]'],
    [`got Bearer ${jwt} from client`, 'got Bearer [REDACTED] from client'],
    [`x ${jwt} y`, `x ${REDACTED} y`],
    ['GET /cb?code=Ab3kQ9zX7mP2wL5nR8tY&state=s1 HTTP/1.1', 'GET /cb?code=[REDACTED]&state=s1 HTTP/1.1'],
    ['grant_type=refresh_token&refresh_token=rt_Q9m2ZxV7LpK4&client_secret=s3cr3t-v4lue', 'grant_type=refresh_token&refresh_token=[REDACTED]&client_secret=[REDACTED]'],
    ['{"access_token":"at_x8Yb29dQ","token_type":"Bearer"}', '{"access_token":"[REDACTED]","token_type":"Bearer"}'],
    ['Basic dXNlcjpwYXNzd29yZA==', 'Basic [REDACTED]'],
    ['DPoP Kz8mXK1EalYznwH-LC-1fBAo', 'DPoP [REDACTED]'],
    ['redirect_uri=https%3A%2F%2Fapp%2Fcb%3Fcode%3DAb3kQ9zX7mP2wL%26x%3D1', 'redirect_uri=https%3A%2F%2Fapp%2Fcb%3Fcode%3D[REDACTED]%26x%3D1'],
    ['Cookie: session=abc123; theme=dark', 'Cookie: [REDACTED]'],
  ];
  for (const [input, want] of cases) it(`redacts ${input.slice(0, 40)}`, () => expect(redactText(input)).toBe(want));

  const clean = ['Bearer token expired', 'error code=401 from upstream', 'auth.scheme=bearer', 'tfp_3q2b8Jx0VhQ1mYc7Lr9sAe', 'GET /api/v1/orders?page=2', 'scope orders:admin required', REDACTED];
  for (const s of clean) it(`leaves clean text alone: ${s}`, () => expect(redactText(s)).toBe(s));

  it('finds JWTs glued to other text or inside dotted runs, and only redacts from eyJ on', () => {
    const t = mintJwt();
    expect(redactText(`x${t}`)).toBe(`x${REDACTED}`);
    expect(redactText(`v1.${t}`)).toBe(`v1.${REDACTED}`);
    expect(redactText(`id=${t}.extra`)).toBe(`id=${REDACTED}`);
    expect(redactText('api.example.com v1.2.3 eyJa.b')).toBe('api.example.com v1.2.3 eyJa.b');
  });

  it('returns long repetitive inputs intact when they hold no secret', () => {
    for (const s of ['eyJa'.repeat(8000), 'bearer a'.repeat(4000), '&code='.repeat(5000)]) expect(redactText(s)).toBe(s);
  });

  it('is idempotent', () => {
    const s = `a Bearer ${opaqueToken()} b ?access_token=${opaqueToken()} ${mintJwt()}`;
    expect(redactText(redactText(s))).toBe(redactText(s));
  });
});

describe('createRedactor', () => {
  const redact = createRedactor(SECRET);

  it('redacts secrets by key and by pattern in every nested place and reports dotted paths', () => {
    const bearer = opaqueToken('bt');
    const jwt = mintJwt();
    const refresh = opaqueToken('rt');
    const code = opaqueToken('code');
    const pw = opaqueToken('pw');
    const o: Record<string, any> = {
      http: { headers: { Authorization: `Bearer ${bearer}`, Cookie: 'sid=xyz12345' }, query: { code } },
      detail: [`token was ${jwt}`, { form: `grant_type=refresh_token&refresh_token=${refresh}` }],
      extra: { deep: { deeper: { password: pw, x_api_key: 'k_8f2d9a7b3c1e' } } },
    };
    const r = redact(o);
    expectNoSecret(o, [bearer, jwt, refresh, code, pw]);
    expect(r.fields).toEqual(['http.headers.Authorization', 'http.headers.Cookie', 'http.query.code', 'detail.0', 'detail.1.form', 'extra.deep.deeper.password', 'extra.deep.deeper.x_api_key']);
    expect(r.count).toBe(7);
    expect(r.kinds).toEqual({ key: 5, jwt: 1, param: 1 });
    expect(o.token.fp).toBe(fingerprint(SECRET, bearer)); // first token found
    expect(r.fingerprints).toEqual([fingerprint(SECRET, bearer), fingerprint(SECRET, jwt), fingerprint(SECRET, refresh)]);
  });

  it('keeps a producer fingerprint and never re-redacts tfp_ values', () => {
    const fp = fingerprint(SECRET, 'x');
    const o: Record<string, any> = { token: { fp }, access_token: fp, detail: `seen ${mintJwt()}` };
    const r = redact(o);
    expect(o.token.fp).toBe(fp);
    expect(o.access_token).toBe(fp);
    expect(r.fields).toEqual(['detail']);
  });

  it('replaces a raw token sent as token.fp by its fingerprint', () => {
    const jwt = mintJwt();
    const o: Record<string, any> = { token: { fp: jwt } };
    redact(o);
    expect(o.token.fp).toBe(fingerprint(SECRET, jwt));
  });

  it('redacts an own __proto__ property (JSON.parse makes one) instead of touching the prototype', () => {
    const t = opaqueToken();
    const o = JSON.parse(`{"__proto__": "Bearer ${t}", "a": 1}`);
    redact(o);
    expect(JSON.stringify(o)).not.toContain(t);
    expect(Object.getPrototypeOf(o)).toBe(Object.prototype);
  });

  it('reports nothing for clean objects and leaves them unchanged', () => {
    const o = { observer: { type: 'gateway', name: 'edge' }, http: { path: '/a?page=1', route: '/a' }, auth: { result: 'ok', scheme: 'bearer', detail: 'Bearer token expired' } };
    const before = JSON.stringify(o);
    expect(redact(o)).toEqual({ count: 0, fields: [], kinds: {}, fingerprints: [] });
    expect(JSON.stringify(o)).toBe(before);
  });

  it('code is a secret only as a request parameter', () => {
    const o: Record<string, any> = { error: { code: 'E_INVALID_TOKEN_123' }, form: { code: 'Ab3kQ9zX7mP2wL5nR8tY' } };
    redact(o);
    expect(o.error.code).toBe('E_INVALID_TOKEN_123');
    expect(o.form.code).toBe(REDACTED);
  });
});
