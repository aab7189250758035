// Builders for store tests: alerts shaped as the rule engine emits them.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alertId, type Alert, type ProposedResponse } from '../../src/alerts/alert.js';

export function tempDbFile(prefix = 'aw-store-'): string {
  return join(mkdtempSync(join(tmpdir(), prefix)), 'authwatch.db');
}

export function makeAlert(over: {
  rule?: string;
  name?: string;
  level?: Alert['rule']['level'];
  group?: Alert['group'];
  window?: string;
  count?: number;
  first?: string;
  last?: string;
  ids?: string[];
  proposed?: ProposedResponse[];
  status?: Alert['status'];
} = {}): Alert {
  const ruleId = over.rule ?? 'r-token-spray';
  const group = over.group ?? { 'source.ip': '203.0.113.7' };
  const window = over.window ?? '2026-11-26T00:00:00.000Z';
  return {
    id: alertId(ruleId, group, window),
    rule: { id: ruleId, name: over.name ?? 'token-spray', title: 'Token spray from one IP', level: over.level ?? 'high' },
    group,
    count: over.count ?? 5,
    first_seen: over.first ?? window,
    last_seen: over.last ?? '2026-11-26T00:01:00.000Z',
    evidence: { event_ids: over.ids ?? ['e1', 'e2'], samples: [{ event: { outcome: 'failure' } }] },
    status: over.status ?? 'open',
    proposed: over.proposed ?? [],
  };
}
