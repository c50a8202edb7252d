// Waiting until N shard servers answer: what a batch job that depends on a
// fleet started elsewhere (a Slurm job, Kubernetes pods) does before it
// evaluates, instead of a hand-rolled sleep loop. The servers come from an
// addresses file that fills up as they register (Slurm: on the shared
// filesystem), or from a fixed list of names that resolve once the pods exist
// (Kubernetes); either way an address counts once it answers /v1/health.
import { existsSync } from 'node:fs';
import { isAddressList, parseAddressList, readAddresses } from './addresses.js';
import { health, ping } from './client.js';
import type { Transport } from './transport.js';

export interface WaitOptions {
  /** An addresses file, or a comma-separated list of host:port (see addresses.ts resolveAddresses). */
  addresses: string;
  /** Servers that must answer. */
  count: number;
  timeoutMs: number;
  /** With a token, a server counts only once it proves it holds it (a stale address does not count). */
  token?: string;
  /** HTTPS with the fleet's CA (tttnn probe --ca); plain HTTP by default. */
  transport?: Transport;
  intervalMs?: number;
  /** Called after every round that changed the count, e.g. "3 of 4 servers answer". */
  progress?: (up: number, listed: number) => void;
}

/** The addresses listed so far: none while the file does not exist yet (the servers have not started). */
function listed(spec: string): string[] {
  if (isAddressList(spec)) return parseAddressList(spec);
  return existsSync(spec) ? readAddresses(spec) : [];
}

async function answering(addresses: string[], token: string | undefined, transport: Transport): Promise<string[]> {
  const timeout = 2000;
  const results = await Promise.allSettled(addresses.map((a) => (token ? health(a, token, timeout, transport) : ping(a, timeout, transport))));
  return addresses.filter((_, i) => results[i]!.status === 'fulfilled');
}

/**
 * Resolves with the addresses that answer once at least `count` do; rejects
 * after `timeoutMs` naming how many answered and which did not.
 */
export async function waitForServers(o: WaitOptions): Promise<string[]> {
  if (!Number.isInteger(o.count) || o.count < 1) throw new Error(`--wait must be a positive integer, got ${o.count}`);
  const deadline = Date.now() + o.timeoutMs;
  const interval = o.intervalMs ?? 1000;
  let last = '';
  for (;;) {
    const all = listed(o.addresses);
    const up = await answering(all, o.token, o.transport ?? {});
    const state = `${up.length}/${all.length}`;
    if (state !== last) o.progress?.(up.length, all.length);
    last = state;
    if (up.length >= o.count) return up;
    if (Date.now() + interval > deadline) {
      const down = all.filter((a) => !up.includes(a));
      throw new Error(
        `${o.addresses}: ${up.length} of the ${o.count} servers waited for answer after ${Math.round(o.timeoutMs / 1000)} s` +
          ` (${all.length} listed${down.length > 0 ? `; not answering: ${down.slice(0, 5).join(' ')}${down.length > 5 ? ' …' : ''}` : ''})`,
      );
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}
