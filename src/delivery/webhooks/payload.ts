// What a playbook receives: thin payloads (enough to decide and to fetch the rest from the
// API with its own token), built from an explicit allow-list of fields so evidence samples,
// free text and anything token-shaped never leave through a webhook.
import { createHash } from 'node:crypto';
import type { Action, Alert } from '../../alerts/alert.js';
import type { Config } from '../../config/config.js';

export type WebhookEventType = 'alert.created' | 'alert.updated' | 'action.changed' | 'digest';
type EndpointConfig = Config['webhooks']['endpoints'][number];

export interface WebhookPayload {
  type: WebhookEventType;
  timestamp: string;
  data: Record<string, unknown>;
}

export function alertLink(publicUrl: string, alertIdValue: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/v1/alerts/${encodeURIComponent(alertIdValue)}`;
}

export function alertPayload(alert: Alert, isNew: boolean, timestamp: string, publicUrl: string): WebhookPayload {
  return {
    type: isNew ? 'alert.created' : 'alert.updated',
    timestamp,
    data: {
      id: alert.id,
      rule: { id: alert.rule.id, name: alert.rule.name, title: alert.rule.title, level: alert.rule.level },
      group: alert.group,
      count: alert.count,
      first_seen: alert.first_seen,
      last_seen: alert.last_seen,
      status: alert.status,
      link: alertLink(publicUrl, alert.id),
    },
  };
}

export function actionPayload(action: Action, previous: Action['status'] | null, timestamp: string, publicUrl: string): WebhookPayload {
  return {
    type: 'action.changed',
    timestamp,
    data: {
      id: action.id,
      type: action.type,
      target: action.target, // an IP/CIDR, a token fingerprint (tfp_...) or a client id: never a token
      status: action.status,
      previous_status: previous,
      approval: action.approval,
      ttl: action.ttl,
      expires_at: action.expires_at,
      alert: action.alert,
      link: `${publicUrl.replace(/\/+$/, '')}/v1/actions/${encodeURIComponent(action.id)}`,
      alert_link: action.alert ? alertLink(publicUrl, action.alert) : null,
    },
  };
}

export interface DigestCounts {
  since: string;
  until: string;
  total: number;
  by_rule: Array<{ rule: string; level: string; count: number }>;
  by_level: Record<string, number>;
}

export function digestPayload(counts: DigestCounts, timestamp: string, publicUrl: string): WebhookPayload {
  return { type: 'digest', timestamp, data: { ...counts, link: `${publicUrl.replace(/\/+$/, '')}/v1/alerts` } };
}

/** Does this endpoint want this alert? Empty/absent filters match everything. */
export function endpointWantsAlert(ep: EndpointConfig, alert: Alert): boolean {
  if (!ep.events.includes('alert')) return false;
  if (ep.rules?.length && !ep.rules.includes(alert.rule.id) && !ep.rules.includes(alert.rule.name)) return false;
  if (ep.levels?.length && !ep.levels.includes(alert.rule.level)) return false;
  return true;
}

/**
 * Does this endpoint want this action change? `action_types` filters by type; `rules` and
 * `levels` apply when the action's alert rule is known (`rule` from the alert row).
 */
export function endpointWantsAction(ep: EndpointConfig, action: Action, rule: { id: string; name: string; level: string } | null): boolean {
  if (!ep.events.includes('action')) return false;
  if (ep.action_types?.length && !ep.action_types.includes(action.type)) return false;
  if (ep.rules?.length && (!rule || (!ep.rules.includes(rule.id) && !ep.rules.includes(rule.name)))) return false;
  if (ep.levels?.length && (!rule || !(ep.levels as string[]).includes(rule.level))) return false;
  return true;
}

/**
 * The webhook-id: derived from what is delivered, so the same change enqueued twice (a
 * replayed transaction, a redelivered Kafka message) is one delivery, and every retry of a
 * delivery carries the same id.
 */
export function deliveryId(endpoint: string, parts: ReadonlyArray<string | number | null>): string {
  return 'msg_' + createHash('sha256').update(JSON.stringify([endpoint, ...parts])).digest('base64url').slice(0, 27);
}
