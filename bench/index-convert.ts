// `npm run bench:index-convert`: converting a Flat index file to compressed
// ones with `tttnn index convert`, and what each loses (`tttnn index recall`).
//
// The input is written here as the original's files are (faiss.write_index
// of an IndexFlatL2: header, then N x 1024 float32s), streamed to disk in
// chunks: synthetic document embeddings with a realistic spectrum — 2,000
// topics in a 256-dimensional latent space whose per-direction spread decays
// as a power law (j^-0.8, as embedding PCA spectra do), mapped into 1024
// dimensions by a fixed random projection, plus isotropic noise.
//
// For each factory string, in its own process (so that its peak RSS is its
// own): conversion seconds per million vectors, peak RSS, bytes per vector;
// then recall@1/10/50, top-50 overlap and ms per query (one query at a time,
// as a shard server answers) at each nprobe, from held-out queries; then a
// shard server (`tttnn serve-shard`, over a data file of N one-word
// documents) on the converted index at the sweep's middle nprobe: its load
// seconds, the held-out queries through it (k = 50, over HTTP, one at a time)
// and its peak RSS — the RAM a server of that many vectors needs (for IVF-PQ
// it includes FAISS's precomputed distance table, nlist x M x 256 floats,
// built when the index loads, whatever N is).
//
// BENCH_VECTORS (default 300,000), BENCH_FACTORIES (';'-separated), BENCH_NPROBE
// (default 8,32,128), BENCH_QUERIES (default 200), BENCH_TRAIN_PER_LIST (training
// vectors per IVF list, default 64; FAISS warns below 39), BENCH_DIR (default a
// temporary directory, removed at the end unless BENCH_KEEP=1).
import { closeSync, createWriteStream, mkdtempSync, openSync, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeEngine, embedding, keep, manualSeed, randint, randn, tensor, tidy } from '../src/engine/index.js';
import { connectFleet } from '../src/cli/fleet-options.js';
import { readFlatLayout } from '../src/index/index-file-check.js';
import { readVectors } from '../src/index/vector-file.js';
import { writeAll } from '../src/io/durable.js';
import { writeNewToken } from '../src/retrieval/auth.js';
import { formatTable } from './helpers.js';
import { loadLine, machineLine, peakRssBytes, startServer, stopServer, tttnnLastLine as tttnn } from './tttnn-cli.js';

const D = 1024;
const LATENT = 256;
const TOPICS = 2000;
const N = Number(process.env['BENCH_VECTORS'] ?? 300_000);
const QUERIES = Number(process.env['BENCH_QUERIES'] ?? 200);
const NPROBE = process.env['BENCH_NPROBE'] ?? '8,32,128';
const TRAIN_PER_LIST = Number(process.env['BENCH_TRAIN_PER_LIST'] ?? 64);
// IVF in front of SQ8 too: an exhaustive SQ8 scan decodes every vector per query (Debian's FAISS is built for baseline x86-64).
const FACTORIES = (process.env['BENCH_FACTORIES'] ?? 'IVF1024,SQ8;PCAR256,IVF1024,SQ8;PCAR128,IVF1024,PQ64np').split(';');
const dir = process.env['BENCH_DIR'] ?? mkdtempSync(join(tmpdir(), 'tttnn-bench-convert-'));

const structure = tidy(() => {
  manualSeed(11);
  return {
    centres: keep(randn([TOPICS, LATENT])),
    scales: keep(tensor(Float32Array.from({ length: LATENT }, (_, j) => 0.6 * (j + 1) ** -0.8))),
    projection: keep(randn([LATENT, D]).div(Math.sqrt(LATENT / 4))),
  };
});

/** Writes n synthetic vectors as an IndexFlatL2 file, FAISS's layout (impl/index_write.cpp), 20,000 at a time. */
function writeFlatFile(path: string, n: number, seed: number): void {
  const header = Buffer.alloc(4 + 4 + 8 + 8 + 8 + 1 + 4 + 8);
  let at = header.write('IxF2', 0, 'latin1');
  at = header.writeInt32LE(D, at);
  at = header.writeBigInt64LE(BigInt(n), at);
  at = header.writeBigInt64LE(1n << 20n, at); // FAISS's two dummy fields
  at = header.writeBigInt64LE(1n << 20n, at);
  at = header.writeUInt8(1, at); // is_trained
  at = header.writeInt32LE(1, at); // METRIC_L2
  header.writeBigInt64LE(BigInt(n) * BigInt(D), at); // the float count of the codes vector
  const fd = openSync(path, 'w');
  try {
    writeAll(fd, header, path);
    manualSeed(seed);
    for (let start = 0; start < n; start += 20_000) {
      const m = Math.min(20_000, n - start);
      const chunk = tidy(() => {
        const latent = embedding(structure.centres, randint(0, TOPICS, [m])).add(randn([m, LATENT]).mul(structure.scales));
        return latent.matmul(structure.projection).add(randn([m, D]).mul(0.05)).toTypedArray() as Float32Array;
      });
      writeAll(fd, new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength), path);
    }
  } finally {
    closeSync(fd);
  }
}

/** A data file of n one-word documents: what a shard server over an n-vector index needs beside it (8 bytes of offsets per line in memory). */
async function writeDataFile(path: string, n: number): Promise<void> {
  const out = createWriteStream(path);
  for (let i = 0; i < n; i += 10_000) {
    const lines = Array.from({ length: Math.min(10_000, n - i) }, (_, j) => `{"text":"v${i + j}"}\n`).join('');
    if (!out.write(lines)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

/** A shard server on `index`: seconds until it serves, ms per k = 50 query through it, and its peak RSS after the queries. */
async function measureServer(data: string, index: string, queryVectors: Float32Array, nprobe: number | undefined): Promise<{ loadSeconds: number; msPerQuery: number; peakRssBytes: number }> {
  const tokenFile = join(dir, 'token');
  const addresses = join(dir, 'addresses.txt');
  writeNewToken(tokenFile);
  const started = performance.now();
  const server = await startServer('serve-shard', { data, index, tokenFile, addresses, nprobe });
  try {
    const loadSeconds = (performance.now() - started) / 1000;
    const client = await connectFleet({ addresses, tokenFile });
    const t0 = performance.now();
    for (let q = 0; q < QUERIES; q++) await client.search(queryVectors.subarray(q * D, (q + 1) * D), 50);
    return { loadSeconds, msPerQuery: (performance.now() - t0) / QUERIES, peakRssBytes: peakRssBytes(server.pid!) };
  } finally {
    await stopServer(server);
  }
}

console.log(`${machineLine()}\n${describeEngine()}`);

const flat = join(dir, '00.jsonl.index');
const queries = join(dir, 'queries.index');
let t = performance.now();
writeFlatFile(flat, N, 1);
writeFlatFile(queries, QUERIES, 2);
const data = join(dir, '00.jsonl');
await writeDataFile(data, N);
const queryVectors = readVectors({ path: queries, offset: readFlatLayout(queries).dataOffset, d: D }, 0, QUERIES);
console.log(`wrote ${N} x ${D} Flat vectors (${(statSync(flat).size / 2 ** 30).toFixed(2)} GiB) in ${((performance.now() - t) / 1000).toFixed(0)} s: ${flat}`);

const rows: (string | number)[][] = [];
const serverRows: (string | number)[][] = [];
const sweep = NPROBE.split(',').map(Number);
const serverNprobe = sweep[Math.floor(sweep.length / 2)];
for (const factory of FACTORIES) {
  const nlist = Number(/IVF(\d+)/.exec(factory)?.[1] ?? 0);
  // FAISS asks for 39 training vectors per list at least; 64 here unless BENCH_TRAIN_PER_LIST says, and 50,000 for the PCA/PQ/SQ alone.
  const sample = Math.min(N, Math.max(50_000, TRAIN_PER_LIST * nlist));
  t = performance.now();
  const out = join(dir, factory.replace(/[^A-Za-z0-9]+/g, '_'));
  const result = JSON.parse(tttnn(['index', 'convert', '--input', flat, '--factory', factory, '--out', out, '--train-sample', String(sample), '--chunk-vectors', '32768'])) as {
    path: string; seconds: number; trainSeconds: number; bytes: number; trainedBytes: number; peakRssBytes: number;
  };
  // Per vector: what grows with N (codes and ids), apart from the trained structures (PCA matrix, centroids, codebooks).
  const perVector = (result.bytes - result.trainedBytes) / N;
  const report = JSON.parse(tttnn(['index', 'recall', '--exact', flat, '--approx', result.path, '--query-index', queries, '--queries', String(QUERIES), ...(nlist ? ['--nprobe', NPROBE] : []), '--json'])) as {
    rows: { setting: string; recallAt1: number; recallAt10: number; recallAt50: number; overlapAt50: number; msPerQuery: number; pareto: boolean }[];
  };
  for (const row of report.rows) {
    rows.push([factory, String(sample), result.trainSeconds, (result.seconds - result.trainSeconds) / (N / 1e6), result.peakRssBytes / 2 ** 20, (result.trainedBytes / 2 ** 20).toFixed(1), perVector, row.setting, row.recallAt1, row.recallAt10, row.recallAt50, row.overlapAt50, row.msPerQuery, 1000 / row.msPerQuery, row.pareto ? '*' : '']);
  }
  // Each factory's rows as soon as it is measured: a long run at the Pile's list counts keeps what it finished.
  console.log(`${factory}: trained ${result.trainSeconds.toFixed(0)} s, ${result.seconds.toFixed(0)} s in all, ${perVector.toFixed(1)} bytes/vector, peak RSS ${(result.peakRssBytes / 2 ** 20).toFixed(0)} MiB; ${report.rows.map((r) => `${r.setting}: recall@50 ${r.recallAt50.toFixed(3)}, overlap@50 ${r.overlapAt50.toFixed(3)}, ${r.msPerQuery.toFixed(2)} ms/query`).join('; ')} (${loadLine()})`);
  const server = await measureServer(data, result.path, queryVectors, nlist ? serverNprobe : undefined);
  serverRows.push([factory, nlist ? String(serverNprobe) : '—', server.loadSeconds, server.msPerQuery, server.peakRssBytes / 2 ** 20, (server.peakRssBytes - result.bytes) / 2 ** 20]);
  console.log(`${factory}: a shard server on it loads in ${server.loadSeconds.toFixed(1)} s, answers k = 50 in ${server.msPerQuery.toFixed(2)} ms (nprobe ${serverNprobe}), peak RSS ${(server.peakRssBytes / 2 ** 20).toFixed(0)} MiB`);
  rmSync(out, { recursive: true, force: true });
}
console.log(`\n${N} x ${D} vectors (Flat: ${(statSync(flat).size / N).toFixed(1)} bytes/vector), ${QUERIES} held-out queries, k = 50`);
console.log(formatTable(['factory', 'train sample', 'train s', 'add s per 1M', 'peak RSS MiB', 'trained MiB', 'bytes/vector', 'search', 'recall@1', 'recall@10', 'recall@50', 'overlap@50', 'ms/query', 'QPS', 'pareto'], rows));
console.log(`\nA shard server (tttnn serve-shard) on each converted index, over a data file of ${N} documents; ${QUERIES} queries, k = 50, one at a time over HTTP`);
console.log(formatTable(['factory', 'nprobe', 'load s', 'ms/query', 'peak RSS MiB', 'RSS beyond the index file MiB'], serverRows));
console.log(`after: ${loadLine()}`);
if (process.env['BENCH_KEEP'] !== '1' && process.env['BENCH_DIR'] === undefined) rmSync(dir, { recursive: true, force: true });
