import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { createIngestorFromConfig } from '../../src/events/ingestor-from-config.js';
import { fingerprint } from '../../src/events/redaction.js';

const NGINX = '203.0.113.10 - - [14/Mar/2026:10:30:01 +0100] "GET /api/v1/orders/48213 HTTP/1.1" 401 61 "-" "curl/8.5.0"';

describe('the configured ingestor', () => {
  it('applies observer names, route policy and the fingerprint secret from the config', () => {
    const dir = mkdtempSync(join(tmpdir(), 'aw-ingcfg-'));
    const config = loadConfig({
      overrides: {
        data_dir: dir,
        'ingest.observer_names': { nginx: 'edge-eu-1' },
        'ingest.fingerprint_secret': 'a-configured-secret-of-enough-length',
        'route_policy.routes': [{ pattern: '/api/v1/orders/**', class: 'restricted' }],
      },
    });
    const { ingestor, secret } = createIngestorFromConfig(config);
    const out = ingestor.ingestLine(NGINX, { source: 'file', name: 'access.log', line: 1 });
    expect(out.ok).toBe(true);
    if (!out.ok) return;
    expect(out.format).toBe('nginx');
    expect(out.event.observer.name).toBe('edge-eu-1');
    expect(out.event.http?.route_class).toBe('restricted');
    expect(fingerprint(secret, 'x')).toBe(fingerprint(Buffer.from('a-configured-secret-of-enough-length'), 'x'));
  });
});
