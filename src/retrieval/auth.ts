// The shared secret of a fleet: read from a file (or an environment
// variable), never defaulted, and compared in constant time.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';

export function readToken(file: string): string {
  let token: string;
  try {
    token = readFileSync(file, 'utf8').trim();
  } catch (error) {
    throw new Error(`${file}: cannot read the token file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  if (token.length < 16) throw new Error(`${file}: the token must be at least 16 characters`);
  return token;
}

/** Writes a fresh random token readable by the owner only. */
export function writeNewToken(file: string): string {
  const token = randomBytes(32).toString('hex');
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return token;
}

/** Constant-time comparison (of fixed-length digests, so lengths leak nothing either). */
export function tokensEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** The token of an "Authorization: Bearer <token>" header, or null. */
export function bearerToken(header: string | undefined): string | null {
  const match = /^Bearer (\S+)$/.exec(header ?? '');
  return match ? (match[1] as string) : null;
}
