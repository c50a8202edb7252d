// The addresses file: one host:port per line, the original's format. Each
// server appends its own line once it is ready to answer. A line is written
// with a single O_APPEND write, which the kernel does not interleave with
// other appends, so many servers starting at once leave no torn lines.
import { closeSync, existsSync, openSync, readFileSync, writeSync } from 'node:fs';
import { hostname, networkInterfaces } from 'node:os';

/** 0.0.0.0 or :: (any spelling): an address servers listen on, never one to connect to. */
export function isUnspecifiedHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '');
  return bare === '0.0.0.0' || (/^[0:]+$/.test(bare) && bare.includes(':'));
}

/**
 * The host a server listening on `host` tells its clients: `advertise` when
 * given; for an unspecified host (0.0.0.0, ::) this machine's first
 * non-internal IPv4 address (else its hostname); otherwise `host` itself.
 */
export function advertisedHost(host: string, advertise?: string): string {
  if (advertise) return advertise;
  if (!isUnspecifiedHost(host)) return host;
  const external = Object.values(networkInterfaces()).flat().find((a) => a && a.family === 'IPv4' && !a.internal);
  return external?.address ?? hostname();
}

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
    if (isUnspecifiedHost(line.slice(0, line.lastIndexOf(':')))) {
      throw new Error(`${file}:${i + 1}: "${line}" is a listening address (all interfaces), not one a client can reach; serve with --advertise-host <name or address of that machine>`);
    }
  }
  return [...new Set(lines)];
}
