// Runs adapter fixture files (fixtures/adapters/<format>/*) through a real ingestor with a
// fixed fingerprint key, giving one result per input line: {line, event} or {line, rejected}.
import { createIngestor } from '../../../src/events/ingestor.js';
import { compileRoutePolicy } from '../../../src/events/route-policy.js';
import type { InputFormat } from '../../../src/events/ingest-types.js';

export const FIXTURE_FINGERPRINT_SECRET = Buffer.from('authwatch-fixture-fingerprint-key', 'utf8');

export const FIXTURE_ROUTE_POLICY = compileRoutePolicy({
  routes: [
    { pattern: '/healthz', class: 'public' },
    { pattern: '/oauth/**', class: 'public' },
    { pattern: '/admin/**', class: 'restricted' },
    { pattern: '/api/v1/orders/*', methods: ['DELETE'], class: 'restricted' },
    { pattern: '/api/**', class: 'protected' },
  ],
});

export type FixtureResult = { line: number; event: Record<string, unknown> } | { line: number; rejected: { reason: string } };

export function formatOf(rel: string): Exclude<InputFormat, 'auto'> {
  return rel.split('/')[0] as Exclude<InputFormat, 'auto'>;
}

export function expectedFor(rel: string, input: string, inputFormat: InputFormat = formatOf(rel)): FixtureResult[] {
  const ingestor = createIngestor({ fingerprintSecret: FIXTURE_FINGERPRINT_SECRET, routePolicy: FIXTURE_ROUTE_POLICY, inputFormat, maxLineBytes: 64 * 1024 });
  const out: FixtureResult[] = [];
  input.split('\n').forEach((l, i) => {
    if (l.trim() === '') return;
    const r = ingestor.ingestLine(l, { source: 'file', name: rel, line: i + 1 });
    out.push(r.ok ? { line: i + 1, event: r.event } : { line: i + 1, rejected: { reason: r.rejection.reason } });
  });
  return out;
}
