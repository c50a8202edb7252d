// FAISS through the addon against python3-faiss (files both ways), compressed
// factories, and index building from a corpus with a real (tiny) encoder:
// vectors, slices, resume after an interruption, splitting, bad input.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { manualSeed } from '../../src/engine/index.js';
import { DocumentStore } from '../../src/data/document-store.js';
import { FaissIndex, buildIndex, checkIndexMatchesData, checkIndexMatchesEmbedder, embedTexts, splitIndex, type Embedder } from '../../src/index/index.js';
import { RobertaModel } from '../../src/models/index.js';
import { robertaTokenizerFromGpt2 } from '../../src/tokenizers/index.js';
import { runPython } from '../helpers/python.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'tttnn-index-'));

test('a Flat index written by python3-faiss loads and searches identically here, and ours loads in python3-faiss', async () => {
  const dir = tmp();
  const theirs = runPython<{ queries: number[]; ids: number[]; distances: number[] }>(
    `
import json, sys, numpy as np, faiss
d = json.load(sys.stdin)
rng = np.random.default_rng(0)
x = rng.standard_normal((2000, 64)).astype('float32')
q = rng.standard_normal((5, 64)).astype('float32')
index = faiss.IndexFlatL2(64); index.add(x)
faiss.write_index(index, d['path'])
D, I = index.search(q, 10)
print(json.dumps({'queries': q.flatten().tolist(), 'ids': I.flatten().tolist(), 'distances': D.flatten().tolist()}))
`,
    { path: join(dir, 'py.index') },
  );
  const index = FaissIndex.read(join(dir, 'py.index'));
  assert.deepEqual(index.info, { d: 64, ntotal: 2000, isTrained: true, metric: 'l2', type: 'IndexFlatL2' });
  const result = await index.search(Float32Array.from(theirs.queries), 10);
  assert.deepEqual(Array.from(result.ids, Number), theirs.ids);
  result.distances.forEach((v, i) => assert.ok(Math.abs(v - theirs.distances[i]!) <= 1e-4 * Math.max(1, v)));

  // Ours -> python: the same vectors, written by us, searched by python3-faiss.
  const vectors = index.reconstruct(0, 2000);
  const ours = FaissIndex.create(64, 'Flat');
  ours.add(vectors);
  ours.write(join(dir, 'ours.index'));
  const back = runPython<{ ids: number[]; ntotal: number }>(
    `
import json, sys, numpy as np, faiss
d = json.load(sys.stdin)
index = faiss.read_index(d['path'])
D, I = index.search(np.array(d['queries'], dtype='float32').reshape(-1, 64), 10)
print(json.dumps({'ids': I.flatten().tolist(), 'ntotal': index.ntotal}))
`,
    { path: join(dir, 'ours.index'), queries: theirs.queries },
  );
  assert.equal(back.ntotal, 2000);
  assert.deepEqual(back.ids, theirs.ids);
  const withVectors = await ours.search(Float32Array.from(theirs.queries.slice(0, 64)), 3, { reconstruct: true });
  const first = Number(withVectors.ids[0]);
  assert.deepEqual(Array.from(withVectors.vectors!.subarray(0, 64)), Array.from(vectors.subarray(first * 64, first * 64 + 64)));
  index.dispose();
  ours.dispose();
});

test('compressed factories: IVF-PQ is over 8x smaller than Flat and keeps recall on clustered data', async () => {
  const dir = tmp();
  const d = 64;
  const n = 20_000;
  const centers = Array.from({ length: 50 }, (_, c) => Array.from({ length: d }, (_, j) => Math.sin(c * 7.1 + j * 0.3) * 4));
  let seed = 1;
  const random = (): number => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 2 - 1;
  const data = new Float32Array(n * d).map((_, i) => centers[Math.floor(i / d) % 50]![i % d]! + random() * 0.5);
  const queries = data.slice(0, 20 * d).map((v) => v + random() * 0.05);
  const flat = FaissIndex.create(d, 'Flat');
  flat.add(data);
  const ivf = FaissIndex.create(d, 'IVF64,PQ16x8');
  ivf.train(data);
  ivf.add(data);
  ivf.setParameter('nprobe', 16);
  flat.write(join(dir, 'flat.index'));
  ivf.write(join(dir, 'ivf.index'));
  const exact = await flat.search(queries, 10);
  const approx = await ivf.search(queries, 10);
  let hits = 0;
  for (let q = 0; q < 20; q++) {
    const truth = new Set(Array.from(exact.ids.subarray(q * 10, q * 10 + 10)));
    for (const id of approx.ids.subarray(q * 10, q * 10 + 10)) if (truth.has(id)) hits++;
  }
  assert.ok(hits / 200 >= 0.5, `recall@10 ${hits / 200}`);
  assert.ok(statSync(join(dir, 'flat.index')).size / statSync(join(dir, 'ivf.index')).size > 8);
  const mapped = FaissIndex.read(join(dir, 'ivf.index'), { mmap: true });
  assert.equal(mapped.size, n);
  mapped.dispose();
  assert.throws(() => FaissIndex.create(d, 'NotAFactory9'), /invalid index factory string "NotAFactory9": FAISS: could not parse/);
  flat.dispose();
  ivf.dispose();
});

function tinyEmbedder(): Embedder {
  manualSeed(3);
  const model = RobertaModel.random({ model_type: 'roberta', vocab_size: 50261, hidden_size: 16, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 32, max_position_embeddings: 66 }, false);
  return { model, tokenizer: robertaTokenizerFromGpt2() };
}

function dataFile(dir: string, n: number): { path: string; texts: string[] } {
  const texts = Array.from({ length: n }, (_, i) => (i === 7 ? '' : `Document number ${i} talks about ${['cats', 'ships', 'code', 'law'][i % 4]} ${'and more '.repeat(i % 5)}`));
  const path = join(dir, '00.jsonl');
  writeFileSync(path, texts.map((text) => JSON.stringify({ text, meta: { pile_set_name: 'Test' } })).join('\n') + '\n');
  return { path, texts };
}

test('index build: one vector per line (the mean-pooled embedding), slices, embedding_model.txt, split', async () => {
  const dir = tmp();
  const { path, texts } = dataFile(dir, 45);
  const embedder = tinyEmbedder();
  const out = join(dir, 'indexes');
  const result = await buildIndex({ data: path, embedder, embedderDir: '/models/tiny', out, batchSize: 8, progress: () => undefined });
  assert.equal(result.path, join(out, '00.jsonl.index'));
  assert.equal(result.vectors, 45);
  assert.equal(readFileSync(join(out, 'embedding_model.txt'), 'utf8').trim(), '/models/tiny');
  const index = FaissIndex.read(result.path);
  const stored = index.reconstruct(0, 45);
  const direct = embedTexts(embedder, texts.map((t) => t || ' '));
  stored.forEach((v, i) => assert.ok(Math.abs(v - direct[i]!) < 1e-5, `vector element ${i}`));
  // The nearest neighbour of a document's own embedding is itself.
  const found = await index.search(direct.slice(9 * 16, 10 * 16), 1);
  assert.equal(Number(found.ids[0]), 9);

  const slice = await buildIndex({ data: path, embedder, embedderDir: '/models/tiny', out, begin: 10, end: 20, progress: () => undefined });
  assert.equal(slice.path, join(out, '00.jsonl-10-20.index'));
  const sliceIndex = FaissIndex.read(slice.path);
  // Other batches pad to other lengths, so the sums may round differently in the last bit.
  const sliced = sliceIndex.reconstruct(0, 10);
  stored.subarray(160, 320).forEach((v, i) => assert.ok(Math.abs(v - sliced[i]!) < 1e-5, `slice vector element ${i}: ${sliced[i]} vs ${v}`));
  sliceIndex.dispose();

  const parts = splitIndex(result.path, 4);
  assert.deepEqual(parts.map((p) => p.slice(out.length + 1)), ['00.jsonl-0-12.index', '00.jsonl-12-24.index', '00.jsonl-24-36.index', '00.jsonl-36-45.index']);
  const rejoined = parts.flatMap((p) => {
    const part = FaissIndex.read(p);
    const v = Array.from(part.reconstruct(0, part.size));
    part.dispose();
    return v;
  });
  assert.deepEqual(rejoined, Array.from(stored));
  index.dispose();
  embedder.model.dispose();
});

test('an interrupted build resumes after its last complete batch: no vector twice, none missing', async () => {
  const dir = tmp();
  const { path } = dataFile(dir, 40);
  const embedder = tinyEmbedder();
  const straight = await buildIndex({ data: path, embedder, embedderDir: 'x', out: join(dir, 'a'), batchSize: 6, progress: () => undefined });
  let batches = 0;
  await assert.rejects(
    buildIndex({
      data: path, embedder, embedderDir: 'x', out: join(dir, 'b'), batchSize: 6,
      progress: (line) => {
        if (line.includes('documents') && ++batches === 3) throw new Error('interrupted');
      },
    }),
    /interrupted/,
  );
  assert.ok(existsSync(join(dir, 'b', '00.jsonl.index.vectors.partial')));
  assert.ok(!existsSync(join(dir, 'b', '00.jsonl.index')));
  const log: string[] = [];
  const resumed = await buildIndex({ data: path, embedder, embedderDir: 'x', out: join(dir, 'b'), batchSize: 6, progress: (l) => log.push(l) });
  assert.match(log[0]!, /resuming after 18 embedded documents/);
  assert.equal(resumed.vectors, 40);
  const a = FaissIndex.read(straight.path);
  const b = FaissIndex.read(resumed.path);
  assert.deepEqual(Array.from(b.reconstruct(0, 40)), Array.from(a.reconstruct(0, 40)));
  assert.ok(!existsSync(join(dir, 'b', '00.jsonl.index.vectors.partial')));
  a.dispose();
  b.dispose();
  embedder.model.dispose();
});

test('an interrupted build whose data file changed since (even to the same size) starts afresh, saying why, instead of mixing old and new vectors', async () => {
  const dir = tmp();
  const { path } = dataFile(dir, 30);
  const embedder = tinyEmbedder();
  let batches = 0;
  await assert.rejects(
    buildIndex({
      data: path, embedder, embedderDir: 'x', out: join(dir, 'b'), batchSize: 6,
      progress: (line) => {
        if (line.includes('documents') && ++batches === 2) throw new Error('interrupted');
      },
    }),
    /interrupted/,
  );
  // The same bytes but one letter of the first document: same size, same line boundaries.
  writeFileSync(path, readFileSync(path, 'utf8').replace('Document number 0', 'Document number X'));
  const log: string[] = [];
  const rebuilt = await buildIndex({ data: path, embedder, embedderDir: 'x', out: join(dir, 'b'), batchSize: 6, progress: (l) => log.push(l) });
  assert.match(log[0]!, /not resuming the interrupted build: .*00\.jsonl changed since \(modification time, contents of its head\); starting afresh/);
  const straight = await buildIndex({ data: path, embedder, embedderDir: 'x', out: join(dir, 'a'), batchSize: 6, progress: () => undefined });
  const a = FaissIndex.read(straight.path);
  const b = FaissIndex.read(rebuilt.path);
  assert.deepEqual(Array.from(b.reconstruct(0, 30)), Array.from(a.reconstruct(0, 30)), 'every vector from the new file');
  a.dispose();
  b.dispose();
  embedder.model.dispose();
});

test('bad input: corrupt index, dimension mismatch, fewer data lines than vectors, bad line', async () => {
  const dir = tmp();
  const { path } = dataFile(dir, 12);
  writeFileSync(join(dir, 'corrupt.index'), 'IxF2 this is not an index');
  assert.throws(() => FaissIndex.read(join(dir, 'corrupt.index')), /corrupt\.index: not a valid FAISS index/);
  const index = FaissIndex.create(16, 'Flat');
  index.add(new Float32Array(20 * 16));
  const store = await DocumentStore.open(path);
  assert.throws(() => checkIndexMatchesData(index, 'x.index', store), /x\.index has 20 vectors from line 0 but .*00\.jsonl has only 12 lines/);
  assert.throws(() => checkIndexMatchesEmbedder(index, 'x.index', 1024, '/models/roberta-large'), /x\.index holds 16-dimensional vectors but the embedder \/models\/roberta-large makes 1024-dimensional ones/);
  store.close();
  index.dispose();
  const embedder = tinyEmbedder();
  writeFileSync(join(dir, 'bad.jsonl'), '{"text": "ok"}\nnot json\n');
  await assert.rejects(buildIndex({ data: join(dir, 'bad.jsonl'), embedder, embedderDir: 'x', out: dir, progress: () => undefined }), /bad\.jsonl:2: malformed JSON/);
  const skipped = await buildIndex({ data: join(dir, 'bad.jsonl'), embedder, embedderDir: 'x', out: join(dir, 'skip'), onBadLine: 'skip', progress: () => undefined });
  assert.equal(skipped.vectors, 2);
  await assert.rejects(buildIndex({ data: path, embedder, embedderDir: 'x', out: dir, end: 50, progress: () => undefined }), /has 12 lines, fewer than --end 50/);
  embedder.model.dispose();
});

test('NaN, fractional, negative or huge ids and k are JS errors, not silent reads of vector 0 or giant allocations', async () => {
  const index = FaissIndex.create(4, 'Flat');
  index.add(Float32Array.from({ length: 12 }, (_, i) => i));
  try {
    assert.deepEqual([...index.reconstruct(2, 1)], [8, 9, 10, 11]);
    for (const [start, n] of [[NaN, 1], [1.5, 1], [-1, 1], [0, 4], [Infinity, 1], [0, NaN]] as [number, number][]) {
      assert.throws(() => index.reconstruct(start, n), /are not a range of integers inside the index's 3 vectors/, `${start}, ${n}`);
    }
    const query = new Float32Array(4);
    for (const k of [NaN, 0, 2.5, 2 ** 40]) await assert.rejects(index.search(query, k), /k must be an integer from 1 to 1048576/, String(k));
    assert.equal((await index.search(query, 5)).ids.length, 5, 'k beyond the index: FAISS pads with -1');
  } finally {
    index.dispose();
  }
});
