// OCSF 1.1 Detection Finding (class_uid 2004, category Findings) for one alert.
// Built field by field from the alert, so nothing undeclared can leak into it.
import type { Alert, Level } from '../../alerts/alert.js';
import type { AlertChangeKind } from '../../store/store.js';
import { PRODUCT_NAME, PRODUCT_VENDOR, PRODUCT_VERSION } from './product.js';

export const OCSF_SCHEMA_VERSION = '1.1.0';
const CLASS_UID = 2004;
const CATEGORY_UID = 2;

// OCSF severity_id: 1 Informational, 2 Low, 3 Medium, 4 High, 5 Critical.
const SEVERITY: Record<Level, [number, string]> = {
  informational: [1, 'Informational'],
  low: [2, 'Low'],
  medium: [3, 'Medium'],
  high: [4, 'High'],
  critical: [5, 'Critical'],
};

// Finding status_id: 1 New, 2 In Progress, 3 Suppressed, 4 Resolved.
const STATUS: Record<Alert['status'], [number, string]> = {
  open: [1, 'New'],
  acknowledged: [2, 'In Progress'],
  suppressed: [3, 'Suppressed'],
  resolved: [4, 'Resolved'],
};

// Observable type_id: 2 IP Address, 99 Other (token fingerprints and client ids have no own type).
function observables(group: Alert['group']): Array<{ name: string; type_id: number; type: string; value: string }> {
  const out = [];
  for (const [k, v] of Object.entries(group)) {
    if (v === null || v === undefined) continue;
    if (k.endsWith('.ip')) out.push({ name: k, type_id: 2, type: 'IP Address', value: String(v) });
    else if (k === 'token.fp' || k.endsWith('client_id') || k === 'observer.name' || k.endsWith('.sub')) {
      out.push({ name: k, type_id: 99, type: 'Other', value: String(v) });
    }
  }
  return out;
}

const ms = (iso: string) => Date.parse(iso);

/** `change` picks the activity: created → Create, resolved → Close, anything else → Update. */
export function toOcsf(alert: Alert & { updated_at?: string }, change: AlertChangeKind = 'created') {
  const activityId = change === 'created' ? 1 : change === 'resolved' ? 3 : 2;
  const activityName = ['', 'Create', 'Update', 'Close'][activityId];
  const [severityId, severity] = SEVERITY[alert.rule.level] ?? [0, 'Unknown'];
  const [statusId, status] = STATUS[alert.status] ?? [99, 'Other'];
  return {
    class_uid: CLASS_UID,
    class_name: 'Detection Finding',
    category_uid: CATEGORY_UID,
    category_name: 'Findings',
    activity_id: activityId,
    activity_name: activityName,
    type_uid: CLASS_UID * 100 + activityId,
    type_name: `Detection Finding: ${activityName}`,
    severity_id: severityId,
    severity,
    status_id: statusId,
    status,
    time: ms(alert.updated_at ?? alert.last_seen),
    count: alert.count,
    message: alert.rule.title,
    metadata: {
      version: OCSF_SCHEMA_VERSION,
      uid: alert.id,
      product: { name: PRODUCT_NAME, vendor_name: PRODUCT_VENDOR, version: PRODUCT_VERSION },
    },
    finding_info: {
      uid: alert.id,
      title: alert.rule.title,
      types: [alert.rule.name],
      first_seen_time: ms(alert.first_seen),
      last_seen_time: ms(alert.last_seen),
      analytic: { uid: alert.rule.id, name: alert.rule.name, type_id: 1, type: 'Rule' },
    },
    observables: observables(alert.group),
    unmapped: { group: alert.group, evidence_event_ids: alert.evidence.event_ids },
  };
}
