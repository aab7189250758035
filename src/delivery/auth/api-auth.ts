// How the API decides who is calling: the key source and verifier chosen from config
// (dev issuer, local JWKS file or remote JWKS), built once at start-up.
import type { Config } from '../../config/config.js';
import { parseDuration } from '../../util/duration.js';
import { defaultDevIssuer, loadDevIssuerKeys, type DevIssuerKeys } from './dev-issuer.js';
import {
  AuthConfigError,
  assertSafeAlgorithms,
  createTokenVerifier,
  jwksFileKeySource,
  localKeySource,
  remoteKeySource,
  type RemoteKeySourceOptions,
  type TokenVerifier,
} from './token-verifier.js';

export interface ApiAuth {
  mode: 'dev' | 'oidc';
  verifier: TokenVerifier;
  /** the exact `iss` accepted */
  issuer(): string;
  /** dev mode without a configured issuer: called once the listening address is known */
  setListenAddress(host: string, port: number): void;
  devIssuer: DevIssuerKeys | null;
  audience: string;
}

export async function createApiAuth(config: Config, o: { remote?: RemoteKeySourceOptions; now?: () => Date } = {}): Promise<ApiAuth> {
  const a = config.auth;
  assertSafeAlgorithms(a.algorithms);
  const common = {
    audience: a.audience,
    algorithms: a.algorithms,
    clockSkewSec: Math.round(parseDuration(a.clock_skew) / 1000),
    maxTokenBytes: a.max_token_bytes,
    now: o.now,
  };
  if (a.mode === 'oidc') {
    if (!a.issuer) throw new AuthConfigError('auth.issuer: required when auth.mode is oidc');
    const issuer = a.issuer;
    let getKey;
    if (a.jwks_uri) getKey = remoteKeySource(a.jwks_uri, o.remote);
    else if (a.jwks_file) getKey = jwksFileKeySource(a.jwks_file);
    else throw new AuthConfigError('auth.jwks_uri or auth.jwks_file: one is required when auth.mode is oidc');
    const verifier = createTokenVerifier({ ...common, issuer: () => issuer, getKey });
    return { mode: 'oidc', verifier, issuer: () => issuer, setListenAddress: () => {}, devIssuer: null, audience: a.audience };
  }
  const keys = await loadDevIssuerKeys(config.data_dir);
  // The dev issuer signs ES256 only; refuse a config that would never accept its tokens.
  if (!a.algorithms.includes('ES256')) throw new AuthConfigError('auth.algorithms: must include ES256 when auth.mode is dev');
  let issuer = a.issuer ?? defaultDevIssuer(config.http.host, config.http.port);
  const verifier = createTokenVerifier({ ...common, issuer: () => issuer, getKey: localKeySource(keys.jwks) });
  return {
    mode: 'dev',
    verifier,
    issuer: () => issuer,
    setListenAddress(host, port) {
      if (!a.issuer) issuer = defaultDevIssuer(host, port);
    },
    devIssuer: keys,
    audience: a.audience,
  };
}
