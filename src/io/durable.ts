// Writes that survive a crash or a power loss whole or not at all: data goes
// to a temporary file, is flushed to the disk (fsync), then renamed over the
// real name, and the directory is flushed so that the rename itself is on
// disk. A short write (a full disk) is an error, never a silently truncated file.
import { closeSync, fsyncSync, linkSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { withPath } from './path-errors.js';

/** Writes all of `bytes` at the file's current position; a write that makes no progress is an error. */
export function writeAll(fd: number, bytes: Uint8Array, path: string): void {
  let done = 0;
  while (done < bytes.length) {
    const n = withPath(path, 'write', () => writeSync(fd, bytes, done, bytes.length - done));
    if (n <= 0) throw new Error(`${path}: short write (${done} of ${bytes.length} bytes); is the disk full?`);
    done += n;
  }
}

/** fsync of a file or a directory by path (a directory's fsync makes renames and creations in it durable). */
export function syncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * A fresh temporary name beside `path` for a durable write of it (a crash may
 * leave it; it is never read). Random as well as per process: writers on
 * other hosts of a shared filesystem, or in containers that are all pid 1,
 * never share one.
 */
function temporaryPath(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
}

/** Renames a complete, flushed `temporary` over `path` and flushes the directory. */
export function commitRename(temporary: string, path: string): void {
  renameSync(temporary, path);
  syncPath(dirname(path));
}

/** Writes `data` to `path` durably: temporary file, fsync, rename, fsync of the directory. */
export function writeFileDurably(path: string, data: string | Uint8Array): void {
  writeDurably(path, (fd, temporary) => writeAll(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data, temporary));
}

/** Runs `write` on a fresh temporary file beside `path` (opened exclusively: never another writer's), then replaceDurably. */
export function writeDurably(path: string, write: (fd: number, temporary: string) => void): void {
  replaceDurably(path, (temporary) => {
    const fd = openSync(temporary, 'wx');
    try {
      write(fd, temporary);
    } finally {
      closeSync(fd);
    }
  });
}

/**
 * Has `produce` write a fresh temporary file beside `path` by its name (for
 * writers that take a path, such as FAISS), then flushes it and renames it
 * over `path`; on any error the temporary file is removed and `path` is left
 * as it was.
 */
export function replaceDurably(path: string, produce: (temporary: string) => void): void {
  const temporary = temporaryPath(path);
  try {
    produce(temporary);
    syncPath(temporary);
    commitRename(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}

/**
 * Creates `path` with `data` durably unless it exists: true when this call
 * created it, false when it was already there (left as it was). The file is
 * written and flushed under a temporary name, then hard-linked into place,
 * which fails when the name exists: of writers racing to create it (ranks
 * starting at once), exactly one wins, and none ever sees half a file.
 */
export function createDurably(path: string, data: string): boolean {
  const temporary = temporaryPath(path);
  try {
    const fd = openSync(temporary, 'wx');
    try {
      writeAll(fd, Buffer.from(data, 'utf8'), temporary);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    try {
      linkSync(temporary, path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw error;
    }
    syncPath(dirname(path));
    return true;
  } finally {
    rmSync(temporary, { force: true });
  }
}
