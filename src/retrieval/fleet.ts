// Running a fleet: N slices x R replicas of shard servers for one data file,
// each its own process (shard-process.ts), reporting ready over IPC after
// it has appended its address. The parent forwards SIGINT/SIGTERM to every
// server and returns when all have stopped.
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { FaissIndex, sliceRanges, splitIndex } from '../index/index.js';
import { SHARD_PROCESS_ENTRY, type ServerSettings, type ShardProcessOptions } from './shard-process.js';

export interface FleetOptions extends ServerSettings {
  /** <datafile>.index (a Flat one is split into slices as needed). */
  index: string;
  slices: number;
  replicas: number;
  /** 0: any free port. A fixed port is used by the first server only, the rest count up from it. */
  port: number;
  /** FAISS search parameters set on every server's index (nprobe, efSearch, ...). */
  searchParam?: Record<string, number>;
  log?: (line: string) => void;
}

export interface ShardPlan {
  index: string;
  begin: number;
  /** Vectors of the whole index, all slices (set when there are several). */
  fileVectors?: number;
}

/** The slice files for `slices` (split from a Flat <datafile>.index when missing). */
export function planShards(indexPath: string, slices: number): ShardPlan[] {
  if (slices === 1) return [{ index: indexPath, begin: 0 }]; // one slice knows the whole extent itself
  const index = FaissIndex.read(indexPath);
  const total = index.size;
  index.dispose();
  const stem = indexPath.endsWith('.index') ? indexPath.slice(0, -'.index'.length) : indexPath;
  const plans = sliceRanges(total, slices).map(([begin, end]) => ({ index: `${stem}-${begin}-${end}.index`, begin, fileVectors: total }));
  if (plans.some((p) => !existsSync(p.index))) splitIndex(indexPath, slices);
  return plans;
}

export async function runFleet(options: FleetOptions): Promise<void> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const plans = planShards(options.index, options.slices);
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
      const shard: ShardProcessOptions = {
        data: options.data, index: plan.index, begin: plan.begin, replica, addresses: options.addresses, tokenFile: options.tokenFile,
        host: options.host, advertiseHost: options.advertiseHost, fileVectors: plan.fileVectors, port: options.port === 0 ? 0 : options.port + n, mmap: options.mmap, searchParam: options.searchParam ?? {},
        tlsCert: options.tlsCert, tlsKey: options.tlsKey, maxConnections: options.maxConnections,
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
