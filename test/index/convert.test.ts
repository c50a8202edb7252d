// `tttnn index convert` and `index recall` (issue 36) on Flat files written by
// python3-faiss, as the original's build_database.py writes its Pile shards:
// bounded memory, every vector kept under its id, recall equal to what
// python3-faiss measures on the same compressed file, resume after SIGKILL,
// and refusal of a non-Flat or truncated input.
//
// d = 128 rather than the Pile's 1024, so that 200,000 vectors (a 100 MiB
// file) convert in seconds on CI's 2 cores; the code paths are the same.
//
// Memory is measured, not capped: `prlimit --as` limits address space, and
// Node reserves gigabytes of it that it never touches (V8's pointer cage and
// code range) as libgomp and libtorch do for thread stacks and malloc
// arenas, in amounts that vary with the machine's cores, so a cap either
// kills a sound run or is too loose to catch a whole-file read. The converter
// reports its peak resident set (getrusage maxrss), and the test compares two
// conversions that differ only in input size: 150,000 more vectors (77 MiB
// more input) may cost their compressed codes (24 bytes each, 3.4 MiB) and
// noise, not the input.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { writeNewToken } from '../../src/retrieval/auth.js';
import { startFleetProcess } from '../helpers/fleet.js';
import { rawRequest } from '../helpers/http.js';
import { runPython } from '../helpers/python.js';

const CLI = new URL('../../../bin/tttnn.js', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'tttnn-convert-'));
const D = 128;
const FACTORY = 'IVF64,PQ16np';
const SETTINGS = ['--factory', FACTORY, '--train-sample', '5000', '--seed', '7'];

/** Gaussian vectors with a decaying spectrum (component j scaled by (j+1)^-0.7), like embeddings' PCA spectra; written by python3-faiss as IndexFlatL2. */
function writeFlat(name: string, n: number, seed: number): string {
  const path = join(dir, name);
  runPython(
    `
import json, sys, numpy as np, faiss
a = json.load(sys.stdin)
rng = np.random.default_rng(a['seed'])
x = rng.standard_normal((a['n'], a['d']), dtype='float32') * (np.arange(1, a['d'] + 1) ** -0.7).astype('float32')
index = faiss.IndexFlatL2(a['d']); index.add(x)
faiss.write_index(index, a['path'])
print('{}')
`,
    { path, n, d: D, seed },
  );
  return path;
}

function tttnn(args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
}

interface Converted {
  path: string;
  trainSeconds: number;
  trainedBytes?: number;
  vectors: number;
  bytesPerVector: number;
  peakRssBytes: number;
  resumedAfter: number;
}

function convert(input: string, out: string, extra: string[] = []): Converted {
  const run = tttnn(['index', 'convert', '--input', input, '--out', out, ...SETTINGS, '--chunk-vectors', '8192', ...extra]);
  assert.equal(run.status, 0, run.stderr);
  return JSON.parse(run.stdout.trim().split('\n').at(-1)!) as Converted;
}

const big = writeFlat('00.jsonl.index', 200_000, 1);
const small = writeFlat('01.jsonl.index', 50_000, 2);

test('a 200k-vector Flat file converts with memory that does not grow with the input, every vector under its own id', () => {
  // What the input's directory says of its embedder travels with the index (eval checks embedding.json's pooling).
  const recipe = { embedder: 'models/st', modelType: 'bert', pooling: { modes: ['cls'], normalize: true }, maxLength: 128, dimension: D };
  writeFileSync(join(dir, 'embedding_model.txt'), 'models/st\n');
  writeFileSync(join(dir, 'embedding.json'), JSON.stringify(recipe));
  const out = convert(big, join(dir, 'out'));
  assert.deepEqual(JSON.parse(readFileSync(join(dir, 'out', 'embedding.json'), 'utf8')), recipe);
  assert.equal(readFileSync(join(dir, 'out', 'embedding_model.txt'), 'utf8'), 'models/st\n');
  assert.equal(out.path, join(dir, 'out', '00.jsonl.index'));
  assert.equal(out.vectors, 200_000);
  const outSmall = convert(small, join(dir, 'out'));
  const growth = out.peakRssBytes - outSmall.peakRssBytes;
  const inputGrowth = statSync(big).size - statSync(small).size;
  assert.ok(growth < 0.25 * inputGrowth, `peak RSS grew by ${growth} bytes for ${inputGrowth} more bytes of input (${outSmall.peakRssBytes} -> ${out.peakRssBytes})`);

  // Vector i of the output is vector i of the input: python3-faiss encodes every input vector with the
  // converted index (sa_encode: list number, then PQ code) and finds exactly that code stored under id i.
  const check = runPython<{ ids: number; mismatched: number; missing: number; duplicates: number }>(
    `
import json, sys, numpy as np, faiss
a = json.load(sys.stdin)
flat = faiss.read_index(a['input']); x = flat.reconstruct_n(0, flat.ntotal)
index = faiss.read_index(a['output'])
ivf = faiss.extract_index_ivf(index)
expected = index.sa_encode(x)
coarse = expected.shape[1] - ivf.code_size
seen = np.zeros(flat.ntotal, dtype=np.int64); mismatched = 0
for l in range(ivf.nlist):
    n = ivf.invlists.list_size(l)
    if n == 0: continue
    ids = faiss.rev_swig_ptr(ivf.invlists.get_ids(l), n).copy()
    codes = faiss.rev_swig_ptr(ivf.invlists.get_codes(l), n * ivf.code_size).copy().reshape(n, ivf.code_size)
    seen[ids] += 1
    listno = np.frombuffer(np.int64(l).tobytes()[:coarse], dtype=np.uint8)
    mismatched += int(np.sum(np.any(expected[ids, :coarse] != listno, axis=1) | np.any(expected[ids, coarse:] != codes, axis=1)))
print(json.dumps({'ids': int(index.ntotal), 'mismatched': mismatched, 'missing': int(np.sum(seen == 0)), 'duplicates': int(np.sum(seen > 1))}))
`,
    { input: big, output: out.path },
  );
  assert.deepEqual(check, { ids: 200_000, mismatched: 0, missing: 0, duplicates: 0 });

  const record = JSON.parse(readFileSync(`${out.path}.source.json`, 'utf8')) as { convertedFrom: { path: string; bytes: number; ntotal: number; d: number }; factory: string };
  assert.equal(record.convertedFrom.path, big);
  assert.equal(record.convertedFrom.bytes, statSync(big).size);
  assert.deepEqual([record.convertedFrom.ntotal, record.convertedFrom.d, record.factory], [200_000, D, FACTORY]);
  const info = tttnn(['index', 'info', '--json', out.path]);
  const parsed = JSON.parse(info.stdout) as { nprobe: number; nlist: number; bytesPerVector: number; convertedFrom: string };
  assert.equal(parsed.nlist, 64);
  assert.equal(parsed.nprobe, 1);
  assert.equal(parsed.bytesPerVector, statSync(out.path).size / 200_000);
  assert.match(parsed.convertedFrom, /00\.jsonl\.index .*factory IVF64,PQ16np/);
  assert.deepEqual([(parsed as unknown as { pooling: string }).pooling, (parsed as unknown as { normalize: boolean }).normalize], ['cls', true]);
});

test('index recall on held-out queries equals what python3-faiss measures on the same files, at each nprobe', () => {
  const approx = join(dir, 'out', '00.jsonl.index');
  if (!existsSync(approx)) convert(big, join(dir, 'out'));
  const queries = writeFlat('queries.index', 100, 3);
  const run = tttnn(['index', 'recall', '--exact', big, '--approx', approx, '--query-index', queries, '--queries', '100', '--nprobe', '1,8', '--chunk-vectors', '30000', '--json']);
  assert.equal(run.status, 0, run.stderr);
  const ours = JSON.parse(run.stdout) as { rows: { setting: string; recallAt1: number; recallAt10: number; recallAt50: number; overlapAt10: number; overlapAt50: number; pareto: boolean }[]; approx: { bytesPerVector: number }; querySource: string };
  assert.equal(ours.querySource, 'held-out');
  assert.equal(ours.approx.bytesPerVector, statSync(approx).size / 200_000);
  const theirs = runPython<Record<string, number[]>>(
    `
import json, sys, numpy as np, faiss
a = json.load(sys.stdin)
q = faiss.read_index(a['queries']); q = q.reconstruct_n(0, q.ntotal)
_, exact = faiss.read_index(a['exact']).search(q, 50)
index = faiss.read_index(a['approx'])
out = {}
for nprobe in (1, 8):
    faiss.extract_index_ivf(index).nprobe = nprobe
    _, found = index.search(q, 50)
    hit = lambda r: float(np.mean([exact[i, 0] in found[i, :r] for i in range(len(q))]))
    overlap = lambda k: float(np.mean([len(set(exact[i, :k]) & set(found[i, :k])) / k for i in range(len(q))]))
    out['nprobe=%d' % nprobe] = [hit(1), hit(10), hit(50), overlap(10), overlap(50)]
print(json.dumps(out))
`,
    { exact: big, approx, queries },
  );
  for (const row of ours.rows) {
    const expected = theirs[row.setting]!;
    const got = [row.recallAt1, row.recallAt10, row.recallAt50, row.overlapAt10, row.overlapAt50];
    got.forEach((v, i) => assert.ok(Math.abs(v - expected[i]!) < 1e-9, `${row.setting}: ours ${got.join(' ')}, python3-faiss ${expected.join(' ')}`));
  }
  assert.ok(ours.rows[1]!.recallAt50 > ours.rows[0]!.recallAt50, 'more lists probed finds more of the exact neighbours');
});

test('a conversion killed (SIGKILL) mid-way resumes from its checkpoint and writes the same file as an uninterrupted one', async () => {
  const reference = convert(small, join(dir, 'whole'));
  const out = join(dir, 'killed');
  const child = spawn(process.execPath, [CLI, 'index', 'convert', '--input', small, '--out', out, ...SETTINGS, '--chunk-vectors', '2000', '--checkpoint-seconds', '0'], { env: { ...process.env, TTTNN_PROGRESS_SECONDS: '0' } });
  let stderr = '';
  const killed = new Promise<void>((resolve, reject) => {
    child.stderr.on('data', (data: Buffer) => {
      stderr += data.toString();
      const counts = [...stderr.matchAll(/index convert (\d+)\/50000 vectors/g)].map((m) => Number(m[1]));
      if (counts.some((c) => c >= 20_000) && child.exitCode === null) child.kill('SIGKILL');
    });
    child.once('exit', (code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`the conversion ended (${code}) before it was killed: ${stderr}`))));
  });
  await killed;
  const partial = join(out, '01.jsonl.index.partial');
  assert.ok(existsSync(partial), 'a checkpoint was left');
  assert.ok(!existsSync(join(out, '01.jsonl.index')));
  const resumed = tttnn(['index', 'convert', '--input', small, '--out', out, ...SETTINGS, '--chunk-vectors', '2000']);
  assert.equal(resumed.status, 0, resumed.stderr);
  const result = JSON.parse(resumed.stdout.trim().split('\n').at(-1)!) as Converted;
  assert.ok(result.resumedAfter >= 20_000 && result.resumedAfter < 50_000, `resumed after ${result.resumedAfter}`);
  assert.match(resumed.stderr, /resuming after \d+ of 50000 vectors/);
  assert.doesNotMatch(resumed.stderr, /training/);
  assert.deepEqual([result.trainSeconds, result.trainedBytes], [0, undefined], 'nothing trained again');
  assert.ok(readFileSync(result.path).equals(readFileSync(reference.path)), 'the resumed conversion wrote the same bytes as the uninterrupted one');
  assert.ok(!existsSync(partial) && !existsSync(`${join(out, '01.jsonl.index')}.partial.json`));

  // Another factory does not resume that checkpoint: it starts afresh and says why.
  const other = convert(small, join(dir, 'other'));
  assert.equal(other.resumedAfter, 0);
});

test('a non-Flat, a truncated or a padded input is refused naming the file, and nothing is written', () => {
  const compressed = join(dir, 'whole', '01.jsonl.index');
  if (!existsSync(compressed)) convert(small, join(dir, 'whole'));
  const cases: [string, Buffer, RegExp][] = [
    ['ivf.index', readFileSync(compressed), /not a Flat \(IndexFlatL2 \/ IndexFlatIP\) index but a "IwPQ" index/],
    ['truncated.index', readFileSync(small).subarray(0, statSync(small).size - 1000), /truncated: its header says 50000 vectors of 128 float32s/],
    ['padded.index', Buffer.concat([readFileSync(small), Buffer.alloc(8)]), /8 bytes follow the 50000 vectors/],
    ['text.index', Buffer.from('{"text": "not an index"}\n'), /not a valid FAISS index/],
  ];
  for (const [name, bytes, message] of cases) {
    const path = join(dir, name);
    writeFileSync(path, bytes);
    const run = tttnn(['index', 'convert', '--input', path, '--out', join(dir, 'refused'), ...SETTINGS]);
    assert.notEqual(run.status, 0, name);
    assert.match(run.stderr, message);
    assert.ok(run.stderr.includes(path), `${name}: the message names the file`);
    assert.ok(!existsSync(join(dir, 'refused', name)), `${name}: nothing written`);
  }
  // A slice's vectors are lines begin + i, which servers read from its name: the output must keep it.
  const slicePath = join(dir, '01.jsonl-0-50000.index');
  writeFileSync(slicePath, readFileSync(small));
  const slice = tttnn(['index', 'convert', '--input', slicePath, '--out', join(dir, 'renamed.index'), ...SETTINGS]);
  assert.notEqual(slice.status, 0);
  assert.match(slice.stderr, /is a slice \(its name ends in -0-50000\.index/);
  assert.ok(!existsSync(join(dir, 'renamed.index')));
});

test('serve --nprobe searches the converted index with that many lists: the ids python3-faiss finds at that nprobe', async () => {
  const approx = join(dir, 'whole', '01.jsonl.index');
  if (!existsSync(approx)) convert(small, join(dir, 'whole'));
  const data = join(dir, '01.jsonl');
  writeFileSync(data, Array.from({ length: 50_000 }, (_, i) => JSON.stringify({ text: `document ${i}` })).join('\n') + '\n');
  const token = writeNewToken(join(dir, 'token'));
  const queries = runPython<{ queries: number[]; at1: number[]; at16: number[] }>(
    `
import json, sys, numpy as np, faiss
a = json.load(sys.stdin)
q = np.random.default_rng(5).standard_normal((8, a['d']), dtype='float32') * (np.arange(1, a['d'] + 1) ** -0.7).astype('float32')
index = faiss.read_index(a['approx'])
out = {'queries': q.flatten().tolist()}
for nprobe in (1, 16):
    faiss.extract_index_ivf(index).nprobe = nprobe
    out['at%d' % nprobe] = index.search(q, 10)[1].flatten().tolist()
print(json.dumps(out))
`,
    { approx, d: D },
  );
  assert.notDeepEqual(queries.at1, queries.at16, 'nprobe changes these queries\' answers (so the test can fail)');
  const fleet = await startFleetProcess({ data, index: approx, slices: 1, replicas: 1, addresses: join(dir, 'addresses'), tokenFile: join(dir, 'token'), extraArgs: ['--nprobe', '16'] });
  try {
    const body = JSON.stringify({ k: 10, vectors: Buffer.from(Float32Array.from(queries.queries).buffer).toString('base64') });
    const answer = await rawRequest(fleet.addresses[0]!, 'POST', '/v1/search', { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body);
    assert.equal(answer.status, 200, answer.body);
    const ids = (JSON.parse(answer.body) as { results: { ids: number[] }[] }).results.flatMap((r) => r.ids);
    assert.deepEqual(ids, queries.at16);
  } finally {
    await fleet.stop();
  }
  const refused = tttnn(['serve', '--data', data, '--index', big, '--addresses', join(dir, 'addresses-flat'), '--token-file', join(dir, 'token'), '--nprobe', '4']);
  assert.notEqual(refused.status, 0);
  assert.match(refused.stderr, /--nprobe 4: .*nprobe applies to IVF indexes; this one is IndexFlatL2/);
});
