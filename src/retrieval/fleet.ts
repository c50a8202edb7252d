// Running a fleet: N slices x R replicas of shard servers for one data file,
// each its own process (shard-process.ts), reporting ready over IPC after
// it has appended its address. The parent forwards SIGINT/SIGTERM to every
// server and returns when all have stopped.
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { FaissIndex, indexFileBegin, sliceRanges, splitIndex } from '../index/index.js';
import { serverOptionsOf, type ServerOptions } from './server-options.js';
import { SHARD_PROCESS_ENTRY, type ShardProcessOptions } from './shard-process.js';

export interface FleetOptions extends ServerOptions {
  /** <datafile>.index (a Flat one is split into slices as needed). */
  index: string;
  slices: number;
  replicas: number;
  /** 0: any free port. A fixed port is used by the first server only, the rest count up from it. */
  port: number;
  /** Line of the data file where the index starts (default: indexFileBegin, from the name index build gives a --begin slice). */
  begin?: number;
  log?: (line: string) => void;
}

export interface ShardPlan {
  index: string;
  begin: number;
  /** Vectors of the whole index, all slices (set when there are several). */
  fileVectors?: number;
}

/**
 * The slice files for `slices` (split from a Flat index when missing), for an
 * index whose first vector is line `base` of the data file.
 */
export function planShards(indexPath: string, slices: number, base = 0): ShardPlan[] {
  if (slices === 1) return [{ index: indexPath, begin: base }]; // one slice knows its own extent
  const index = FaissIndex.read(indexPath);
  const total = index.size;
  index.dispose();
  const stem = indexPath.endsWith('.index') ? indexPath.slice(0, -'.index'.length) : indexPath;
  const plans = sliceRanges(total, slices).map(([begin, end]) => ({ index: `${stem}-${begin}-${end}.index`, begin: base + begin, fileVectors: base + total }));
  if (plans.some((p) => !existsSync(p.index))) splitIndex(indexPath, slices);
  return plans;
}

export async function runFleet(options: FleetOptions): Promise<void> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const plans = planShards(options.index, options.slices, options.begin ?? indexFileBegin(options.data, options.index));
  const children: ChildProcess[] = [];
  const exited: Promise<void>[] = [];
  const stopAll = (): void => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  };
  process.on('SIGINT', stopAll);
  process.on('SIGTERM', stopAll);
  let n = 0;
  const ready: Promise<string>[] = [];
  for (const plan of plans) {
    for (let replica = 0; replica < options.replicas; replica++) {
      // Every server option as given (server-options.ts), and this server's slice, replica and port.
      const shard: ShardProcessOptions = {
        ...serverOptionsOf(options), index: plan.index, begin: plan.begin, fileVectors: plan.fileVectors, replica, port: options.port === 0 ? 0 : options.port + n,
      };
      n++;
      const child = fork(SHARD_PROCESS_ENTRY, [JSON.stringify(shard)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      children.push(child);
      exited.push(new Promise((resolve) => child.once('exit', () => resolve())));
      ready.push(
        new Promise((resolve, reject) => {
          child.once('message', (message: { ready?: string }) => (message.ready ? resolve(message.ready) : reject(new Error('bad message'))));
          child.once('exit', (code) => reject(new Error(`shard server for ${plan.index} (replica ${replica}) exited with code ${code} before it was ready`)));
        }),
      );
    }
  }
  try {
    const addresses = await Promise.all(ready);
    log(`serve: ${plans.length} slice(s) x ${options.replicas} replica(s) ready: ${addresses.join(' ')}`);
  } catch (error) {
    stopAll();
    await Promise.all(exited);
    throw error;
  }
  await Promise.all(exited);
  process.off('SIGINT', stopAll);
  process.off('SIGTERM', stopAll);
  log('serve: all shard servers stopped');
}
