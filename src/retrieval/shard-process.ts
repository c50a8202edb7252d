// One shard-server process, as `tttnn serve` forks it: opens the slice's
// index and the data file, checks that they belong together, starts the
// server, appends its address to the addresses file and reports ready over
// IPC. SIGTERM/SIGINT close it gracefully (in-flight requests finish).
//
// The fleet forks this module directly (its options as one JSON argument),
// so a server does not go through the command line's parser; the hidden
// `tttnn serve-shard` calls runShardProcess with the same options.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DocumentStore } from '../data/document-store.js';
import { FaissIndex, checkIndexMatchesData, readRecipe } from '../index/index.js';
import { appendAddress } from './addresses.js';
import { readToken } from './auth.js';
import { startShardServer } from './shard-server.js';
import { serverLimitsOf, type ServerOptions } from './server-options.js';
import { readPemFile } from './transport.js';

/** The certificate and key files of ServerOptions, read and checked to be PEM. */
export function readServerTls(settings: Pick<ServerOptions, 'tlsCert' | 'tlsKey'>): { cert: string; key: string } | undefined {
  const { tlsCert, tlsKey } = settings;
  if (tlsCert === undefined && tlsKey === undefined) return undefined;
  if (tlsCert === undefined || tlsKey === undefined) throw new Error('--tls-cert and --tls-key go together: give both (or neither, for plain HTTP)');
  return { cert: readPemFile(tlsCert, 'certificate'), key: readPemFile(tlsKey, 'private key') };
}

/** One server: the options every server of its fleet shares, and its own slice, replica and port. */
export interface ShardProcessOptions extends ServerOptions {
  /** The slice's index file. */
  index: string;
  /** Line number of the slice's first vector. */
  begin: number;
  replica: number;
  port: number;
  /** Vectors of the file's whole index, all slices (the fleet knows it; see protocol.ts HealthResponse). */
  fileVectors?: number;
}

/** Serves the slice until the server is shut down, then frees the index and the data file. */
export async function runShardProcess(o: ShardProcessOptions): Promise<void> {
  const token = readToken(o.tokenFile);
  const tls = readServerTls(o);
  const index = FaissIndex.read(o.index, { mmap: o.mmap });
  for (const [name, value] of Object.entries(o.searchParam)) {
    try {
      index.setParameter(name, value);
    } catch (error) {
      throw new Error(`${o.index}: --search-param ${name}=${value}: ${(error as Error).message}`);
    }
  }
  if (o.nprobe !== undefined) {
    const given = o.searchParam['nprobe'];
    if (given !== undefined && given !== o.nprobe) throw new Error(`--nprobe ${o.nprobe} and --search-param nprobe=${given} disagree: give one`);
    try {
      index.setParameter('nprobe', o.nprobe);
    } catch (error) {
      throw new Error(`${o.index}: --nprobe ${o.nprobe}: ${(error as Error).message} (nprobe applies to IVF indexes; this one is ${index.info.type})`);
    }
  }
  const store = await DocumentStore.open(o.data, { maxLineBytes: o.maxLineBytes });
  checkIndexMatchesData(index, o.index, store, o.begin);
  const modelFile = join(dirname(o.index), 'embedding_model.txt');
  const embeddingModel = existsSync(modelFile) ? readFileSync(modelFile, 'utf8').trim() : 'unknown';
  const embedding = readRecipe(o.index); // embedding.json beside it, when the index build recorded one
  const server = await startShardServer({ index, store, begin: o.begin, replica: o.replica, token, embeddingModel, embedding, host: o.host, port: o.port, advertiseHost: o.advertiseHost, fileVectors: o.fileVectors, tls, limits: serverLimitsOf(o) });
  try {
    appendAddress(o.addresses, server.address);
  } catch (error) {
    // Unregistered, the server would listen forever with no client able to find it: stop it and fail.
    await server.close();
    index.dispose();
    store.close();
    throw new Error(`${o.addresses}: cannot register ${server.address} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); the server stopped`);
  }
  process.send?.({ ready: server.address });
  const stop = (): void => void server.close();
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  await server.closed;
  index.dispose();
  store.close();
  process.disconnect?.();
}

/** The file to fork: `fork(SHARD_PROCESS_ENTRY, [JSON.stringify(options)])`. */
export const SHARD_PROCESS_ENTRY = fileURLToPath(import.meta.url);

if (process.argv[1] === SHARD_PROCESS_ENTRY) {
  runShardProcess(JSON.parse(process.argv[2] as string) as ShardProcessOptions).catch((error: unknown) => {
    process.stderr.write(`tttnn: ${(error as Error).message}\n`);
    process.exitCode = 1;
  });
}
