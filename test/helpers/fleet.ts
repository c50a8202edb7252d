// Starting a `tttnn serve` fleet as a child process (tests and benchmarks)
// and waiting until every server has appended its address.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readAddresses } from '../../src/retrieval/addresses.js';

const CLI = new URL('../../../bin/tttnn.js', import.meta.url).pathname;

export interface FleetProcess {
  process: ChildProcess;
  addresses: string[];
  stop(): Promise<void>;
}

export async function startFleetProcess(options: { data: string; index: string; slices: number; replicas: number; addresses: string; tokenFile: string; extraArgs?: string[] }): Promise<FleetProcess> {
  const child = spawn(
    process.execPath,
    [CLI, 'serve', '--data', options.data, '--index', options.index, '--slices', String(options.slices), '--replicas', String(options.replicas), '--addresses', options.addresses, '--token-file', options.tokenFile, ...(options.extraArgs ?? [])],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const want = options.slices * options.replicas;
  const deadline = Date.now() + 120_000;
  while (!(existsSync(options.addresses) && readAddresses(options.addresses).length >= want)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGTERM');
      throw new Error(`the fleet did not start: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    process: child,
    addresses: readAddresses(options.addresses),
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
