// Who may move an alert where. The engine creates alerts (status `open`, or `suppressed`
// when a rule's filter marks them so) and only ever updates counts and evidence after that;
// the status belongs to analysts from then on.
import type { AlertStatus } from './alert.js';

export const ALERT_OPS = ['ack', 'resolve', 'reopen', 'suppress'] as const;
export type AlertOp = (typeof ALERT_OPS)[number];

/** op → [statuses it may start from, status it leads to] */
export const ALERT_TRANSITIONS: Record<AlertOp, { from: readonly AlertStatus[]; to: AlertStatus }> = {
  ack: { from: ['open'], to: 'acknowledged' },
  resolve: { from: ['open', 'acknowledged'], to: 'resolved' },
  reopen: { from: ['acknowledged', 'resolved', 'suppressed'], to: 'open' },
  // An analyst silences a noisy alert (a known scanner, a test client); reopen undoes it.
  suppress: { from: ['open', 'acknowledged'], to: 'suppressed' },
};

export function alertTransition(op: AlertOp, from: AlertStatus): AlertStatus | null {
  const t = ALERT_TRANSITIONS[op];
  return t.from.includes(from) ? t.to : null;
}
