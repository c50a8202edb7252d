// The addresses file: one host:port per line, the original's format. Each
// server appends its own line once it is ready to answer. A line is written
// with a single O_APPEND write, which the kernel does not interleave with
// other appends, so many servers starting at once leave no torn lines.
import { closeSync, existsSync, openSync, readFileSync, writeSync } from 'node:fs';

export function appendAddress(file: string, address: string): void {
  const fd = openSync(file, 'a');
  try {
    writeSync(fd, `${address}\n`);
  } finally {
    closeSync(fd);
  }
}

export function readAddresses(file: string): string[] {
  if (!existsSync(file)) throw new Error(`${file}: no addresses file (start servers with tttnn serve first)`);
  const lines = readFileSync(file, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l.length > 0 && !l.startsWith('#'));
  for (const [i, line] of lines.entries()) {
    if (!/^[\w.-]+:\d{1,5}$/.test(line) && !/^\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(line)) throw new Error(`${file}:${i + 1}: "${line}" is not host:port`);
  }
  return [...new Set(lines)];
}
