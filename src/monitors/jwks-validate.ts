// Checks one fetched JWKS document (RFC 7517) the way a careful gateway would: a `keys`
// array, a unique kid on every key, a known kty and a signing alg that fits it, a strong
// enough RSA modulus, and above all no private key material: a JWKS that publishes `d`
// (or a symmetric `k`) has leaked the provider's signing key.
import { calculateJwkThumbprint, type JWK } from 'jose';

export interface JwksKey {
  kid: string;
  kty: string;
  alg: string | null;
  use: string | null;
  thumbprint: string;
}

export interface JwksCheck {
  /** keys usable for history: kid present, unique, known kty, thumbprint computable */
  keys: JwksKey[];
  /** problems that make the set invalid (or a key in it unusable) */
  problems: string[];
  /** kids (or "#index" for kid-less keys) whose JWK carries private or symmetric key material */
  privateKeys: string[];
}

const PRIVATE_MEMBERS: Record<string, readonly string[]> = {
  RSA: ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth'],
  EC: ['d'],
  OKP: ['d'],
  AKP: ['priv'],
  oct: ['k'],
};
const KNOWN_KTY = new Set(['RSA', 'EC', 'OKP', 'AKP']);
const ALG_KTY: Record<string, string> = {
  RS256: 'RSA', RS384: 'RSA', RS512: 'RSA', PS256: 'RSA', PS384: 'RSA', PS512: 'RSA',
  'RSA-OAEP': 'RSA', 'RSA-OAEP-256': 'RSA', 'RSA-OAEP-384': 'RSA', 'RSA-OAEP-512': 'RSA',
  ES256: 'EC', ES384: 'EC', ES512: 'EC', ES256K: 'EC',
  'ECDH-ES': 'EC', 'ECDH-ES+A128KW': 'EC', 'ECDH-ES+A192KW': 'EC', 'ECDH-ES+A256KW': 'EC',
  EdDSA: 'OKP', Ed25519: 'OKP', Ed448: 'OKP',
  'ML-DSA-44': 'AKP', 'ML-DSA-65': 'AKP', 'ML-DSA-87': 'AKP',
};
const MAX_KEYS = 100;
const MIN_RSA_BITS = 2048;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export async function checkJwks(doc: unknown): Promise<JwksCheck> {
  const out: JwksCheck = { keys: [], problems: [], privateKeys: [] };
  if (!isRecord(doc) || !Array.isArray(doc.keys)) {
    out.problems.push('document is not a JWK Set (no "keys" array)');
    return out;
  }
  if (doc.keys.length === 0) out.problems.push('key set is empty');
  if (doc.keys.length > MAX_KEYS) out.problems.push(`key set has ${doc.keys.length} keys (more than ${MAX_KEYS})`);
  const seen = new Set<string>();
  const dup = new Set<string>();
  for (const [i, k] of doc.keys.slice(0, MAX_KEYS).entries()) {
    if (!isRecord(k)) {
      out.problems.push(`keys[${i}] is not an object`);
      continue;
    }
    const kty = typeof k.kty === 'string' ? k.kty : '';
    const kid = typeof k.kid === 'string' && k.kid.length > 0 ? k.kid : null;
    const label = kid ?? `#${i}`;
    const privateMembers = (PRIVATE_MEMBERS[kty] ?? ['d', 'k', 'priv']).filter((m) => m in k);
    if (privateMembers.length > 0 || kty === 'oct') {
      out.privateKeys.push(label);
      out.problems.push(`key ${label} publishes private or symmetric key material (${kty === 'oct' ? 'kty oct' : privateMembers.join(', ')})`);
    }
    if (!kid) {
      out.problems.push(`keys[${i}] has no kid`);
      continue;
    }
    if (seen.has(kid)) {
      dup.add(kid);
      continue;
    }
    seen.add(kid);
    if (!KNOWN_KTY.has(kty)) {
      if (kty !== 'oct') out.problems.push(`key ${kid} has unsupported kty "${kty}"`);
      continue;
    }
    const alg = typeof k.alg === 'string' ? k.alg : null;
    if (alg !== null) {
      const want = ALG_KTY[alg];
      if (!want) out.problems.push(`key ${kid} has unsupported alg "${alg}"`);
      else if (want !== kty) out.problems.push(`key ${kid} has alg ${alg} which does not fit kty ${kty}`);
    }
    if (kty === 'RSA' && typeof k.n === 'string') {
      const bits = Math.floor((k.n.length * 6) / 8) * 8;
      if (bits < MIN_RSA_BITS - 8) out.problems.push(`key ${kid} is a ${bits}-bit RSA key (at least ${MIN_RSA_BITS} expected)`);
    }
    let thumbprint: string;
    try {
      thumbprint = await calculateJwkThumbprint(k as JWK, 'sha256');
    } catch {
      out.problems.push(`key ${kid} is missing required ${kty} members`);
      continue;
    }
    out.keys.push({ kid, kty, alg, use: typeof k.use === 'string' ? k.use : null, thumbprint });
  }
  for (const kid of dup) {
    out.problems.push(`kid ${kid} appears more than once`);
    out.keys = out.keys.filter((k) => k.kid !== kid);
  }
  return out;
}
