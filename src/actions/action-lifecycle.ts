// Action lifecycle and target rules: proposed → active → expired | lifted, or proposed →
// rejected. A decision (what enforcement points act on) is an action in status `active`.
import { createHash } from 'node:crypto';
import ipaddr from 'ipaddr.js';
import type { ActionStatus, ActionType, Alert } from '../alerts/alert.js';
import { AppError } from '../errors.js';

export const ACTION_OPS = ['approve', 'reject', 'lift', 'expire'] as const;
export type ActionOp = (typeof ACTION_OPS)[number];

export const ACTION_TRANSITIONS: Record<ActionOp, { from: readonly ActionStatus[]; to: ActionStatus }> = {
  approve: { from: ['proposed'], to: 'active' },
  reject: { from: ['proposed'], to: 'rejected' },
  lift: { from: ['active'], to: 'lifted' },
  expire: { from: ['active'], to: 'expired' },
};

export function actionTransition(op: ActionOp, from: ActionStatus): ActionStatus | null {
  const t = ACTION_TRANSITIONS[op];
  return t.from.includes(from) ? t.to : null;
}

/** Same alert + type + target → same action id, so re-saving an alert never duplicates its actions. */
export function alertActionId(alertId: string, type: ActionType, target: string): string {
  return 'ac_' + createHash('sha256').update(JSON.stringify([alertId, type, target])).digest('base64url').slice(0, 24);
}

/** Where each action type finds its target in an alert's group key; null when the group has none. */
export function targetFromGroup(type: ActionType, group: Alert['group'], samples: readonly Record<string, unknown>[] = []): string | null {
  // The group key names the target when the rule groups by it; otherwise (e.g. a refresh-token
  // reuse grouped by client) the first redacted evidence sample that carries the field does.
  const pick = (...keys: string[]) => {
    for (const k of keys) {
      const v = group[k];
      if (typeof v === 'string' && v.length > 0) return v;
    }
    for (const k of keys) {
      for (const s of samples) {
        const v = fieldAt(s, k);
        if (typeof v === 'string' && v.length > 0) return v;
      }
    }
    return null;
  };
  switch (type) {
    case 'block_ip':
      return pick('source.ip');
    case 'revoke_token':
    case 'require_reauth':
      return pick('token.fp');
    case 'disable_client':
      return pick('token.client_id', 'idp.client_id');
  }
}

function fieldAt(obj: Record<string, unknown>, dotted: string): unknown {
  let cur: unknown = obj;
  for (const part of dotted.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

export const TOKEN_FP_RE = /^tfp_[A-Za-z0-9_-]{22}$/;
// JWS/JWE compact serialisation: the header is base64url JSON, so it always starts with "eyJ".
const JWT_LIKE_RE = /^eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_.-]*$/;
const CLIENT_ID_RE = /^[\x21-\x7e]{1,256}$/;

/** Heuristic for "someone pasted a credential": JWTs, `Bearer ...`, long high-entropy strings. */
export function looksLikeRawToken(s: string): boolean {
  const t = s.trim();
  if (/^bearer\s/i.test(t)) return true;
  if (JWT_LIKE_RE.test(t) || t.startsWith('eyJ')) return true;
  // Opaque tokens: long, no spaces, mostly base64/hex alphabet.
  if (t.length >= 32 && /^[A-Za-z0-9._~+/=-]+$/.test(t) && /[0-9]/.test(t) && /[A-Za-z]/.test(t)) return true;
  return false;
}

// Blocking more than this in one decision is almost certainly a typo (0.0.0.0/0 blocks everyone).
const MIN_PREFIX = { ipv4: 8, ipv6: 32 } as const;

/**
 * Validate and normalise a manual action's target. Errors never echo the value: a refused
 * target may be a raw token, which must not reach a response or a log.
 */
export function normaliseTarget(type: ActionType, raw: string): string {
  const t = raw.trim();
  switch (type) {
    case 'block_ip': {
      if (t.includes('/')) {
        if (!ipaddr.isValidCIDR(t)) throw new AppError('VALIDATION_FAILED', 'block_ip target must be an IP address or a CIDR range');
        const [addr, bits] = ipaddr.parseCIDR(t);
        const kind = addr.kind();
        if (bits < MIN_PREFIX[kind]) throw new AppError('VALIDATION_FAILED', `block_ip range is too broad (prefix shorter than /${MIN_PREFIX[kind]})`);
        const net = kind === 'ipv4' ? ipaddr.IPv4.networkAddressFromCIDR(t) : ipaddr.IPv6.networkAddressFromCIDR(t);
        const full = kind === 'ipv4' ? 32 : 128;
        return bits === full ? net.toString() : `${net.toString()}/${bits}`;
      }
      if (!ipaddr.isValid(t)) throw new AppError('VALIDATION_FAILED', 'block_ip target must be an IP address or a CIDR range');
      return ipaddr.process(t).toString();
    }
    case 'revoke_token':
    case 'require_reauth':
      if (TOKEN_FP_RE.test(t)) return t;
      if (looksLikeRawToken(t)) {
        throw new AppError(
          'VALIDATION_FAILED',
          `${type} target looks like a raw token; send its fingerprint (tfp_...) instead. The value was not stored or logged.`,
        );
      }
      throw new AppError('VALIDATION_FAILED', `${type} target must be a token fingerprint (tfp_ followed by 22 base64url characters)`);
    case 'disable_client':
      // Client ids may be long random strings themselves, so only unmistakable credentials
      // (JWTs, "Bearer ...", very long opaque strings) are refused here.
      if (/^bearer\s/i.test(t) || JWT_LIKE_RE.test(t) || t.startsWith('eyJ') || (t.length > 64 && looksLikeRawToken(t))) {
        throw new AppError('VALIDATION_FAILED', 'disable_client target looks like a raw token or secret; send the client id. The value was not stored or logged.');
      }
      if (!CLIENT_ID_RE.test(t)) throw new AppError('VALIDATION_FAILED', 'disable_client target must be a client id (1-256 printable characters, no spaces)');
      return t;
  }
}
