// The shared secret of a fleet: read from a file that only its owner can
// read (--token-file; there is no default and no environment variable),
// and compared in constant time.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { requireRegularFile } from '../data/regular-file.js';

/**
 * The token in `file`: the file's whole content but one final newline. A
 * file others can read, or a token with whitespace in it (a stray space or
 * a Windows line end would make two hosts disagree), is refused with the fix.
 */
export function readToken(file: string): string {
  let content: string;
  let mode: number;
  requireRegularFile(file, 'the token file'); // before reading: a FIFO would block forever
  try {
    mode = statSync(file).mode;
    content = readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(`${file}: cannot read the token file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    throw new Error(`${file}: the token file can be read by others (mode ${(mode & 0o777).toString(8)}); run: chmod 600 ${file}`);
  }
  const token = content.endsWith('\n') ? content.slice(0, -1) : content;
  if (/\s/.test(token)) {
    throw new Error(`${file}: the token holds whitespace (a space, tab, a Windows line end or an empty line); write the token alone on one line, e.g. (umask 077; openssl rand -hex 32 > ${file})`);
  }
  if (token.length < 16) throw new Error(`${file}: the token must be at least 16 characters`);
  return token;
}

/** Writes a fresh random token readable by the owner only (also when the file existed with a wider mode). */
export function writeNewToken(file: string): string {
  const token = randomBytes(32).toString('hex');
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return token;
}

/** Constant-time comparison (of fixed-length digests, so lengths leak nothing either). */
export function tokensEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** A nonce for the health challenge: 16 random bytes in hex. */
export function newNonce(): string {
  return randomBytes(16).toString('hex');
}

/** Whether `nonce` is one a server answers with a proof (hex, 16 to 64 bytes). */
export function isNonce(nonce: unknown): nonce is string {
  return typeof nonce === 'string' && /^[0-9a-f]{32,128}$/.test(nonce);
}

/**
 * The server's proof that it holds `token`, for a client's `nonce`, bound to
 * the connection it came over (`channel`: channel-binding.ts ChannelBinding
 * value), so that it proves nothing on any other connection (protocol.ts
 * OpenHealthResponse).
 */
export function proofOfToken(token: string, nonce: string, channel: string): string {
  return createHmac('sha256', token).update(`tttnn-health:${nonce}:${channel}`).digest('hex');
}

/** Whether `proof` is the proof for `token`, `nonce` and `channel` (constant time). */
export function proofMatches(proof: unknown, token: string, nonce: string, channel: string): boolean {
  return typeof proof === 'string' && tokensEqual(proof, proofOfToken(token, nonce, channel));
}

/** The token of an "Authorization: Bearer <token>" header, or null. */
export function bearerToken(header: string | undefined): string | null {
  const match = /^Bearer (\S+)$/.exec(header ?? '');
  return match ? (match[1] as string) : null;
}
