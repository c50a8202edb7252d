// File-system errors that name the file. Node's EISDIR from readFileSync, or
// ENOSPC/ESPIPE from writeSync on a descriptor, carry no path: "EISDIR:
// illegal operation on a directory, read" leaves the user to guess which of
// a command's files is meant (issue 35). Every read or write of a file a user
// names goes through here, or catches and names the path itself.
import { readFileSync } from 'node:fs';

/** What to do about the common errno codes of reading or writing a named file. */
const FIXES: Record<string, string> = {
  EISDIR: 'it is a directory: give a file',
  ENOTDIR: 'a part of the path is not a directory',
  ENOENT: 'no such file: check the path',
  EACCES: 'permission denied: check its mode and owner',
  EPERM: 'operation not permitted: check its mode and owner',
  ENOSPC: 'the disk is full: free space or write elsewhere',
  EDQUOT: 'the disk quota is exceeded: free space or write elsewhere',
  ESPIPE: 'it is a pipe or socket, which cannot be read by position: save its contents to a regular file first',
  EFBIG: 'the file is larger than the file system allows',
  EROFS: 'the file system is read-only: write elsewhere',
};

/** `error` as an Error naming `path` and what to do (unchanged when it already names the path or is not an fs error). */
export function namingPath(error: unknown, path: string, action: 'read' | 'write' | 'use'): Error {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (!(error instanceof Error) || code === undefined || error.message.includes(path)) return error instanceof Error ? error : new Error(String(error));
  const fix = FIXES[code];
  return new Error(`${path}: cannot ${action} it (${code}${fix === undefined ? `: ${error.message}` : `; ${fix}`})`, { cause: error });
}

/** Runs `io` (a read or write of `path`), naming the path on a file-system error. */
export function withPath<T>(path: string, action: 'read' | 'write', io: () => T): T {
  try {
    return io();
  } catch (error) {
    throw namingPath(error, path, action);
  }
}

/** readFileSync as text, naming the path on error. */
export function readTextFile(path: string): string {
  return withPath(path, 'read', () => readFileSync(path, 'utf8'));
}
