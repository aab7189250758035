// The alert and action shapes shared by the rule engine's output, the store, the API,
// webhooks and the Kafka topics. See brief.md "Alerts and actions".
import { createHash } from 'node:crypto';

export const ALERT_STATUSES = ['open', 'acknowledged', 'resolved', 'suppressed'] as const;
export type AlertStatus = (typeof ALERT_STATUSES)[number];

export const LEVELS = ['informational', 'low', 'medium', 'high', 'critical'] as const;
export type Level = (typeof LEVELS)[number];

export const ACTION_TYPES = ['block_ip', 'revoke_token', 'disable_client', 'require_reauth'] as const;
export type ActionType = (typeof ACTION_TYPES)[number];

export const ACTION_STATUSES = ['proposed', 'active', 'expired', 'lifted', 'rejected'] as const;
export type ActionStatus = (typeof ACTION_STATUSES)[number];

export interface RuleRef {
  id: string;
  name: string;
  title: string;
  level: Level;
}

/** What a rule proposes (from its `authwatch.response` block), before it becomes an action. */
export interface ProposedResponse {
  action: ActionType;
  ttl: string; // duration text, e.g. "1h"
  approval: 'required' | 'auto';
}

export interface Evidence {
  /** ids of matching events, capped (see EVIDENCE_MAX_IDS). */
  event_ids: string[];
  /** redacted copies of a few matching events, capped (see EVIDENCE_MAX_SAMPLES). */
  samples: Record<string, unknown>[];
}

export const EVIDENCE_MAX_IDS = 100;
export const EVIDENCE_MAX_SAMPLES = 5;

/**
 * One alert: a rule firing for one group key within one suppression window.
 * Produced by the rule engine (pure, event time), stored idempotently by id.
 */
export interface Alert {
  id: string;
  rule: RuleRef;
  group: Record<string, string | number | boolean | null>;
  count: number;
  first_seen: string; // RFC 3339 UTC, event time
  last_seen: string; // RFC 3339 UTC, event time
  evidence: Evidence;
  status: AlertStatus;
  /** responses the rule proposes; the store turns them into actions. */
  proposed: ProposedResponse[];
}

export interface Action {
  id: string;
  type: ActionType;
  /** an IP or CIDR for block_ip, a token fingerprint for revoke_token/require_reauth, a client id for disable_client */
  target: string;
  ttl: string;
  status: ActionStatus;
  approval: 'required' | 'auto';
  reason: string;
  alert: string | null; // alert id, null for manual actions
  created_at: string;
  updated_at: string;
  expires_at: string | null;
}

/**
 * Deterministic alert id: the same rule, group and suppression window always give the same
 * id, so replaying the same events (or redelivery from Kafka) never makes a second alert.
 */
export function alertId(ruleId: string, group: Alert['group'], windowStart: string): string {
  const keys = Object.keys(group).sort();
  const canon = JSON.stringify([ruleId, keys.map((k) => [k, group[k]]), windowStart]);
  return 'al_' + createHash('sha256').update(canon).digest('base64url').slice(0, 24);
}
