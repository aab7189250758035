// ArcSight CEF (Common Event Format) lines for alerts:
//   CEF:0|authwatch|authwatch|<version>|<rule id>|<title>|<severity 0-10>|<extension>
// Escaping per the CEF spec: in header fields `\` and `|` are escaped and line breaks are not
// allowed (replaced by spaces); in extension values `\`, `=` and line breaks (\n, \r) are
// escaped. Extension keys are fixed names from this file, never from input.
import type { Alert, Level } from '../../alerts/alert.js';
import { PRODUCT_NAME, PRODUCT_VENDOR, PRODUCT_VERSION } from './product.js';

const SEVERITY: Record<Level, number> = { informational: 1, low: 3, medium: 5, high: 8, critical: 10 };
const KEY_RE = /^[A-Za-z0-9_]+$/;

export function escapeHeader(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r\n|\r|\n/g, ' ');
}

export function escapeExtension(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/=/g, '\\=').replace(/\r\n|\n/g, '\\n').replace(/\r/g, '\\r');
}

export function cefExtension(pairs: Array<[string, string | number | undefined | null]>): string {
  const out: string[] = [];
  for (const [k, v] of pairs) {
    if (v === undefined || v === null || v === '') continue;
    if (!KEY_RE.test(k)) throw new Error(`invalid CEF extension key ${JSON.stringify(k)}`);
    out.push(`${k}=${escapeExtension(String(v))}`);
  }
  return out.join(' ');
}

export function toCef(alert: Alert & { updated_at?: string }): string {
  const g = alert.group;
  const ip = typeof g['source.ip'] === 'string' ? (g['source.ip'] as string) : undefined;
  const header = [
    'CEF:0',
    escapeHeader(PRODUCT_VENDOR),
    escapeHeader(PRODUCT_NAME),
    escapeHeader(PRODUCT_VERSION),
    escapeHeader(alert.rule.id),
    escapeHeader(alert.rule.title),
    String(SEVERITY[alert.rule.level] ?? 0),
  ].join('|');
  const clientId = g['token.client_id'] ?? g['idp.client_id'];
  const ext = cefExtension([
    ['rt', Date.parse(alert.updated_at ?? alert.last_seen)],
    ['start', Date.parse(alert.first_seen)],
    ['end', Date.parse(alert.last_seen)],
    ['cnt', alert.count],
    ['externalId', alert.id],
    ['msg', alert.rule.title],
    // CEF's src holds IPv4 only; c6a2 is the source IPv6 address.
    ['src', ip && !ip.includes(':') ? ip : undefined],
    ['c6a2', ip && ip.includes(':') ? ip : undefined],
    ['cs1Label', 'ruleName'],
    ['cs1', alert.rule.name],
    ['cs2Label', 'status'],
    ['cs2', alert.status],
    ['cs3Label', 'group'],
    ['cs3', JSON.stringify(g)],
    ['cs4Label', 'tokenFingerprint'],
    ['cs4', typeof g['token.fp'] === 'string' ? (g['token.fp'] as string) : undefined],
    ['cs5Label', 'clientId'],
    ['cs5', clientId === undefined || clientId === null ? undefined : String(clientId)],
    ['cs6Label', 'level'],
    ['cs6', alert.rule.level],
  ]);
  return `${header}|${ext}`;
}
