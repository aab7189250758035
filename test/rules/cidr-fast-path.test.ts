// |cidr on IPv4 ranges tests canonical dotted quads with integer masks; it must agree with
// ipaddr.js (the general path) on every input, canonical or not.
import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import { describe, expect, it } from 'vitest';
import { ipv4Bits } from '../../src/rules/sigma-matcher.js';
import { matcher } from './helpers.js';

function reference(ip: string, cidr: string): boolean {
  if (!ipaddr.isValid(ip)) return false;
  const range = ipaddr.parseCIDR(cidr);
  const a = ipaddr.process(ip);
  return a.kind() === range[0].kind() && a.match(range);
}

const octet = fc.oneof(fc.integer({ min: 0, max: 255 }).map(String), fc.constantFrom('256', '010', '00', '0x1f', '', '-1', '1e2'));
const address = fc.oneof(
  fc.tuple(octet, octet, octet, octet).map((p) => p.join('.')),
  fc.tuple(octet, octet, octet).map((p) => p.join('.')),
  fc.constantFrom('::ffff:10.1.2.3', '2001:db8::1', '10.0.0.1 ', ' 10.0.0.1', '1.2.3.4.5', 'localhost'),
);

describe('cidr IPv4 fast path', () => {
  it('agrees with ipaddr.js', () => {
    fc.assert(
      fc.property(address, fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 32 }), (ip, b, bits) => {
        const cidr = `${b}.${(b * 7) & 255}.0.0/${bits}`;
        const m = matcher(`sel:\n  source.ip|cidr: '${cidr}'\ncondition: sel`);
        expect(m({ source: { ip } })).toBe(reference(ip, cidr));
      }),
      { numRuns: 1500 },
    );
  });

  it('reads only canonical dotted quads', () => {
    expect(ipv4Bits('10.1.2.3')).toBe(0x0a010203);
    expect(ipv4Bits('255.255.255.255')).toBe(0xffffffff);
    for (const x of ['010.1.2.3', '1.2.3', '1.2.3.256', '1.2.3.4.5', '0x0a.1.2.3', '1..2.3']) expect(ipv4Bits(x)).toBe(-1);
  });
});
