// Benchmark: index building and search.
//
//   npm run bench:index          (BENCH_VECTORS=1000000 by default; set fewer for a quick run)
//
// 1. Embedding throughput (documents/s) of the tiny-roberta encoder (batch
//    32 x 128 tokens, mean pooling) vs the same encoder in python3-torch.
// 2. Flat vs IVF-PQ vs HNSW on N x 1024 clustered synthetic vectors: build
//    time, bytes per vector, query latency for 1 query and a batch of 64,
//    recall@50 against Flat; and Flat search in python3-faiss on the same
//    index file (the reference). All in one run.
// 3. The same comparison on the demo corpus's own embeddings (its index,
//    from npm run demo), when it exists.
// Targets: a compressed index with >= 20x less memory than Flat at
// recall@50 >= 0.9; Flat search no slower than python3-faiss.
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { embedding, keep, manualSeed, randint, randn, tensor, tidy } from '../src/engine/index.js';
import { FaissIndex, embedTexts } from '../src/index/index.js';
import { createModel, type EncoderModel } from '../src/models/index.js';
import { robertaTokenizerFromGpt2 } from '../src/tokenizers/index.js';
import { PRESETS } from '../src/train/presets.js';
import { REFERENCE_DIR, formatTable, runPython } from './helpers.js';

const N = Number(process.env['BENCH_VECTORS'] ?? 1_000_000);
const D = 1024;
const K = 50;
const QUERIES = 64;
// IVF-PQ on PCA-rotated vectors is the compressed candidate; `np` skips FAISS's
// polysemous training (minutes per index here, and unused by L2 search).
const FACTORIES = (process.env['BENCH_FACTORIES'] ?? 'IVF1024,PQ64np;PCAR128,IVF1024,PQ64np;PCAR128,HNSW32').split(';');
const TRAIN_SAMPLE = 100_000;
const dir = mkdtempSync(join(tmpdir(), 'tttnn-bench-index-'));

// ---- 1. embedding throughput ----
function embeddingRate(): { ours: number; torch: number } {
  const preset = PRESETS['tiny-roberta']!;
  const config = preset.config as { hidden_size: number; num_hidden_layers: number; num_attention_heads: number; vocab_size: number };
  manualSeed(0);
  const model = createModel(preset.config) as EncoderModel;
  const tokenizer = robertaTokenizerFromGpt2();
  const texts = Array.from({ length: 32 }, (_, i) => `Document ${i}: ${'the quick brown fox jumps over the lazy dog '.repeat(14)}`);
  const embedder = { model, tokenizer, maxLength: 128 };
  embedTexts(embedder, texts);
  const batches = 4;
  const start = process.hrtime.bigint();
  for (let b = 0; b < batches; b++) embedTexts(embedder, texts);
  const ours = (batches * 32) / (Number(process.hrtime.bigint() - start) / 1e9);
  model.dispose();
  const torch = runPython<{ seconds: number }>(
    String.raw`
import json, sys
d = json.load(sys.stdin)
sys.path.insert(0, d['reference'])
import torch, torch_models
torch.manual_seed(0)
print(json.dumps({'seconds': torch_models.encoder_forward_seconds(d['vocab'], 128, d['d'], d['layers'], d['heads'], 32, 4)}))
`,
    { reference: REFERENCE_DIR, vocab: config.vocab_size, d: config.hidden_size, layers: config.num_hidden_layers, heads: config.num_attention_heads },
  );
  return { ours, torch: 32 / torch.seconds };
}

// ---- 2. index kinds ----
/**
 * Synthetic document embeddings with the structure real ones have: 1,000
 * topics in a 64-dimensional latent space (within-topic spread decaying over
 * the latent directions, as embedding spectra do), mapped into 1024
 * dimensions by a fixed random projection, plus isotropic noise (about a
 * fifth of the within-topic energy). Generated with the engine (seeded).
 */
const LATENT = 64;
const TOPICS = 1000;
const NOISE = 0.02;
const structure = tidy(() => {
  manualSeed(7);
  return {
    centres: keep(randn([TOPICS, LATENT])),
    scales: keep(tensor(Float32Array.from({ length: LATENT }, (_, i) => 0.5 * 0.93 ** i))),
    projection: keep(randn([LATENT, D]).div(Math.sqrt(LATENT))),
  };
});
function clustered(n: number, seed: number): Float32Array {
  manualSeed(seed);
  const out = new Float32Array(n * D);
  for (let start = 0; start < n; start += 50_000) {
    const m = Math.min(50_000, n - start);
    tidy(() => {
      const latent = embedding(structure.centres, randint(0, TOPICS, [m])).add(randn([m, LATENT]).mul(structure.scales));
      out.set(latent.matmul(structure.projection).add(randn([m, D]).mul(NOISE)).toTypedArray() as Float32Array, start * D);
    });
  }
  return out;
}

async function latency(index: FaissIndex, queries: Float32Array, batch: number): Promise<number> {
  const rounds = batch === 1 ? 20 : 3;
  await index.search(queries.subarray(0, batch * D), K);
  const start = process.hrtime.bigint();
  for (let r = 0; r < rounds; r++) await index.search(queries.subarray(0, batch * D), K);
  return Number(process.hrtime.bigint() - start) / 1e6 / rounds;
}

/**
 * Two recalls against Flat's exact top 50: FAISS's recall@50 (the share of
 * queries whose true nearest neighbour is among the 50 found, the
 * definition of FAISS's benchmarks) and the overlap of the two top-50 sets
 * (what TTT-NN trains on).
 */
function recalls(truth: BigInt64Array, found: BigInt64Array, queries: number): { nearest: number; overlap: number } {
  let nearest = 0;
  let overlap = 0;
  for (let q = 0; q < queries; q++) {
    const got = new Set(found.subarray(q * K, (q + 1) * K));
    if (got.has(truth[q * K] as bigint)) nearest++;
    for (const id of truth.subarray(q * K, (q + 1) * K)) if (got.has(id)) overlap++;
  }
  return { nearest: nearest / queries, overlap: overlap / (queries * K) };
}

/** Builds each factory on `data` (trained on a sample), and measures it against Flat's answers. */
async function compareFactories(data: Float32Array, queries: Float32Array, d: number, factories: readonly string[], truth: BigInt64Array, flatBytes: number): Promise<(string | number)[][]> {
  const n = data.length / d;
  const rows: (string | number)[][] = [];
  for (const factory of factories) {
    const t = Date.now();
    const index = FaissIndex.create(d, factory);
    if (!index.info.isTrained) index.train(data.subarray(0, Math.min(n, TRAIN_SAMPLE) * d));
    index.add(data);
    const build = (Date.now() - t) / 1000;
    if (factory.includes('IVF')) index.setParameter('nprobe', 32);
    if (factory.includes('HNSW')) index.setParameter('efSearch', 128);
    const file = join(dir, 'index.index');
    index.write(file);
    const bytes = statSync(file).size / n;
    const found = (await index.search(queries, K)).ids;
    const { nearest, overlap } = recalls(truth, found, queries.length / d);
    rows.push([factory, build, bytes, flatBytes / bytes, await latency(index, queries, 1), await latency(index, queries, queries.length / d), nearest, overlap]);
    index.dispose();
  }
  return rows;
}
const HEADER = ['index', 'build s', 'bytes/vector', 'x smaller', '1 query ms', `${QUERIES} queries ms`, 'recall@50', 'top-50 overlap'];

const embed = embeddingRate();
console.log(`embedding (tiny-roberta, 32 x 128 tokens): tttnn ${embed.ours.toFixed(1)} docs/s, python3-torch ${embed.torch.toFixed(1)} docs/s, ratio ${(embed.ours / embed.torch).toFixed(2)}`);

const data = clustered(N, 1);
const queries = clustered(QUERIES, 2);
const t = Date.now();
const flat = FaissIndex.create(D, 'Flat');
flat.add(data);
const flatBuild = (Date.now() - t) / 1000;
flat.write(join(dir, 'flat.index'));
const flatBytes = statSync(join(dir, 'flat.index')).size / N;
const truth = (await flat.search(queries, K)).ids;
const rows: (string | number)[][] = [['Flat', flatBuild, flatBytes, 1, await latency(flat, queries, 1), await latency(flat, queries, QUERIES), 1, 1]];
flat.dispose();
const flatPython = runPython<{ one: number; batch: number }>(
  `
import json, sys, time, numpy as np, faiss
d = json.load(sys.stdin)
index = faiss.read_index(d['path'])
q = np.array(d['queries'], dtype='float32').reshape(-1, ${D})
def timed(batch, rounds):
    index.search(q[:batch], ${K}); t = time.perf_counter()
    for _ in range(rounds): index.search(q[:batch], ${K})
    return (time.perf_counter() - t) * 1000 / rounds
print(json.dumps({'one': timed(1, 20), 'batch': timed(${QUERIES}, 3)}))
`,
  { path: join(dir, 'flat.index'), queries: Array.from(queries) },
  3_600_000,
);
rmSync(join(dir, 'flat.index'));
rows.push(['Flat (python3-faiss)', '', '', '', flatPython.one, flatPython.batch, '', '']);
rows.push(...(await compareFactories(data, queries, D, FACTORIES, truth, flatBytes)));
console.log(`\n${N} x ${D} clustered vectors (64-dimensional latent structure + noise), k = ${K}, ${QUERIES} queries; nprobe 32, efSearch 128`);
console.log(formatTable(HEADER, rows));
console.log(`Flat search vs python3-faiss: ${(flatPython.one / (rows[0]![4] as number)).toFixed(2)}x (1 query), ${(flatPython.batch / (rows[0]![5] as number)).toFixed(2)}x (batch of ${QUERIES}); targets >= 1.00`);
console.log('target: a compressed index with >= 20x smaller than Flat at recall@50 >= 0.90');

// ---- 3. the demo corpus's own embeddings ----
const demoIndex = process.env['BENCH_DEMO_INDEX'] ?? 'artifacts/run-20mb/index/tiny-roberta/00.jsonl.index';
if (existsSync(demoIndex)) {
  const index = FaissIndex.read(demoIndex);
  const { d, ntotal } = index.info;
  const all = index.reconstruct(0, ntotal);
  index.dispose();
  // The last 64 documents are the queries; the rest is indexed.
  const n = ntotal - QUERIES;
  const base = all.subarray(0, n * d);
  const demoQueries = all.slice(n * d);
  const exact = FaissIndex.create(d, 'Flat');
  exact.add(base);
  const demoTruth = (await exact.search(demoQueries, K)).ids;
  exact.dispose();
  const demoFactories = (process.env['BENCH_DEMO_FACTORIES'] ?? `IVF64,PQ${d / 4}x4np;PCAR${d / 4},IVF64,PQ${d / 8}x4np;IVF64,PQ${d / 8}np;HNSW32`).split(';');
  const demoRows = await compareFactories(base, demoQueries, d, demoFactories, demoTruth, 4 * d);
  console.log(`\ndemo corpus embeddings (${demoIndex}): ${n} x ${d}, ${QUERIES} held-out documents as queries`);
  console.log(formatTable(HEADER, demoRows));
} else console.log(`\n(no demo index at ${demoIndex}: run npm run demo first, or set BENCH_DEMO_INDEX)`);
rmSync(dir, { recursive: true, force: true });
