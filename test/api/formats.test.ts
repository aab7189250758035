import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { cefExtension, escapeExtension, escapeHeader, toCef } from '../../src/delivery/formats/cef.js';
import { toEcs } from '../../src/delivery/formats/ecs.js';
import { pickFormat } from '../../src/delivery/formats/negotiate.js';
import { toOcsf } from '../../src/delivery/formats/ocsf.js';
import { makeAlert } from '../store/helpers.js';

/** A CEF reader per the spec: split the header on unescaped pipes, the extension on unescaped `key=`. */
function parseCef(line: string): { header: string[]; ext: Record<string, string> } {
  const header: string[] = [];
  let cur = '';
  let i = 0;
  for (; i < line.length && header.length < 7; i++) {
    const c = line[i];
    if (c === '\\' && (line[i + 1] === '\\' || line[i + 1] === '|')) cur += line[++i];
    else if (c === '|') {
      header.push(cur);
      cur = '';
    } else cur += c;
  }
  const extText = line.slice(i);
  const ext: Record<string, string> = {};
  const re = /(?:^| )([A-Za-z0-9_]+)=((?:\\.|[^\\=])*?)(?= [A-Za-z0-9_]+=|$)/gs;
  for (const m of extText.matchAll(re)) {
    ext[m[1]] = m[2].replace(/\\(.)/gs, (_: string, ch: string) => (ch === 'n' ? '\n' : ch === 'r' ? '\r' : ch));
  }
  return { header, ext };
}

describe('CEF escaping', () => {
  it('escapes header pipes and backslashes, flattens line breaks', () => {
    expect(escapeHeader('a|b\\c')).toBe('a\\|b\\\\c');
    expect(escapeHeader('x\r\ny\nz')).toBe('x y z');
  });

  it('escapes extension backslashes, equals signs and line breaks; pipes stay', () => {
    expect(escapeExtension('a=b\\c|d\ne\rf')).toBe('a\\=b\\\\c|d\\ne\\rf');
    expect(() => cefExtension([['bad key', 'x']])).toThrow(/invalid CEF extension key/);
  });

  it('hostile rule titles, ids and group values round-trip through a spec reader and never break the line', () => {
    const hostile = fc.string({ unit: fc.constantFrom('a', '|', '\\', '=', '\n', '\r', ' ', 'x=y', 'cs1=', '\u00e9') , maxLength: 40 });
    fc.assert(
      fc.property(hostile, hostile, hostile, (title, ruleId, clientId) => {
        const a = makeAlert({ group: { 'source.ip': '203.0.113.9', 'token.client_id': clientId } });
        a.rule = { ...a.rule, id: ruleId, title };
        const line = toCef(a);
        expect(line).not.toMatch(/[\r\n]/);
        const { header, ext } = parseCef(line);
        expect(header).toHaveLength(7);
        expect(header[0]).toBe('CEF:0');
        expect(header[4]).toBe(ruleId.replace(/\r\n|\r|\n/g, ' '));
        expect(header[5]).toBe(title.replace(/\r\n|\r|\n/g, ' '));
        expect(header[6]).toBe('8');
        expect(ext.src).toBe('203.0.113.9');
        expect(ext.externalId).toBe(a.id);
        if (title !== '') expect(ext.msg).toBe(title.replace(/\r\n/g, '\n'));
        if (clientId !== '') expect(ext.cs5).toBe(clientId.replace(/\r\n/g, '\n'));
      }),
      { numRuns: 300 },
    );
  });

  it('maps levels to CEF severity and IPv6 sources to c6a2', () => {
    const a = makeAlert({ level: 'critical', group: { 'source.ip': '2001:db8::7' } });
    const { header, ext } = parseCef(toCef(a));
    expect(header[6]).toBe('10');
    expect(ext.c6a2).toBe('2001:db8::7');
    expect(ext.src).toBeUndefined();
  });
});

describe('OCSF Detection Finding', () => {
  it('has the class, category, type, severity, status, finding_info, metadata and observables', () => {
    const a = { ...makeAlert({ level: 'medium', group: { 'source.ip': '203.0.113.9', 'token.fp': 'tfp_AAAAAAAAAAAAAAAAAAAAAA', 'token.client_id': 'app' } }), status: 'acknowledged' as const };
    const f = toOcsf(a, 'updated');
    expect(f).toMatchObject({
      class_uid: 2004,
      category_uid: 2,
      activity_id: 2,
      type_uid: 200402,
      severity_id: 3,
      status_id: 2,
      count: 5,
      metadata: { version: '1.1.0', product: { name: 'authwatch', vendor_name: 'authwatch' } },
      finding_info: {
        uid: a.id,
        title: a.rule.title,
        types: ['token-spray'],
        first_seen_time: Date.parse(a.first_seen),
        last_seen_time: Date.parse(a.last_seen),
        analytic: { uid: a.rule.id, type_id: 1 },
      },
    });
    expect(f.observables).toEqual([
      { name: 'source.ip', type_id: 2, type: 'IP Address', value: '203.0.113.9' },
      { name: 'token.fp', type_id: 99, type: 'Other', value: 'tfp_AAAAAAAAAAAAAAAAAAAAAA' },
      { name: 'token.client_id', type_id: 99, type: 'Other', value: 'app' },
    ]);
    expect(toOcsf(a, 'created').type_uid).toBe(200401);
    expect(toOcsf(a, 'resolved').activity_id).toBe(3);
    expect(typeof f.time).toBe('number');
  });
});

describe('ECS', () => {
  it('is an ECS alert document with rule, source and severity', () => {
    const a = makeAlert({ level: 'critical', group: { 'source.ip': '203.0.113.9', 'idp.client_id': 'spa' } });
    const d = toEcs(a) as any;
    expect(d['@timestamp']).toBe(a.last_seen);
    expect(d.event).toMatchObject({ kind: 'alert', category: ['authentication'], severity: 99, id: a.id, start: a.first_seen, end: a.last_seen });
    expect(d.rule).toMatchObject({ id: a.rule.id, name: a.rule.name });
    expect(d.source).toEqual({ ip: '203.0.113.9' });
    expect(d.client).toEqual({ user: { id: 'spa' } });
    expect(d.ecs.version).toMatch(/^8\./);
  });
});

describe('format negotiation', () => {
  it('query wins, then the first supported Accept type, else JSON', () => {
    expect(pickFormat('cef', 'application/ocsf+json')).toBe('cef');
    expect(pickFormat(undefined, 'text/html, application/ocsf+json;q=0.9')).toBe('ocsf');
    expect(pickFormat(undefined, 'application/cef')).toBe('cef');
    expect(pickFormat(undefined, 'application/ecs+json')).toBe('ecs');
    expect(pickFormat(undefined, '*/*')).toBe('json');
    expect(pickFormat(undefined, 'application/x-ndjson')).toBe('ndjson');
    expect(pickFormat(undefined, undefined)).toBe('json');
  });
});
