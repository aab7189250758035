// Conformance of detection matching with the Sigma specification: values, wildcards, escapes,
// null, coercion, arrays, every modifier, keywords, and every condition form.
import { describe, expect, it } from 'vitest';
import { matcher } from './helpers.js';

describe('plain values', () => {
  it('matches whole values case-insensitively', () => {
    const m = matcher('sel:\n  auth.result: Unknown_KID\ncondition: sel');
    expect(m({ auth: { result: 'unknown_kid' } })).toBe(true);
    expect(m({ auth: { result: 'UNKNOWN_KID' } })).toBe(true);
    expect(m({ auth: { result: 'unknown_kid_x' } })).toBe(false);
    expect(m({ auth: { result: 'x_unknown_kid' } })).toBe(false);
    expect(m({})).toBe(false);
  });

  it('wildcards * and ? match any run / exactly one character', () => {
    const m = matcher("sel:\n  http.route: '/api/*/orders/?'\ncondition: sel");
    expect(m({ http: { route: '/api/v1/orders/7' } })).toBe(true);
    expect(m({ http: { route: '/API/v1/x/orders/7' } })).toBe(true);
    expect(m({ http: { route: '/api/v1/orders/77' } })).toBe(false);
    expect(m({ http: { route: '/api/v1/orders/' } })).toBe(false);
    const mid = matcher("sel:\n  f: 'a*b*c'\ncondition: sel");
    expect(mid({ f: 'aXXbYYc' })).toBe(true);
    expect(mid({ f: 'abc' })).toBe(true);
    expect(mid({ f: 'aXXcYYb' })).toBe(false);
  });

  it('escapes: \\* and \\? are literal, \\\\ is one backslash, other backslashes stay', () => {
    const star = matcher("sel:\n  f: 'a\\*b'\ncondition: sel");
    expect(star({ f: 'a*b' })).toBe(true);
    expect(star({ f: 'aXb' })).toBe(false);
    const q = matcher("sel:\n  f: 'what\\?'\ncondition: sel");
    expect(q({ f: 'what?' })).toBe(true);
    expect(q({ f: 'whatX' })).toBe(false);
    const bs = matcher("sel:\n  f: 'C:\\\\temp\\*'\ncondition: sel");
    expect(bs({ f: 'C:\\temp*' })).toBe(true);
    expect(bs({ f: 'C:\\tempX' })).toBe(false);
    const plain = matcher("sel:\n  f: 'C:\\Windows\\sys*'\ncondition: sel");
    expect(plain({ f: 'C:\\Windows\\system32' })).toBe(true);
  });

  it('null matches a missing or null field only', () => {
    const m = matcher('sel:\n  token.fp: null\ncondition: sel');
    expect(m({})).toBe(true);
    expect(m({ token: {} })).toBe(true);
    expect(m({ token: { fp: null } })).toBe(true);
    expect(m({ token: { fp: '' } })).toBe(false);
    expect(m({ token: { fp: 'tfp_x' } })).toBe(false);
  });

  it('numbers and strings coerce both ways; booleans match true/false', () => {
    const n = matcher('sel:\n  http.status: 401\ncondition: sel');
    expect(n({ http: { status: 401 } })).toBe(true);
    expect(n({ http: { status: '401' } })).toBe(true);
    expect(n({ http: { status: 4010 } })).toBe(false);
    const s = matcher("sel:\n  http.status: '401'\ncondition: sel");
    expect(s({ http: { status: 401 } })).toBe(true);
    const b = matcher('sel:\n  redaction.applied: true\ncondition: sel');
    expect(b({ redaction: { applied: true } })).toBe(true);
    expect(b({ redaction: { applied: 'true' } })).toBe(true);
    expect(b({ redaction: { applied: false } })).toBe(false);
    expect(b({})).toBe(false);
  });

  it('dotted paths read nested objects, and also a literal dotted key', () => {
    const m = matcher('sel:\n  a.b.c: x\ncondition: sel');
    expect(m({ a: { b: { c: 'x' } } })).toBe(true);
    expect(m({ 'a.b.c': 'x' })).toBe(true);
    expect(m({ a: { b: 'x' } })).toBe(false);
  });

  it('list values are OR; a map is AND; a list of maps is OR', () => {
    const m = matcher('sel:\n  auth.result: [expired, revoked]\n  http.status: 401\ncondition: sel');
    expect(m({ auth: { result: 'revoked' }, http: { status: 401 } })).toBe(true);
    expect(m({ auth: { result: 'expired' }, http: { status: 401 } })).toBe(true);
    expect(m({ auth: { result: 'expired' }, http: { status: 403 } })).toBe(false);
    expect(m({ auth: { result: 'ok' }, http: { status: 401 } })).toBe(false);
    const lm = matcher('sel:\n  - auth.result: alg_not_allowed\n  - token.alg: none\ncondition: sel');
    expect(lm({ auth: { result: 'alg_not_allowed' } })).toBe(true);
    expect(lm({ auth: { result: 'ok' }, token: { alg: 'NONE' } })).toBe(true);
    expect(lm({ auth: { result: 'ok' }, token: { alg: 'RS256' } })).toBe(false);
  });

  it('array-valued fields: a value matches when any element matches; |all needs each value in some element', () => {
    const any = matcher('sel:\n  token.scopes: admin\ncondition: sel');
    expect(any({ token: { scopes: ['read', 'ADMIN'] } })).toBe(true);
    expect(any({ token: { scopes: ['read'] } })).toBe(false);
    expect(any({ token: { scopes: [] } })).toBe(false);
    const all = matcher('sel:\n  token.aud|all: [api-a, api-b]\ncondition: sel');
    expect(all({ token: { aud: ['api-b', 'api-a', 'x'] } })).toBe(true);
    expect(all({ token: { aud: ['api-a'] } })).toBe(false);
    expect(all({ token: { aud: 'api-a' } })).toBe(false);
  });
});

describe('modifiers', () => {
  it('contains / startswith / endswith (case-insensitive, wildcards kept)', () => {
    const c = matcher('sel:\n  auth.detail|contains: Signature\ncondition: sel');
    expect(c({ auth: { detail: 'bad SIGNATURE here' } })).toBe(true);
    expect(c({ auth: { detail: 'sig' } })).toBe(false);
    const s = matcher('sel:\n  http.route|startswith: /admin\ncondition: sel');
    expect(s({ http: { route: '/Admin/users' } })).toBe(true);
    expect(s({ http: { route: '/api/admin' } })).toBe(false);
    const e = matcher('sel:\n  token.iss|endswith: .evil.example\ncondition: sel');
    expect(e({ token: { iss: 'https://idp.EVIL.example' } })).toBe(true);
    expect(e({ token: { iss: 'https://idp.evil.example/x' } })).toBe(false);
    const w = matcher("sel:\n  f|contains: 'a?c'\ncondition: sel");
    expect(w({ f: 'xxabcxx' })).toBe(true);
    expect(w({ f: 'xxacxx' })).toBe(false);
  });

  it('all: every listed value must match', () => {
    const m = matcher('sel:\n  source.user_agent|contains|all: [curl, linux]\ncondition: sel');
    expect(m({ source: { user_agent: 'curl/8 (Linux)' } })).toBe(true);
    expect(m({ source: { user_agent: 'curl/8 (Windows)' } })).toBe(false);
  });

  it('re with i, m, s sub-modifiers; regexes are case-sensitive by default', () => {
    const re = matcher("sel:\n  token.kid|re: '^k-[0-9]+$'\ncondition: sel");
    expect(re({ token: { kid: 'k-123' } })).toBe(true);
    expect(re({ token: { kid: 'K-123' } })).toBe(false);
    expect(re({ token: { kid: 'k-12a' } })).toBe(false);
    const i = matcher("sel:\n  token.kid|re|i: '^k-[0-9]+$'\ncondition: sel");
    expect(i({ token: { kid: 'K-123' } })).toBe(true);
    const m = matcher("sel:\n  f|re|m: '^second$'\ncondition: sel");
    expect(m({ f: 'first\nsecond' })).toBe(true);
    const noM = matcher("sel:\n  f|re: '^second$'\ncondition: sel");
    expect(noM({ f: 'first\nsecond' })).toBe(false);
    const s = matcher("sel:\n  f|re|s: 'a.b'\ncondition: sel");
    expect(s({ f: 'a\nb' })).toBe(true);
    const noS = matcher("sel:\n  f|re: 'a.b'\ncondition: sel");
    expect(noS({ f: 'a\nb' })).toBe(false);
    const num = matcher("sel:\n  http.status|re: '^4\\d\\d$'\ncondition: sel");
    expect(num({ http: { status: 403 } })).toBe(true);
  });

  it('cidr matches IPv4 and IPv6 ranges (and v4-mapped v6), never other kinds', () => {
    const v4 = matcher("sel:\n  source.ip|cidr: ['10.0.0.0/8', '192.168.1.0/24']\ncondition: sel");
    expect(v4({ source: { ip: '10.20.30.40' } })).toBe(true);
    expect(v4({ source: { ip: '192.168.1.255' } })).toBe(true);
    expect(v4({ source: { ip: '192.168.2.1' } })).toBe(false);
    expect(v4({ source: { ip: '::ffff:10.1.2.3' } })).toBe(true);
    expect(v4({ source: { ip: '2001:db8::1' } })).toBe(false);
    expect(v4({ source: { ip: 'not-an-ip' } })).toBe(false);
    const v6 = matcher("sel:\n  source.ip|cidr: '2001:db8::/32'\ncondition: sel");
    expect(v6({ source: { ip: '2001:db8:1::5' } })).toBe(true);
    expect(v6({ source: { ip: '2001:db9::5' } })).toBe(false);
    expect(v6({ source: { ip: '10.0.0.1' } })).toBe(false);
  });

  it('exists: true needs a non-null value, false needs it absent', () => {
    const t = matcher('sel:\n  token.fp|exists: true\ncondition: sel');
    expect(t({ token: { fp: 'tfp_a' } })).toBe(true);
    expect(t({ token: { fp: '' } })).toBe(true);
    expect(t({ token: {} })).toBe(false);
    expect(t({ token: { fp: null } })).toBe(false);
    const f = matcher('sel:\n  token.fp|exists: false\ncondition: sel');
    expect(f({})).toBe(true);
    expect(f({ token: { fp: 'x' } })).toBe(false);
  });

  it('gt / gte / lt / lte compare numbers (numeric strings coerced)', () => {
    const gt = matcher('sel:\n  http.status|gt: 499\ncondition: sel');
    expect(gt({ http: { status: 500 } })).toBe(true);
    expect(gt({ http: { status: 499 } })).toBe(false);
    expect(gt({ http: { status: '503' } })).toBe(true);
    expect(gt({ http: { status: 'abc' } })).toBe(false);
    expect(gt({})).toBe(false);
    const gte = matcher('sel:\n  http.status|gte: 400\ncondition: sel');
    expect(gte({ http: { status: 400 } })).toBe(true);
    expect(gte({ http: { status: 399 } })).toBe(false);
    const lt = matcher('sel:\n  http.status|lt: 300\ncondition: sel');
    expect(lt({ http: { status: 299 } })).toBe(true);
    expect(lt({ http: { status: 300 } })).toBe(false);
    const lte = matcher('sel:\n  token.exp|lte: 1000\ncondition: sel');
    expect(lte({ token: { exp: 1000 } })).toBe(true);
    expect(lte({ token: { exp: 1001 } })).toBe(false);
  });

  it('neq: the field does not equal the value (a missing field is not equal)', () => {
    const m = matcher('sel:\n  auth.scheme|neq: bearer\ncondition: sel');
    expect(m({ auth: { scheme: 'dpop' } })).toBe(true);
    expect(m({ auth: { scheme: 'Bearer' } })).toBe(false);
    expect(m({ auth: {} })).toBe(true);
    const all = matcher('sel:\n  auth.scheme|neq|all: [bearer, dpop]\ncondition: sel');
    expect(all({ auth: { scheme: 'mtls' } })).toBe(true);
    expect(all({ auth: { scheme: 'dpop' } })).toBe(false);
  });

  it('cased: exact case', () => {
    const m = matcher('sel:\n  token.kid|cased: AbC\ncondition: sel');
    expect(m({ token: { kid: 'AbC' } })).toBe(true);
    expect(m({ token: { kid: 'abc' } })).toBe(false);
    const c = matcher('sel:\n  token.kid|contains|cased: Key\ncondition: sel');
    expect(c({ token: { kid: 'myKey1' } })).toBe(true);
    expect(c({ token: { kid: 'mykey1' } })).toBe(false);
  });

  it('fieldref compares with another field of the same event', () => {
    const m = matcher('sel:\n  idp.client_id|fieldref: token.client_id\ncondition: sel');
    expect(m({ idp: { client_id: 'App' }, token: { client_id: 'app' } })).toBe(true);
    expect(m({ idp: { client_id: 'app' }, token: { client_id: 'other' } })).toBe(false);
    expect(m({ idp: { client_id: 'app' } })).toBe(false);
    const neg = matcher('sel:\n  token.tenant|fieldref|neq: observer.env\ncondition: sel');
    expect(neg({ token: { tenant: 'a' }, observer: { env: 'b' } })).toBe(true);
    expect(neg({ token: { tenant: 'a' }, observer: { env: 'a' } })).toBe(false);
    const sw = matcher('sel:\n  http.path|fieldref|startswith: http.route\ncondition: sel');
    expect(sw({ http: { path: '/api/x/1', route: '/api/x' } })).toBe(true);
    expect(sw({ http: { path: '/other', route: '/api/x' } })).toBe(false);
  });

  it('base64 and base64offset match encoded values', () => {
    const b = matcher('sel:\n  f|base64: admin\ncondition: sel');
    expect(b({ f: Buffer.from('admin').toString('base64') })).toBe(true);
    expect(b({ f: 'admin' })).toBe(false);
    const bc = matcher('sel:\n  f|base64|contains: admin\ncondition: sel');
    expect(bc({ f: 'xx' + Buffer.from('admin').toString('base64') + 'yy' })).toBe(true);
    const off = matcher('sel:\n  f|base64offset|contains: secret-admin\ncondition: sel');
    for (const pre of ['', 'a', 'ab', 'abc']) {
      expect(off({ f: Buffer.from(pre + 'secret-admin' + 'zz').toString('base64') })).toBe(true);
    }
    expect(off({ f: Buffer.from('nothing here').toString('base64') })).toBe(false);
  });

  it('windash matches - and / and dash look-alikes', () => {
    const m = matcher("sel:\n  f|windash|contains: ' -force'\ncondition: sel");
    expect(m({ f: 'tool -force' })).toBe(true);
    expect(m({ f: 'tool /force' })).toBe(true);
    expect(m({ f: 'tool \u2013force' })).toBe(true);
    expect(m({ f: 'tool force' })).toBe(false);
  });
});

describe('keywords', () => {
  it('a plain list matches when any string field (at any depth) matches one keyword', () => {
    const m = matcher("keywords:\n  - '*bearer ey*'\n  - 'access_token=*'\ncondition: keywords");
    expect(m({ http: { path: '/x' }, auth: { detail: 'got Bearer eyJ...' } })).toBe(true);
    expect(m({ deep: { a: [{ b: 'access_token=zzz' }] } })).toBe(true);
    expect(m({ http: { path: '/x?q=access_token' } })).toBe(false);
    expect(m({ n: 5 })).toBe(false);
  });
});

describe('condition grammar', () => {
  const body = (cond: string) => `a:\n  f: a\nb:\n  g: b\nc:\n  h: c\n_x:\n  i: x\ncondition: ${cond}`;
  const E = (f: string, g: string, h: string, i = '') => ({ f, g, h, i });

  it('and / or / not with precedence not > and > or', () => {
    const m = matcher(body('a or b and not c'));
    expect(m(E('a', '', ''))).toBe(true);
    expect(m(E('', 'b', ''))).toBe(true);
    expect(m(E('', 'b', 'c'))).toBe(false);
    expect(m(E('a', 'b', 'c'))).toBe(true);
    const p = matcher(body('(a or b) and not c'));
    expect(p(E('a', '', 'c'))).toBe(false);
    expect(p(E('a', '', ''))).toBe(true);
    const nn = matcher(body('not not a'));
    expect(nn(E('a', '', ''))).toBe(true);
    const nested = matcher(body('not (a and (b or c))'));
    expect(nested(E('a', 'b', ''))).toBe(false);
    expect(nested(E('a', '', ''))).toBe(true);
  });

  it('1 of / all of with patterns and them; _names are excluded', () => {
    const one = matcher(body('1 of them'));
    expect(one(E('', '', 'c'))).toBe(true);
    expect(one(E('', '', '', 'x'))).toBe(false);
    const all = matcher(body('all of them'));
    expect(all(E('a', 'b', 'c'))).toBe(true);
    expect(all(E('a', 'b', ''))).toBe(false);
    const pat = matcher('sel_a:\n  f: a\nsel_b:\n  g: b\nother:\n  h: c\ncondition: all of sel_* and not other');
    expect(pat(E('a', 'b', ''))).toBe(true);
    expect(pat(E('a', '', ''))).toBe(false);
    expect(pat(E('a', 'b', 'c'))).toBe(false);
    const onePat = matcher('sel_a:\n  f: a\nsel_b:\n  g: b\ncondition: 1 of sel_*');
    expect(onePat(E('', 'b', ''))).toBe(true);
    const under = matcher(body('a and 1 of _*'));
    expect(under(E('a', '', '', 'x'))).toBe(true);
    expect(under(E('a', '', '', ''))).toBe(false);
  });

  it('a list of conditions means any of them', () => {
    const m = matcher('a:\n  f: a\nb:\n  g: b\ncondition:\n  - a\n  - b');
    expect(m({ g: 'b' })).toBe(true);
    expect(m({})).toBe(false);
  });
});
