// Benchmarks that measure commands as a user runs them: `tttnn ...` in its own
// process (so that its peak RSS is its own), and the line naming the machine.
import type { ChildProcess } from 'node:child_process';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { cpus } from 'node:os';
import { readAddresses } from '../src/retrieval/addresses.js';

/** bin/tttnn.js of this checkout (the compiled benchmarks run from dist/bench/). */
export const TTTNN_CLI = new URL('../../bin/tttnn.js', import.meta.url).pathname;

/** Runs `tttnn args` to the end and returns the last line it printed (the commands' --json / result line); throws with its stderr if it failed. */
export function tttnnLastLine(args: string[]): string {
  const run = spawnSync(process.execPath, [TTTNN_CLI, ...args], { encoding: 'utf8', maxBuffer: 1 << 26, env: { ...process.env, TTTNN_PROGRESS_SECONDS: '60' } });
  if (run.status !== 0) throw new Error(`tttnn ${args.join(' ')} failed (${run.status}):\n${run.stderr}`);
  return run.stdout.trim().split('\n').at(-1)!;
}

/** Runs `tttnn args` with its output shown (long commands: their progress lines), resolving when it exits 0. */
export function tttnnShown(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [TTTNN_CLI, ...args], { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, TTTNN_PROGRESS_SECONDS: '60' } });
    child.once('error', reject);
    child.once('exit', (code, signal) => (code === 0 ? resolve() : reject(new Error(`tttnn ${args.join(' ')} failed (${code ?? signal})`))));
  });
}

/** The CPU's name, family and model (lscpu's words; os.cpus() where lscpu is missing), and the load average now. */
export function machineLine(): string {
  const lscpu = spawnSync('lscpu', { encoding: 'utf8' }).stdout ?? '';
  const field = (name: string): string => new RegExp(`^${name}:\\s*(.+)$`, 'm').exec(lscpu)?.[1]?.trim() ?? '?';
  const name = field('Model name') === '?' ? (cpus()[0]?.model ?? 'unknown') : field('Model name');
  return `CPU: ${name} (family ${field('CPU family')} model ${field('Model')}), ${cpus().length} cores; ${loadLine()}`;
}

/** uptime's load averages, to read the seconds beside them with. */
export function loadLine(): string {
  return `load ${spawnSync('uptime', { encoding: 'utf8' }).stdout.trim().replace(/^.*load average:\s*/, '')}`;
}

/**
 * `tttnn serve` (a fleet: it forks its shard servers) or `tttnn serve-shard`
 * (one server in this child process, whose memory is then the child's) on
 * `index`, resolved once it has registered in `addresses`.
 */
export async function startServer(command: 'serve' | 'serve-shard', o: { data: string; index: string; tokenFile: string; addresses: string; nprobe?: number }): Promise<ChildProcess> {
  rmSync(o.addresses, { force: true });
  const args = [TTTNN_CLI, command, '--data', o.data, '--index', o.index, '--addresses', o.addresses, '--token-file', o.tokenFile, ...(o.nprobe ? ['--nprobe', String(o.nprobe)] : [])];
  const server = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  const deadline = Date.now() + 600_000; // loading a large index file takes a while
  while (!(existsSync(o.addresses) && readAddresses(o.addresses).length >= 1)) {
    if (server.exitCode !== null || Date.now() > deadline) {
      server.kill('SIGTERM');
      throw new Error(`tttnn ${command} on ${o.index} did not start`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return server;
}

export async function stopServer(server: ChildProcess): Promise<void> {
  if (server.exitCode !== null || server.signalCode !== null) return;
  const exited = new Promise<void>((r) => server.once('exit', () => r()));
  server.kill('SIGTERM');
  await exited;
}

/** A process's peak resident memory so far (Linux: VmHWM of /proc/<pid>/status), in bytes. */
export function peakRssBytes(pid: number): number {
  const kib = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  if (kib === undefined) throw new Error(`/proc/${pid}/status has no VmHWM line`);
  return Number(kib) * 1024;
}
