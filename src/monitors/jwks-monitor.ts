// The key-set monitor: for each configured identity provider, fetch its JWKS (directly or
// through the OpenID discovery document), validate it, keep the kid history in SQLite
// (migrations/210-jwks-history.sql) and raise built-in alerts through the store:
//   jwks-endpoint-failure, jwks-invalid-set, jwks-private-key-published,
//   jwks-kid-key-changed, jwks-key-removed-early, jwks-stale-gateway-cache, jwks-forged-kid
// (docs/jwks-monitor.md). Alert ids are deterministic (alertId) per idp/kid and hour, so a
// repeated finding grows one alert's count instead of flooding the store.
import type Database from 'better-sqlite3';
import { alertId, type Alert, type Level, type RuleRef } from '../alerts/alert.js';
import type { Config } from '../config/config.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { parseDuration } from '../util/duration.js';
import { checkJwks, type JwksKey } from './jwks-validate.js';
import type { TokenKidIndex, UnknownKidObservation } from './kid-index.js';

type IdpConfig = Config['idps'][number];

export const JWKS_MONITOR_RULES = {
  endpointFailure: { id: 'authwatch-jwks-monitor/endpoint-failure', name: 'jwks-endpoint-failure', title: 'JWKS endpoint of an identity provider is failing', level: 'high' },
  invalidSet: { id: 'authwatch-jwks-monitor/invalid-set', name: 'jwks-invalid-set', title: 'Identity provider publishes an invalid JWKS', level: 'high' },
  privateKey: { id: 'authwatch-jwks-monitor/private-key-published', name: 'jwks-private-key-published', title: 'JWKS publishes private key material', level: 'critical' },
  kidKeyChanged: { id: 'authwatch-jwks-monitor/kid-key-changed', name: 'jwks-kid-key-changed', title: 'A published kid now names a different key', level: 'high' },
  keyRemovedEarly: { id: 'authwatch-jwks-monitor/key-removed-early', name: 'jwks-key-removed-early', title: 'Signing key removed while tokens signed with it can still be valid', level: 'medium' },
  staleGatewayCache: { id: 'authwatch-jwks-monitor/stale-gateway-cache', name: 'jwks-stale-gateway-cache', title: 'Gateways reject a kid the provider publishes (stale JWKS cache)', level: 'medium' },
  forgedKid: { id: 'authwatch-jwks-monitor/forged-kid', name: 'jwks-forged-kid', title: 'Tokens carry a kid the provider never published (forgery)', level: 'high' },
} as const satisfies Record<string, RuleRef>;

const HOUR_MS = 3_600_000;
const MAX_BODY_BYTES = 1024 * 1024;

export class JwksFetchError extends Error {
  constructor(
    readonly code: 'JWKS_TIMEOUT' | 'JWKS_NETWORK' | 'JWKS_HTTP' | 'JWKS_NOT_JSON' | 'JWKS_DISCOVERY',
    message: string,
  ) {
    super(message);
  }
}

export interface JwksCheckResult {
  idp: string;
  ok: boolean;
  error?: string;
  keys: string[];
  added: string[];
  removed: string[];
  alerts: Alert[];
}

interface KeyRow {
  idp: string;
  kid: string;
  thumbprint: string;
  kty: string;
  alg: string | null;
  added_at: string;
  baseline: number;
  last_seen_at: string;
  removed_at: string | null;
}

export interface JwksMonitorOptions {
  idps: readonly IdpConfig[];
  db: Database.Database;
  store: { saveAlerts(alerts: Alert[]): void; getAlert(id: string): Alert | null };
  kidIndex?: TokenKidIndex;
  logger: Logger;
  metrics?: Metrics;
  now?: () => number;
  fetchTimeoutMs?: number;
  fetchImpl?: typeof fetch;
}

export class JwksMonitor {
  private readonly now: () => number;
  private readonly fetchImpl: typeof fetch;
  private readonly timeoutMs: number;

  constructor(private readonly o: JwksMonitorOptions) {
    this.now = o.now ?? Date.now;
    this.fetchImpl = o.fetchImpl ?? fetch;
    this.timeoutMs = o.fetchTimeoutMs ?? 10_000;
  }

  /** One round over every configured provider; one provider's failure never stops the others. */
  async checkAll(): Promise<JwksCheckResult[]> {
    const out: JwksCheckResult[] = [];
    for (const idp of this.o.idps) out.push(await this.checkIdp(idp));
    return out;
  }

  async checkIdp(idp: IdpConfig): Promise<JwksCheckResult> {
    const nowMs = this.now();
    const nowIso = new Date(nowMs).toISOString();
    const res: JwksCheckResult = { idp: idp.name, ok: false, keys: [], added: [], removed: [], alerts: [] };
    let doc: unknown;
    try {
      doc = await this.fetchJwks(idp);
    } catch (err) {
      const e = err instanceof JwksFetchError ? err : new JwksFetchError('JWKS_NETWORK', (err as Error).message);
      res.error = e.message;
      this.o.metrics?.jwksFetches.inc({ idp: idp.name, result: e.code.slice(5).toLowerCase() });
      this.recordFetch(idp.name, nowIso, e.message);
      res.alerts.push(this.alert(JWKS_MONITOR_RULES.endpointFailure, { idp: idp.name }, nowMs, 1, [], [{ idp: idp.name, error_code: e.code, error: e.message }]));
      this.o.logger.warn({ idp: idp.name, code: e.code, error: e.message }, 'JWKS fetch failed');
      this.save(res.alerts);
      return res;
    }
    const check = await checkJwks(doc);
    const setUnusable = check.keys.length === 0;
    this.o.metrics?.jwksFetches.inc({ idp: idp.name, result: check.problems.length ? 'invalid' : 'ok' });
    if (check.privateKeys.length) {
      res.alerts.push(this.alert(JWKS_MONITOR_RULES.privateKey, { idp: idp.name }, nowMs, check.privateKeys.length, [], [{ idp: idp.name, kids: check.privateKeys }]));
      this.o.logger.error({ idp: idp.name, kids: check.privateKeys }, 'JWKS publishes private key material');
    }
    const nonPrivateProblems = check.problems.filter((p) => !p.includes('private or symmetric'));
    if (nonPrivateProblems.length) {
      res.alerts.push(this.alert(JWKS_MONITOR_RULES.invalidSet, { idp: idp.name }, nowMs, 1, [], [{ idp: idp.name, problems: nonPrivateProblems.slice(0, 20) }]));
      this.o.logger.warn({ idp: idp.name, problems: nonPrivateProblems.slice(0, 20) }, 'JWKS is invalid');
    }
    if (setUnusable) {
      // No usable key: do not rewrite history from a broken document (that would "remove" every key).
      this.recordFetch(idp.name, nowIso, check.problems[0] ?? 'no usable keys');
      this.save(res.alerts);
      return res;
    }
    res.ok = check.problems.length === 0;
    const history = this.updateHistory(idp, check.keys, nowMs);
    res.keys = check.keys.map((k) => k.kid);
    res.added = history.added;
    res.removed = history.removed.map((r) => r.kid);
    this.o.metrics?.jwksKeys.set({ idp: idp.name }, check.keys.length);
    for (const changed of history.changed) {
      res.alerts.push(this.alert(JWKS_MONITOR_RULES.kidKeyChanged, { idp: idp.name, kid: changed.kid }, nowMs, 1, [], [{ idp: idp.name, kid: changed.kid, old_thumbprint: changed.old, new_thumbprint: changed.now }]));
    }
    res.alerts.push(...this.checkRemovals(idp, history.removed, check.keys, nowMs));
    res.alerts.push(...this.correlateUnknownKid(idp, nowMs));
    if (history.added.length || history.removed.length) {
      this.o.logger.info({ idp: idp.name, added: history.added, removed: res.removed }, 'JWKS key set changed');
    }
    this.save(res.alerts);
    return res;
  }

  private async fetchJson(url: string, what: string): Promise<unknown> {
    let resp: Response;
    try {
      resp = await this.fetchImpl(url, { signal: AbortSignal.timeout(this.timeoutMs), redirect: 'follow', headers: { accept: 'application/json' } });
    } catch (err) {
      const name = (err as Error).name;
      if (name === 'TimeoutError' || name === 'AbortError') throw new JwksFetchError('JWKS_TIMEOUT', `${what} timed out after ${this.timeoutMs}ms`);
      const cause = (err as { cause?: { code?: string } }).cause?.code;
      throw new JwksFetchError('JWKS_NETWORK', `${what} unreachable${cause ? ` (${cause})` : ''}`);
    }
    if (!resp.ok) {
      await resp.body?.cancel();
      throw new JwksFetchError('JWKS_HTTP', `${what} answered HTTP ${resp.status}`);
    }
    let text: string;
    try {
      text = await resp.text();
    } catch {
      throw new JwksFetchError('JWKS_TIMEOUT', `${what} timed out while reading the body`);
    }
    if (text.length > MAX_BODY_BYTES) throw new JwksFetchError('JWKS_NOT_JSON', `${what} body is larger than ${MAX_BODY_BYTES} bytes`);
    try {
      return JSON.parse(text);
    } catch {
      throw new JwksFetchError('JWKS_NOT_JSON', `${what} is not JSON`);
    }
  }

  private async fetchJwks(idp: IdpConfig): Promise<unknown> {
    let uri = idp.jwks_uri;
    if (!uri) {
      if (!idp.discovery_url) throw new JwksFetchError('JWKS_DISCOVERY', 'neither jwks_uri nor discovery_url is configured');
      const disco = await this.fetchJson(idp.discovery_url, 'discovery document');
      const d = disco as { jwks_uri?: unknown; issuer?: unknown };
      if (typeof d !== 'object' || d === null || typeof d.jwks_uri !== 'string') throw new JwksFetchError('JWKS_DISCOVERY', 'discovery document has no jwks_uri');
      if (typeof d.issuer === 'string' && d.issuer !== idp.issuer) throw new JwksFetchError('JWKS_DISCOVERY', `discovery document issuer ${d.issuer} does not match configured issuer ${idp.issuer}`);
      uri = d.jwks_uri;
    }
    return this.fetchJson(uri, 'JWKS');
  }

  private recordFetch(idp: string, nowIso: string, error: string | null): void {
    this.o.db
      .prepare(
        `INSERT INTO jwks_fetch_state (idp, first_fetch_at, last_ok_at, last_error_at, last_error) VALUES (@idp, NULL, @ok, @errAt, @err)
         ON CONFLICT (idp) DO UPDATE SET last_ok_at = COALESCE(@ok, last_ok_at), last_error_at = COALESCE(@errAt, last_error_at), last_error = COALESCE(@err, last_error)`,
      )
      .run({ idp, ok: error ? null : nowIso, errAt: error ? nowIso : null, err: error });
  }

  /** Applies one successful fetch to the history; returns what changed. */
  private updateHistory(idp: IdpConfig, keys: JwksKey[], nowMs: number) {
    const nowIso = new Date(nowMs).toISOString();
    const db = this.o.db;
    return db.transaction(() => {
      const state = db.prepare('SELECT first_fetch_at FROM jwks_fetch_state WHERE idp = ?').get(idp.name) as { first_fetch_at: string | null } | undefined;
      const firstFetch = !state?.first_fetch_at;
      const rows = new Map((db.prepare('SELECT * FROM jwks_keys WHERE idp = ?').all(idp.name) as KeyRow[]).map((r) => [r.kid, r]));
      const added: string[] = [];
      const changed: Array<{ kid: string; old: string; now: string }> = [];
      const removed: KeyRow[] = [];
      const current = new Set(keys.map((k) => k.kid));
      for (const k of keys) {
        const row = rows.get(k.kid);
        if (!row) {
          db.prepare('INSERT INTO jwks_keys (idp, kid, thumbprint, kty, alg, added_at, baseline, last_seen_at, removed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)').run(
            idp.name, k.kid, k.thumbprint, k.kty, k.alg, nowIso, firstFetch ? 1 : 0, nowIso,
          );
          if (!firstFetch) added.push(k.kid);
          continue;
        }
        if (row.thumbprint !== k.thumbprint) changed.push({ kid: k.kid, old: row.thumbprint, now: k.thumbprint });
        if (row.removed_at) added.push(k.kid); // re-published
        db.prepare('UPDATE jwks_keys SET thumbprint = ?, kty = ?, alg = ?, last_seen_at = ?, removed_at = NULL WHERE idp = ? AND kid = ?').run(k.thumbprint, k.kty, k.alg, nowIso, idp.name, k.kid);
      }
      for (const row of rows.values()) {
        if (row.removed_at === null && !current.has(row.kid)) {
          db.prepare('UPDATE jwks_keys SET removed_at = ? WHERE idp = ? AND kid = ?').run(nowIso, idp.name, row.kid);
          removed.push(row);
        }
      }
      db.prepare(
        `INSERT INTO jwks_fetch_state (idp, first_fetch_at, last_ok_at) VALUES (?, ?, ?)
         ON CONFLICT (idp) DO UPDATE SET first_fetch_at = COALESCE(first_fetch_at, excluded.first_fetch_at), last_ok_at = excluded.last_ok_at`,
      ).run(idp.name, nowIso, nowIso);
      return { added, changed, removed };
    })();
  }

  /**
   * A removed key still has valid tokens when it was removed less than max_token_lifetime
   * after a successor key appeared (tokens it signed just before the switch are still
   * valid), when no successor appeared at all, or when gateways recently accepted a token
   * signed with it that has not expired yet. Keys present at the monitor's first fetch have
   * an unknown age; between such keys only the token evidence counts.
   */
  private checkRemovals(idp: IdpConfig, removed: KeyRow[], current: JwksKey[], nowMs: number): Alert[] {
    if (removed.length === 0) return [];
    const lifetime = parseDuration(idp.max_token_lifetime);
    const rows = new Map((this.o.db.prepare('SELECT * FROM jwks_keys WHERE idp = ? AND removed_at IS NULL').all(idp.name) as KeyRow[]).map((r) => [r.kid, r]));
    const alerts: Alert[] = [];
    for (const k of removed) {
      const successors = current.map((c) => rows.get(c.kid)).filter((r): r is KeyRow => !!r && r.baseline === 0 && r.added_at >= k.added_at);
      const olderOrUnknown = current.map((c) => rows.get(c.kid)).filter((r): r is KeyRow => !!r && !successors.includes(r));
      let reason: string | null = null;
      if (successors.length) {
        const since = Math.min(...successors.map((s) => Date.parse(s.added_at)));
        if (nowMs - since < lifetime) reason = `removed ${Math.round((nowMs - since) / 1000)}s after its successor appeared; tokens live up to ${idp.max_token_lifetime}`;
      } else if (!(k.baseline === 1 && olderOrUnknown.some((r) => r.baseline === 1))) {
        reason = 'removed with no successor key published before it';
      }
      const exp = this.o.kidIndex?.latestValidExp(idp.issuer, k.kid) ?? null;
      if (exp !== null && exp * 1000 > nowMs) reason = `${reason ? reason + '; ' : ''}gateways accepted a token signed with it that is valid until ${new Date(exp * 1000).toISOString()}`;
      if (!reason) continue;
      // window = the removal itself: one alert per removal of a kid
      alerts.push(this.alert(JWKS_MONITOR_RULES.keyRemovedEarly, { idp: idp.name, kid: k.kid }, nowMs, 1, [], [{ idp: idp.name, kid: k.kid, added_at: k.added_at, removed_at: new Date(nowMs).toISOString(), reason }], nowMs));
    }
    return alerts;
  }

  /**
   * Gateways' unknown_kid rejections against the provider's key history: a kid the
   * provider publishes now means a gateway is serving from a stale JWKS cache; a kid the
   * provider never published means someone signs tokens with a key of their own. A kid
   * that was published and has since been removed is an expected rejection (retired key).
   */
  private correlateUnknownKid(idp: IdpConfig, nowMs: number): Alert[] {
    if (!this.o.kidIndex) return [];
    const issuers = this.o.idps.length === 1 ? [idp.issuer, ''] : [idp.issuer];
    const observations = this.o.kidIndex.takeUnknownKid(issuers);
    const alerts: Alert[] = [];
    const known = this.o.db.prepare('SELECT removed_at FROM jwks_keys WHERE idp = ? AND kid = ?');
    for (const o of observations) {
      const row = known.get(idp.name, o.kid) as { removed_at: string | null } | undefined;
      const sample = sampleOf(idp, o);
      if (row && row.removed_at === null) alerts.push(this.alert(JWKS_MONITOR_RULES.staleGatewayCache, { idp: idp.name, kid: o.kid }, nowMs, o.count, o.event_ids, [sample], undefined, o));
      else if (!row) alerts.push(this.alert(JWKS_MONITOR_RULES.forgedKid, { idp: idp.name, kid: o.kid }, nowMs, o.count, o.event_ids, [sample], undefined, o));
      else this.o.logger.debug({ idp: idp.name, kid: o.kid, count: o.count }, 'gateways reject a retired kid (expected)');
    }
    return alerts;
  }

  /** Builds the alert, adding to the count of the same alert id already stored. */
  private alert(
    rule: { id: string; name: string; title: string; level: Level },
    group: Record<string, string>,
    nowMs: number,
    count: number,
    eventIds: string[],
    samples: Record<string, unknown>[],
    windowStartMs = Math.floor(nowMs / HOUR_MS) * HOUR_MS,
    seen?: { first_seen: string; last_seen: string },
  ): Alert {
    const id = alertId(rule.id, group, new Date(windowStartMs).toISOString());
    const prev = this.o.store.getAlert(id);
    const nowIso = new Date(nowMs).toISOString();
    const first = seen?.first_seen ?? nowIso;
    const last = seen?.last_seen ?? nowIso;
    return {
      id,
      rule: { ...rule },
      group,
      count: (prev?.count ?? 0) + count,
      first_seen: prev && prev.first_seen < first ? prev.first_seen : first,
      last_seen: prev && prev.last_seen > last ? prev.last_seen : last,
      evidence: { event_ids: eventIds.slice(0, 100), samples: samples.slice(0, 5) },
      status: 'open',
      proposed: [],
    };
  }

  private save(alerts: Alert[]): void {
    if (alerts.length) this.o.store.saveAlerts(alerts);
  }

  /** The stored history for one provider (API/tests/docs). */
  history(idpName: string): KeyRow[] {
    return this.o.db.prepare('SELECT * FROM jwks_keys WHERE idp = ? ORDER BY added_at, kid').all(idpName) as KeyRow[];
  }
}

function sampleOf(idp: IdpConfig, o: UnknownKidObservation): Record<string, unknown> {
  return { idp: idp.name, iss: o.iss || null, kid: o.kid, rejections: o.count, observers: o.observers, first_seen: o.first_seen, last_seen: o.last_seen };
}
