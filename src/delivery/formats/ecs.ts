// Elastic Common Schema (8.x) document for one alert: event.kind "alert", the rule, the
// source address and authwatch's own fields under `authwatch.*` (ECS custom-field practice).
import type { Alert, Level } from '../../alerts/alert.js';
import { PRODUCT_NAME, PRODUCT_VENDOR, PRODUCT_VERSION } from './product.js';

export const ECS_VERSION = '8.11.0';

// The numeric scale Elastic's detection engine uses for its severities.
const SEVERITY: Record<Level, number> = { informational: 1, low: 21, medium: 47, high: 73, critical: 99 };

export function toEcs(alert: Alert & { created_at?: string; updated_at?: string }) {
  const g = alert.group;
  const str = (k: string) => (typeof g[k] === 'string' ? (g[k] as string) : undefined);
  const doc: Record<string, unknown> = {
    '@timestamp': alert.last_seen,
    ecs: { version: ECS_VERSION },
    message: alert.rule.title,
    event: {
      kind: 'alert',
      category: ['authentication'],
      type: ['info'],
      id: alert.id,
      severity: SEVERITY[alert.rule.level] ?? 0,
      start: alert.first_seen,
      end: alert.last_seen,
      created: alert.created_at ?? alert.first_seen,
      module: PRODUCT_NAME,
      dataset: `${PRODUCT_NAME}.alerts`,
    },
    rule: { id: alert.rule.id, name: alert.rule.name, description: alert.rule.title, ruleset: PRODUCT_NAME },
    observer: { product: PRODUCT_NAME, vendor: PRODUCT_VENDOR, version: PRODUCT_VERSION, type: 'ids' },
    authwatch: {
      status: alert.status,
      count: alert.count,
      level: alert.rule.level,
      group: alert.group,
      evidence: { event_ids: alert.evidence.event_ids },
    },
  };
  if (str('source.ip')) doc.source = { ip: str('source.ip') };
  const clientId = str('token.client_id') ?? str('idp.client_id');
  if (clientId) doc.client = { user: { id: clientId } };
  if (str('observer.name')) (doc.observer as Record<string, unknown>).name = str('observer.name');
  return doc;
}
