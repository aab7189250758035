import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync, statSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileRoutePolicy, globToRegExp, RoutePolicyError } from '../../src/events/route-policy.js';
import { loadFingerprintSecret } from '../../src/events/fingerprint-secret.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'aw-route-policy-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('route policy globs', () => {
  it('* is one segment, ** any number, first match wins, methods narrow', () => {
    const p = compileRoutePolicy({
      routes: [
        { pattern: '/health', class: 'public' },
        { pattern: '/api/v1/orders/*', methods: ['delete'], class: 'restricted' },
        { pattern: '/api/v1/orders/*', class: 'protected' },
        { pattern: '/admin/**', class: 'restricted' },
        { pattern: '/v*/public/**', class: 'public' },
      ],
      default_class: 'protected',
    });
    expect(p.classify('GET', '/health')).toBe('public');
    expect(p.classify('GET', '/health/')).toBe('public');
    expect(p.classify('DELETE', '/api/v1/orders/{id}')).toBe('restricted');
    expect(p.classify('GET', '/api/v1/orders/{id}')).toBe('protected');
    expect(p.classify('GET', '/api/v1/orders/{id}/items')).toBe('protected'); // the default
    expect(p.classify('GET', '/admin')).toBe('restricted');
    expect(p.classify('GET', '/admin/keys/rotate')).toBe('restricted');
    expect(p.classify('GET', '/v2/public/docs')).toBe('public');
    expect(p.classify(undefined, '/api/v1/orders/{id}')).toBe('protected');
    expect(p.size).toBe(5);
  });

  it('without default_class, unmatched routes stay unclassified', () => {
    expect(compileRoutePolicy({ routes: [] }).classify('GET', '/x')).toBeUndefined();
  });

  it('escapes regex characters in literal segments', () => {
    expect(globToRegExp('/a.b/{id}').test('/a.b/{id}')).toBe(true);
    expect(globToRegExp('/a.b/{id}').test('/aXb/{id}')).toBe(false);
  });

  it('reads a YAML file after the inline routes', () => {
    const file = join(dir, 'policy.yaml');
    writeFileSync(file, 'default_class: public\nroutes:\n  - pattern: /api/**\n    class: protected\n  - pattern: /admin/**\n    class: restricted\n');
    const p = compileRoutePolicy({ file, routes: [{ pattern: '/api/open/*', class: 'public' }] });
    expect(p.classify('GET', '/api/open/x')).toBe('public');
    expect(p.classify('GET', '/api/x')).toBe('protected');
    expect(p.classify('GET', '/elsewhere')).toBe('public');
  });

  it('a bad policy file is an error naming the file and the entry', () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'routes:\n  - pattern: /ok\n    class: public\n  - pattern: /api/**\n    class: secret\n');
    expect(() => compileRoutePolicy({ file, routes: [] })).toThrow(RoutePolicyError);
    expect(() => compileRoutePolicy({ file, routes: [] })).toThrow(/bad\.yaml: routes\[1\] \(\/api\/\*\*\): class must be one of/);
    writeFileSync(file, 'routes: [unclosed');
    expect(() => compileRoutePolicy({ file, routes: [] })).toThrow(/bad\.yaml/);
    expect(() => compileRoutePolicy({ routes: [{ pattern: 'api', class: 'public' }] })).toThrow(/route_policy\.routes\[0\]: pattern "api" must start with \//);
  });
});

describe('loadFingerprintSecret', () => {
  it('uses the configured secret', () => {
    expect(loadFingerprintSecret(join(dir, 'unused'), 'configured-secret-123').toString()).toBe('configured-secret-123');
  });

  it('generates 32 random bytes into <data>/fingerprint.key (0600) once, then reuses them', () => {
    const data = join(dir, 'data');
    const a = loadFingerprintSecret(data);
    const b = loadFingerprintSecret(data);
    expect(a.length).toBe(32);
    expect(b.equals(a)).toBe(true);
    expect(readFileSync(join(data, 'fingerprint.key')).equals(a)).toBe(true);
    expect(statSync(join(data, 'fingerprint.key')).mode & 0o777).toBe(0o600);
    expect(loadFingerprintSecret(join(dir, 'data2')).equals(a)).toBe(false);
  });

  it('refuses a key file that is too short', () => {
    const data = join(dir, 'short');
    loadFingerprintSecret(data);
    writeFileSync(join(data, 'fingerprint.key'), 'abc');
    expect(() => loadFingerprintSecret(data)).toThrow(/at least 16/);
  });
});
