// Files tttnn reads whole or seeks in must be regular files: opening a FIFO
// for reading waits for a writer forever, /dev/zero never ends, a directory
// fails later with an error that does not name it (issue 35).
import { statSync } from 'node:fs';

/** Throws, naming `path`, what it is and the fix, unless it is a regular file (following links). `what` names the flag, e.g. "--data". */
export function requireRegularFile(path: string, what: string): void {
  let kind: string;
  try {
    const stat = statSync(path);
    if (stat.isFile()) return;
    kind = stat.isDirectory() ? 'a directory' : stat.isFIFO() ? 'a FIFO (named pipe)' : stat.isCharacterDevice() || stat.isBlockDevice() ? 'a device' : stat.isSocket() ? 'a socket' : 'not a regular file';
  } catch (error) {
    throw new Error(`${path}: cannot read ${what} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  throw new Error(`${path}: ${what} is ${kind}, not a regular file; give a file (a pipe or device would be waited on or read without end: save its contents to a file first)`);
}
