// The hand-written fast check must make the same accept/reject decision as the zod schema
// (the source of truth) on generated events, valid and subtly invalid.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { eventSchema, AUTH_RESULTS, OBSERVER_TYPES, ROUTE_CLASSES, AUTH_SCHEMES, IDP_ENDPOINTS } from '../../src/events/event.js';
import { fastAccepts, contractViolation, checkLimits } from '../../src/events/event-validate.js';

const weird = fc.oneof(fc.constant(undefined), fc.constant(null), fc.integer(), fc.double(), fc.boolean(), fc.string({ maxLength: 5 }), fc.constant(''), fc.constant([]), fc.constant({}), fc.constant('x'.repeat(5000)), fc.constant(1e300), fc.constant(2 ** 60));
const maybe = <T>(a: fc.Arbitrary<T>) => fc.oneof({ weight: 30, arbitrary: a }, { weight: 1, arbitrary: weird });
const optional = <T>(a: fc.Arbitrary<T>) => fc.option(maybe(a), { nil: undefined, freq: 4 });
const enumOf = (xs: readonly string[]) => fc.oneof({ weight: 20, arbitrary: fc.constantFrom(...xs) }, { weight: 1, arbitrary: fc.constantFrom('OK', 'nope', '') });
const ip = fc.oneof({ weight: 3, arbitrary: fc.ipV4() }, { weight: 3, arbitrary: fc.ipV6() }, fc.constantFrom('1.2.3', '256.1.1.1', '::ffff:1.2.3.4', 'fe80::1%eth0', '01.2.3.4', '2001:db8::'));
const strList = fc.array(maybe(fc.string({ maxLength: 10 })), { maxLength: 4 });

const event = fc.record(
  {
    id: optional(fc.string({ maxLength: 140 })),
    time: maybe(fc.constant('2026-03-14T09:30:00Z')),
    observer: maybe(fc.record({ type: fc.oneof({ weight: 1, arbitrary: enumOf(OBSERVER_TYPES) }, { weight: 2, arbitrary: fc.constant('idp') }), name: maybe(fc.string({ maxLength: 10 })), env: optional(fc.string({ maxLength: 70 })) }, { requiredKeys: ['type'] })),
    source: optional(fc.record({ ip: optional(ip), user_agent: optional(fc.string({ maxLength: 10 })) }, { requiredKeys: [] })),
    http: optional(
      fc.record(
        { method: optional(fc.string({ maxLength: 20 })), route: optional(fc.string({ maxLength: 10 })), path: optional(fc.string({ maxLength: 10 })), status: optional(fc.oneof({ weight: 5, arbitrary: fc.integer({ min: 90, max: 610 }) }, { weight: 1, arbitrary: fc.double({ min: 100, max: 599 }) })), route_class: optional(enumOf(ROUTE_CLASSES)) },
        { requiredKeys: [] },
      ),
    ),
    auth: maybe(fc.record({ result: enumOf(AUTH_RESULTS), scheme: optional(enumOf(AUTH_SCHEMES)), detail: optional(fc.oneof({ weight: 5, arbitrary: fc.string({ maxLength: 20 }) }, { weight: 1, arbitrary: fc.string({ minLength: 500, maxLength: 520 }) })), required_scopes: optional(strList) }, { requiredKeys: [] })),
    token: optional(
      fc.record(
        { fp: optional(fc.string({ maxLength: 70 })), kid: optional(fc.string()), alg: optional(fc.string({ maxLength: 40 })), aud: optional(fc.oneof(fc.string(), strList)), scopes: optional(strList), exp: optional(fc.oneof(fc.integer(), fc.double())), nbf: optional(fc.integer()), client_id: optional(fc.string()) },
        { requiredKeys: [] },
      ),
    ),
    idp: optional(fc.record({ endpoint: maybe(enumOf(IDP_ENDPOINTS)), error: optional(fc.string({ maxLength: 140 })), grant_type: optional(fc.string()) }, { requiredKeys: [] })),
    extra: optional(fc.jsonValue({ maxDepth: 2 })),
  },
  { requiredKeys: [] },
);

describe('fast validator', () => {
  it('never accepts what zod rejects, and the ingest decision (fast, then zod) equals zod on generated events', () => {
    let accepted = 0;
    let fastMisses = 0;
    fc.assert(
      fc.property(event, (e) => {
        const zod = eventSchema.safeParse(e).success;
        const fast = fastAccepts(e);
        if (fast) expect(zod).toBe(true);
        else if (zod) fastMisses++; // zod decides these (e.g. IPv6 with an embedded IPv4)
        expect(contractViolation(e) === undefined).toBe(zod);
        if (zod) accepted++;
      }),
      { numRuns: 2000, seed: 20260314 },
    );
    expect(accepted).toBeGreaterThan(40); // the corpus reaches the accepting side too
    expect(fastMisses).toBeLessThan(accepted / 10); // the fast path takes nearly all valid events
  });

  it('agrees on non-objects', () => {
    for (const v of [null, 1, 'x', [], [{}], true]) expect(fastAccepts(v)).toBe(eventSchema.safeParse(v).success);
  });
});

describe('checkLimits', () => {
  it('names the place and the limit', () => {
    expect(checkLimits({ a: { b: 'x'.repeat(5000) } })).toContain('a.b: string longer than 4096');
    expect(checkLimits({ a: Array.from({ length: 129 }, () => 0) })).toContain('a: array longer than 128');
    expect(checkLimits({ a: 1 })).toBeUndefined();
  });
});
