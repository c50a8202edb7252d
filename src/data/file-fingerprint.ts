// What a data file was when something was derived from it (an offsets
// sidecar, a half-built index): its size, its modification time and a hash of
// its head. A file rewritten in place, even to the same size, or replaced by
// another, no longer matches, and what was derived from it is rebuilt rather
// than misread. (The hash covers the head only, so that checking a 100 GB
// file stays instant; size and mtime catch what changes further in.)
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { requireRegularFile } from './regular-file.js';

/** Bytes of the head that are hashed. */
export const FINGERPRINT_HEAD_BYTES = 1 << 16;

export interface FileFingerprint {
  size: number;
  /** Modification time in nanoseconds, as a decimal string (exact, unlike a float of milliseconds). */
  mtimeNs: string;
  /** SHA-256 of the first FINGERPRINT_HEAD_BYTES bytes, hex. */
  headSha256: string;
}

export function fileFingerprint(path: string): FileFingerprint {
  requireRegularFile(path, 'the data file');
  const fd = openSync(path, 'r');
  try {
    return openFileFingerprint(fd);
  } finally {
    closeSync(fd);
  }
}

/** The fingerprint of the file an open descriptor reads (what a reader holding it would read, even once the path names another file). */
export function openFileFingerprint(fd: number): FileFingerprint {
  const stat = fstatSync(fd, { bigint: true });
  const head = Buffer.alloc(Number(stat.size < BigInt(FINGERPRINT_HEAD_BYTES) ? stat.size : BigInt(FINGERPRINT_HEAD_BYTES)));
  let done = 0;
  while (done < head.length) {
    const n = readSync(fd, head, done, head.length - done, done);
    if (n === 0) break;
    done += n;
  }
  return { size: Number(stat.size), mtimeNs: stat.mtimeNs.toString(), headSha256: createHash('sha256').update(head.subarray(0, done)).digest('hex') };
}

/** What differs between two fingerprints, for messages ("size, head"); '' when they match. */
export function fingerprintChanges(was: FileFingerprint, now: FileFingerprint): string {
  const changed: string[] = [];
  if (was.size !== now.size) changed.push(`size ${was.size} -> ${now.size}`);
  if (was.mtimeNs !== now.mtimeNs) changed.push('modification time');
  if (was.headSha256 !== now.headSha256) changed.push('contents of its head');
  return changed.join(', ');
}
