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
// as a shard server answers) at each nprobe, from held-out queries.
//
// BENCH_VECTORS (default 300,000), BENCH_FACTORIES (';'-separated), BENCH_NPROBE
// (default 8,32,128), BENCH_QUERIES (default 200), BENCH_DIR (default a temporary
// directory, removed at the end unless BENCH_KEEP=1).
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, statSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { embedding, getNumThreads, keep, manualSeed, randint, randn, tensor, tidy } from '../src/engine/index.js';
import { writeAll } from '../src/io/durable.js';
import { formatTable } from './helpers.js';

const D = 1024;
const LATENT = 256;
const TOPICS = 2000;
const N = Number(process.env['BENCH_VECTORS'] ?? 300_000);
const QUERIES = Number(process.env['BENCH_QUERIES'] ?? 200);
const NPROBE = process.env['BENCH_NPROBE'] ?? '8,32,128';
// IVF in front of SQ8 too: an exhaustive SQ8 scan decodes every vector per query (Debian's FAISS is built for baseline x86-64).
const FACTORIES = (process.env['BENCH_FACTORIES'] ?? 'IVF1024,SQ8;PCAR256,IVF1024,SQ8;PCAR128,IVF1024,PQ64np').split(';');
const CLI = new URL('../../bin/tttnn.js', import.meta.url).pathname;
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

function tttnn(args: string[]): string {
  const run = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', maxBuffer: 1 << 26, env: { ...process.env, TTTNN_PROGRESS_SECONDS: '60' } });
  if (run.status !== 0) throw new Error(`tttnn ${args.join(' ')} failed (${run.status}):\n${run.stderr}`);
  return run.stdout.trim().split('\n').at(-1)!;
}

const uptime = spawnSync('uptime', { encoding: 'utf8' }).stdout.trim();
const lscpu = spawnSync('lscpu', { encoding: 'utf8' }).stdout ?? '';
const field = (name: string): string => new RegExp(`^${name}:\\s*(.+)$`, 'm').exec(lscpu)?.[1]?.trim() ?? '?';
const cpu = `${field('Model name') === '?' ? (cpus()[0]?.model ?? 'unknown') : field('Model name')} (family ${field('CPU family')} model ${field('Model')})`;
console.log(`CPU: ${cpu}, ${getNumThreads()} threads; load before: ${uptime}`);

const flat = join(dir, '00.jsonl.index');
const queries = join(dir, 'queries.index');
let t = performance.now();
writeFlatFile(flat, N, 1);
writeFlatFile(queries, QUERIES, 2);
console.log(`wrote ${N} x ${D} Flat vectors (${(statSync(flat).size / 2 ** 30).toFixed(2)} GiB) in ${((performance.now() - t) / 1000).toFixed(0)} s: ${flat}`);

const rows: (string | number)[][] = [];
for (const factory of FACTORIES) {
  const nlist = Number(/IVF(\d+)/.exec(factory)?.[1] ?? 0);
  // FAISS asks for 39 training vectors per list at least; 64 here, and 50,000 for the PCA/PQ/SQ alone.
  const sample = Math.min(N, Math.max(50_000, 64 * nlist));
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
  rmSync(out, { recursive: true, force: true });
}
console.log(`\n${N} x ${D} vectors (Flat: ${(statSync(flat).size / N).toFixed(1)} bytes/vector), ${QUERIES} held-out queries, k = 50`);
console.log(formatTable(['factory', 'train sample', 'train s', 'add s per 1M', 'peak RSS MiB', 'trained MiB', 'bytes/vector', 'search', 'recall@1', 'recall@10', 'recall@50', 'overlap@50', 'ms/query', 'QPS', 'pareto'], rows));
console.log(`load after: ${spawnSync('uptime', { encoding: 'utf8' }).stdout.trim()}`);
if (process.env['BENCH_KEEP'] !== '1' && process.env['BENCH_DIR'] === undefined) rmSync(dir, { recursive: true, force: true });
