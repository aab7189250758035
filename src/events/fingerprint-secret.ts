// The HMAC key of token fingerprints. Configured, or generated once and kept in the data
// directory, so fingerprints stay stable across restarts (and correlate across sources
// that share the key).
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';

export class FingerprintSecretError extends Error {
  readonly code = 'FINGERPRINT_SECRET_INVALID';
}

export const FINGERPRINT_KEY_FILE = 'fingerprint.key';

export function loadFingerprintSecret(dataDir: string, configured?: string): Buffer {
  if (configured !== undefined && configured !== '') return Buffer.from(configured, 'utf8');
  const file = join(dataDir, FINGERPRINT_KEY_FILE);
  if (existsSync(file)) {
    const key = readFileSync(file);
    if (key.length < 16) throw new FingerprintSecretError(`${file} holds ${key.length} bytes; a fingerprint key needs at least 16`);
    return key;
  }
  mkdirSync(dataDir, { recursive: true });
  const key = randomBytes(32);
  try {
    writeFileSync(file, key, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    // another process created it first: use theirs, so both fingerprint alike
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return readFileSync(file);
    throw err;
  }
  chmodSync(file, 0o600); // mode is filtered by umask on creation
  return key;
}
