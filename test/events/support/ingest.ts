import { createIngestor, type IngestorOptions } from '../../../src/events/ingestor.js';
import { compileRoutePolicy } from '../../../src/events/route-policy.js';
import type { Origin } from '../../../src/events/ingest-types.js';

export const TEST_SECRET = Buffer.from('test-fingerprint-secret-0123456789', 'utf8');
export const ORIGIN: Origin = { source: 'file', name: 'test.ndjson', line: 1 };

export function testIngestor(over: Partial<IngestorOptions> = {}) {
  return createIngestor({
    fingerprintSecret: TEST_SECRET,
    routePolicy: compileRoutePolicy({ routes: [{ pattern: '/api/**', class: 'protected' }, { pattern: '/public/*', class: 'public' }] }),
    inputFormat: 'auto',
    maxLineBytes: 64 * 1024,
    ...over,
  });
}

/** A valid gateway event; override fields as needed. */
export function gatewayEvent(over: Record<string, unknown> = {}): Record<string, any> {
  return {
    time: '2026-03-14T09:30:00.000Z',
    observer: { type: 'gateway', name: 'edge-1' },
    source: { ip: '203.0.113.7', user_agent: 'curl/8.5.0' },
    http: { method: 'GET', route: '/api/v1/orders/{id}', path: '/api/v1/orders/7', status: 200 },
    auth: { result: 'ok', scheme: 'bearer' },
    ...over,
  };
}
