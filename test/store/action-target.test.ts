import { afterEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/store/store.js';
import { targetFromGroup } from '../../src/actions/action-lifecycle.js';
import { makeAlert, tempDbFile } from './helpers.js';

const stores: Store[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
});

describe('proposed action targets', () => {
  it('come from the group key, else from the first redacted evidence sample carrying the field', () => {
    expect(targetFromGroup('revoke_token', { 'token.fp': 'tfp_AAAAAAAAAAAAAAAAAAAAAA' })).toBe('tfp_AAAAAAAAAAAAAAAAAAAAAA');
    const samples = [{ idp: { client_id: 'web' } }, { token: { fp: 'tfp_BBBBBBBBBBBBBBBBBBBBBB' } }];
    expect(targetFromGroup('revoke_token', { 'idp.client_id': 'web' }, samples)).toBe('tfp_BBBBBBBBBBBBBBBBBBBBBB');
    expect(targetFromGroup('block_ip', { 'idp.client_id': 'web' }, samples)).toBeNull();
  });

  it('a rule grouped by client that proposes revoke_token gets an action on the sampled token', () => {
    const s = openStore(tempDbFile(), {});
    stores.push(s);
    const a = makeAlert({
      rule: 'r-refresh-reuse',
      group: { 'idp.client_id': 'mobile-app' },
      proposed: [{ action: 'revoke_token', ttl: '24h', approval: 'required' }],
    });
    a.evidence.samples = [{ idp: { client_id: 'mobile-app' }, token: { fp: 'tfp_CCCCCCCCCCCCCCCCCCCCCC' } }];
    s.saveAlerts([a]);
    const actions = s.listActions({}, 10).items;
    expect(actions).toHaveLength(1);
    expect(actions[0]).toMatchObject({ type: 'revoke_token', target: 'tfp_CCCCCCCCCCCCCCCCCCCCCC', status: 'proposed', alert: a.id });
  });
});
