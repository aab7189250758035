// Test tokens, minted here (never copied from anywhere): unique canaries per call, so a test
// can search the output for the token and for each of its segments.
import { createHmac, randomBytes } from 'node:crypto';

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

export function mintJwt(claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}): string {
  const h = b64({ alg: 'HS256', typ: 'JWT', kid: 'test-kid', ...header });
  const p = b64({ iss: 'https://issuer.test', sub: `canary-${randomBytes(6).toString('hex')}`, exp: 2_000_000_000, ...claims });
  return `${h}.${p}.${createHmac('sha256', randomBytes(16)).update(`${h}.${p}`).digest('base64url')}`;
}

/** An opaque token: random, with digits and capitals, like real ones. */
export function opaqueToken(prefix = 'ot'): string {
  return `${prefix}_${randomBytes(18).toString('base64url')}Z9`;
}

/** Every piece of the token that must not appear in output (the whole, and each JWT segment). */
export function secretPieces(token: string): string[] {
  return [token, ...token.split('.').filter((s) => s.length >= 8)];
}

export function expectNoSecret(output: unknown, tokens: string[]): void {
  const text = typeof output === 'string' ? output : JSON.stringify(output);
  for (const t of tokens) {
    for (const piece of secretPieces(t)) {
      if (text.includes(piece)) throw new Error(`secret piece survived: ${piece.slice(0, 12)}… in ${text.slice(0, 400)}`);
    }
  }
}
