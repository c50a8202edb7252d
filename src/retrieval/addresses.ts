// The addresses file: one host:port per line, the original's format. Each
// server appends its own line once it is ready to answer. A line is written
// with a single O_APPEND write, which the kernel does not interleave with
// other appends, so many servers starting at once leave no torn lines.
import { closeSync, existsSync, openSync, writeSync } from 'node:fs';
import { hostname, networkInterfaces } from 'node:os';
import { readTextFile, withPath } from '../io/path-errors.js';

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
  const fd = withPath(file, 'write', () => openSync(file, 'a'));
  try {
    withPath(file, 'write', () => writeSync(fd, `${address}\n`));
  } finally {
    closeSync(fd);
  }
}

/** Why `address` (line `where`) cannot be connected to, or undefined when it can. */
function addressProblem(address: string, where: string): string | undefined {
  if (!/^[\w.-]+:\d{1,5}$/.test(address) && !/^\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(address)) return `${where}: "${address}" is not host:port`;
  const port = Number(address.slice(address.lastIndexOf(':') + 1));
  if (port < 1 || port > 65535) return `${where}: "${address}" has port ${port}, not one from 1 to 65535 (port 0 only asks the system for a free one when listening; give the port the server reports)`;
  if (isUnspecifiedHost(address.slice(0, address.lastIndexOf(':')))) {
    return `${where}: "${address}" is a listening address (all interfaces), not one a client can reach; serve with --advertise-host <name or address of that machine>`;
  }
  return undefined;
}

export function readAddresses(file: string): string[] {
  if (!existsSync(file)) throw new Error(`${file}: no addresses file (start servers with tttnn serve first)`);
  const lines: string[] = [];
  readTextFile(file).split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line.length === 0 || line.startsWith('#')) return;
    const problem = addressProblem(line, `${file}:${i + 1}`); // the line number in the file, comments and blank lines counted
    if (problem) throw new Error(problem);
    lines.push(line);
  });
  return [...new Set(lines)];
}

/** A comma-separated list of host:port, hosts being addresses or DNS names (a Kubernetes headless Service's pods). */
export function parseAddressList(list: string): string[] {
  const items = list.split(',').map((a) => a.trim()).filter((a) => a.length > 0);
  if (items.length === 0) throw new Error('--addresses: an empty list');
  for (const item of items) {
    const problem = addressProblem(item, '--addresses');
    if (problem) throw new Error(problem);
  }
  return [...new Set(items)];
}

/**
 * What --addresses names: an addresses file when one exists at that path,
 * otherwise a comma-separated list of host:port (stable DNS names replace the
 * file where the scheduler gives servers names, as Kubernetes does).
 */
export function resolveAddresses(spec: string): string[] {
  return isAddressList(spec) ? parseAddressList(spec) : readAddresses(spec);
}

/** Whether --addresses is a list of host:port rather than a file (an existing file always wins). */
export function isAddressList(spec: string): boolean {
  return !existsSync(spec) && /^[\w.[\]:-]+:\d{1,5}(,|$)/.test(spec.trim());
}
