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
// Targets: a compressed index with >= 20x less memory than Flat at
// recall@50 >= 0.9; Flat search no slower than python3-faiss.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { manualSeed } from '../src/engine/index.js';
import { FaissIndex, embedTexts } from '../src/index/index.js';
import { createModel, type EncoderModel } from '../src/models/index.js';
import { robertaTokenizerFromGpt2 } from '../src/tokenizers/index.js';
import { PRESETS } from '../src/train/presets.js';
import { seededRandom } from '../src/data/corpus/dm-mathematics.js';
import { REFERENCE_DIR, formatTable, runPython } from './helpers.js';

const N = Number(process.env['BENCH_VECTORS'] ?? 1_000_000);
const D = 1024;
const K = 50;
const QUERIES = 64;
const FACTORIES = (process.env['BENCH_FACTORIES'] ?? 'IVF1024,PQ128;HNSW32,PQ128;HNSW32').split(';');
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
/** Vectors around 1000 random centres, a cluster structure like document embeddings have; queries come from the same centres. */
const centres = ((random) => new Float32Array(1000 * D).map(() => random() * 2 - 1))(seededRandom(7));
function clustered(n: number, seed: number): Float32Array {
  const random = seededRandom(seed);
  const out = new Float32Array(n * D);
  for (let i = 0; i < n; i++) {
    const c = Math.floor(random() * 1000) * D;
    for (let j = 0; j < D; j++) out[i * D + j] = (centres[c + j] as number) + (random() - 0.5) * 0.6;
  }
  return out;
}

async function latency(index: FaissIndex, queries: Float32Array, batch: number): Promise<number> {
  const rounds = batch === 1 ? 20 : 3;
  const start = process.hrtime.bigint();
  for (let r = 0; r < rounds; r++) await index.search(queries.subarray(0, batch * D), K);
  return Number(process.hrtime.bigint() - start) / 1e6 / rounds;
}

function recallAt(truth: BigInt64Array, found: BigInt64Array): number {
  let hits = 0;
  for (let q = 0; q < QUERIES; q++) {
    const expected = new Set(truth.subarray(q * K, (q + 1) * K));
    for (const id of found.subarray(q * K, (q + 1) * K)) if (expected.has(id)) hits++;
  }
  return hits / (QUERIES * K);
}

const embed = embeddingRate();
console.log(`embedding (tiny-roberta, 32 x 128 tokens): tttnn ${embed.ours.toFixed(1)} docs/s, python3-torch ${embed.torch.toFixed(1)} docs/s, ratio ${(embed.ours / embed.torch).toFixed(2)}`);

const data = clustered(N, 1);
const queries = clustered(QUERIES, 2);
const rows: (string | number)[][] = [];
let t = Date.now();
const flat = FaissIndex.create(D, 'Flat');
flat.add(data);
const flatBuild = (Date.now() - t) / 1000;
flat.write(join(dir, 'flat.index'));
const truth = (await flat.search(queries, K)).ids;
rows.push(['Flat', flatBuild, statSync(join(dir, 'flat.index')).size / N, await latency(flat, queries, 1), await latency(flat, queries, QUERIES), 1]);
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
rows.push(['Flat (python3-faiss)', '', '', flatPython.one, flatPython.batch, '']);
flat.free();

for (const factory of FACTORIES) {
  t = Date.now();
  const index = FaissIndex.create(D, factory);
  if (!index.info.isTrained) index.train(data.subarray(0, Math.min(N, 100_000) * D));
  index.add(data);
  const build = (Date.now() - t) / 1000;
  if (factory.startsWith('IVF')) index.setParameter('nprobe', 64);
  if (factory.startsWith('HNSW')) index.setParameter('efSearch', 128);
  const file = join(dir, 'index.index');
  index.write(file);
  const found = (await index.search(queries, K)).ids;
  rows.push([factory, build, statSync(file).size / N, await latency(index, queries, 1), await latency(index, queries, QUERIES), recallAt(truth, found)]);
  index.free();
}
rmSync(dir, { recursive: true, force: true });

console.log(`\n${N} x ${D} clustered vectors, k = ${K}`);
console.log(formatTable(['index', 'build s', 'bytes/vector', '1 query ms', `${QUERIES} queries ms`, 'recall@50'], rows));
console.log(`Flat search vs python3-faiss: ${(flatPython.one / (rows[0]![3] as number)).toFixed(2)}x (1 query), ${(flatPython.batch / (rows[0]![4] as number)).toFixed(2)}x (batch); targets >= 1.00`);
console.log('target: a compressed index with bytes/vector <= Flat / 20 at recall@50 >= 0.90');
