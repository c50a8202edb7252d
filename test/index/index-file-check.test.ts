// Crafted and corrupt FAISS index files (issue 17): each is an error naming
// the file and the field, never a SIGSEGV/SIGFPE/SIGBUS of the process that
// opens it; and a memory-mapped index that changes on disk is refused, not read.
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DocumentStore } from '../../src/data/document-store.js';
import { FaissIndex } from '../../src/index/index.js';
import { checkIndexFile } from '../../src/index/index-file-check.js';
import { probeIndexFile } from '../../src/index/index-file-probe.js';
import { ping, RetrievalClient } from '../../src/retrieval/client.js';
import { runPython } from '../helpers/python.js';
import { startShardServer } from '../../src/retrieval/shard-server.js';

const dir = mkdtempSync(join(tmpdir(), 'tttnn-index-file-'));
const d = 8;
const vectors = Float32Array.from({ length: 300 * d }, (_, i) => Math.sin(i * 12.9898) * 10);

function written(factory: string, name: string): { path: string; bytes: Buffer } {
  const index = FaissIndex.create(d, factory);
  index.train(vectors);
  index.add(vectors);
  const path = join(dir, name);
  index.write(path);
  index.dispose();
  return { path, bytes: readFileSync(path) };
}

function variant(name: string, bytes: Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

/** The layout of an IndexHNSWFlat file: per-level link counts, each vector's level + 1, and where the links and what follows them lie. */
function hnswLayout(bytes: Buffer): { cumulative: number[]; levels: number[]; offset: number; count: number } {
  let at = 4 + 4 + 8 + 8 + 8 + 1 + 4; // the index header (L2 metric: no metric_arg)
  const ints = (n: number, from: number): number[] => Array.from({ length: n }, (_, i) => bytes.readInt32LE(from + 4 * i));
  at += 8 + Number(bytes.readBigUInt64LE(at)) * 8; // assign_probas
  const cumulative = ints(Number(bytes.readBigUInt64LE(at)), at + 8);
  at += 8 + cumulative.length * 4;
  const levels = ints(Number(bytes.readBigUInt64LE(at)), at + 8);
  at += 8 + levels.length * 4;
  at += 8 + Number(bytes.readBigUInt64LE(at)) * 8; // offsets
  return { cumulative, levels, offset: at + 8, count: Number(bytes.readBigUInt64LE(at)) };
}

test('crafted or truncated Flat and HNSW files are refused before FAISS reads them, naming the field', () => {
  const flat = written('Flat', 'flat.index');
  assert.deepEqual(checkIndexFile(flat.path), { kind: 'IxF2', d, ntotal: 300, checked: 'structure' });
  const cases: [string, Buffer, RegExp][] = [];
  const zeroD = Buffer.from(flat.bytes);
  zeroD.writeInt32LE(0, 4);
  cases.push(['d = 0', zeroD, /d = 0 is not a dimension from 1 to 65536/]);
  const hugeN = Buffer.from(flat.bytes);
  hugeN.writeBigInt64LE(2n ** 50n, 8);
  cases.push(['ntotal = 2^50', hugeN, /ntotal = 1125899906842624 is not a count of vectors/]);
  const manyN = Buffer.from(flat.bytes);
  manyN.writeBigInt64LE(10n ** 9n, 8);
  cases.push(['ntotal beyond the vectors', manyN, /the vectors hold 2400 floats, not ntotal x d = 1000000000 x 8/]);
  const bigVector = Buffer.from(flat.bytes);
  bigVector.writeBigInt64LE(2n ** 40n, 37);
  cases.push(['a vector size beyond the file', bigVector, /the vectors claims 1099511627776 elements of 4 bytes, more than the 9600 bytes left/]);
  cases.push(['truncated', flat.bytes.subarray(0, flat.bytes.length - 5), /the vectors claims 2400 elements of 4 bytes, more than the 9595 bytes left/]);
  cases.push(['trailing bytes', Buffer.concat([flat.bytes, Buffer.alloc(3)]), /3 bytes follow the index/]);
  cases.push(['not an index', Buffer.from('{"text": "hello"}\n'), /not a valid FAISS index/]);
  const hnsw = written('HNSW8', 'hnsw.index');
  assert.equal(checkIndexFile(hnsw.path).checked, 'structure');
  const links = hnswLayout(hnsw.bytes);
  assert.ok(links.count >= 300 * 16, `HNSW8 stores at least 2 x 8 links per vector, found ${links.count}`);
  const badLink = Buffer.from(hnsw.bytes);
  badLink.writeInt32LE(1_000_000_000, links.offset + 4 * 5);
  cases.push(['an HNSW link past the end', badLink, /neighbors\[5\] = 1000000000 links outside the index's 300 vectors/]);
  const badEntry = Buffer.from(hnsw.bytes);
  badEntry.writeInt32LE(300, links.offset + 4 * links.count);
  cases.push(['an HNSW entry point past the end', badEntry, /entry_point = 300 is not a vector of the index/]);
  // A link at level 1 to a vector that lives on level 0 only: FAISS would read that vector's level-1 links past their end.
  const { cumulative, levels } = links;
  const high = levels.findIndex((level) => level >= 2);
  const low = levels.findIndex((level) => level === 1);
  const start = levels.slice(0, high).reduce((sum, level) => sum + cumulative[level]!, 0);
  const badLevel = Buffer.from(hnsw.bytes);
  badLevel.writeInt32LE(low, links.offset + 4 * (start + cumulative[1]!));
  cases.push(['an HNSW link to a vector without that level', badLevel, new RegExp(`links vector ${high} at level 1 to vector ${low}, which has no level 1`)]);
  const entry = hnsw.bytes.readInt32LE(links.offset + 4 * links.count);
  const badMax = Buffer.from(hnsw.bytes);
  badMax.writeInt32LE(levels[entry]!, links.offset + 4 * links.count + 4);
  cases.push(["an HNSW max_level above the entry point's", badMax, new RegExp(`max_level = ${levels[entry]} is not the entry point's level ${levels[entry]! - 1}`)]);
  const hugeEf = Buffer.from(hnsw.bytes);
  hugeEf.writeInt32LE(2 ** 31 - 1, links.offset + 4 * links.count + 12);
  cases.push(['an HNSW efSearch of 2^31 - 1', hugeEf, /efSearch = 2147483647 is not from 0 to 65536/]);
  for (const [name, bytes, error] of cases) {
    const path = variant(`${name.replace(/\W+/g, '-')}.index`, bytes);
    assert.throws(() => FaissIndex.read(path), (e: Error) => error.test(e.message) && e.message.startsWith(path), name);
  }
});

test('a Flat index written by python3-faiss with a NaN or an infinity planted in a stored vector is refused naming the file and the vector id (issue 35)', () => {
  // FAISS itself stores the non-finite values without a word; every distance to that vector is then NaN or Inf.
  const written = runPython<{ finite: string; nan: string; inf: string }>(
    `
import json, sys
import numpy as np
import faiss
out = json.load(sys.stdin)
x = (np.sin(np.arange(40 * 8, dtype=np.float32) * 12.9898) * 10).reshape(40, 8).astype(np.float32)
paths = {}
for name, make, plant in [('finite', faiss.IndexFlatL2, None), ('nan', faiss.IndexFlatL2, (7, 3, np.nan)), ('inf', faiss.IndexFlatIP, (39, 0, -np.inf))]:
    y = x.copy()
    if plant: y[plant[0], plant[1]] = plant[2]
    index = make(8)
    index.add(y)
    paths[name] = out + '/python-' + name + '.index'
    faiss.write_index(index, paths[name])
print(json.dumps(paths))
`,
    dir,
  );
  assert.deepEqual(checkIndexFile(written.finite), { kind: 'IxF2', d, ntotal: 40, checked: 'structure' });
  // A FIFO as the index is refused at once (opening it waited for a writer forever), a directory too.
  const fifo = join(dir, 'index-pipe');
  runPython(`import json, os, sys\nos.mkfifo(json.load(sys.stdin), 0o600)\nprint('null')`, fifo);
  assert.throws(() => FaissIndex.read(fifo), new RegExp(`^Error: ${fifo}: the index file is a FIFO \\(named pipe\\), not a regular file; give a file`));
  assert.throws(() => checkIndexFile(dir), new RegExp(`${dir}: the index file is a directory, not a regular file`));
  assert.throws(() => checkIndexFile(written.nan), (e: Error) => e.message.startsWith(written.nan) && /vector 7 \(its id in the index\) holds NaN at component 3; rebuild the index from finite embeddings/.test(e.message));
  assert.throws(() => FaissIndex.read(written.inf), (e: Error) => e.message.startsWith(written.inf) && /vector 39 \(its id in the index\) holds -Infinity at component 0/.test(e.message));
});

test('other kinds are opened in a child process first: a file that kills it (bad HNSW links read unchecked) is an error, and a truncated IVF file too', () => {
  const hnsw = written('HNSW8', 'hnsw-probe.index');
  const links = hnswLayout(hnsw.bytes);
  const bad = Buffer.from(hnsw.bytes);
  for (let i = 0; i < links.count; i++) if (bad.readInt32LE(links.offset + 4 * i) >= 0) bad.writeInt32LE(2_000_000_000, links.offset + 4 * i);
  const path = variant('hnsw-all-links-bad.index', bad);
  // What would happen in the server without the checks: FAISS follows the links out of bounds and the process dies.
  assert.throws(() => probeIndexFile(path, false), /killed the process that tried \(SIG(SEGV|BUS)\); the file is corrupt, truncated or crafted/);
  const ivf = written('IVF4,Flat', 'ivf.index');
  assert.deepEqual(FaissIndex.read(ivf.path).info.ntotal, 300, 'a sound IVF file passes the probe');
  const truncated = variant('ivf-truncated.index', ivf.bytes.subarray(0, Math.floor(ivf.bytes.length / 2)));
  assert.throws(() => FaissIndex.read(truncated), (e: Error) => e.message.includes(truncated));
});

test('an index memory-mapped by a server that changes on disk is refused with 503 (no read past its end), and the server stays up', async () => {
  const ivf = written('IVF4,Flat', 'served-ivf.index');
  const data = join(dir, 'served.jsonl');
  writeFileSync(data, Array.from({ length: 300 }, (_, i) => JSON.stringify({ text: `document ${i}` })).join('\n') + '\n');
  const store = await DocumentStore.open(data);
  const index = FaissIndex.read(ivf.path, { mmap: true });
  index.setParameter('nprobe', 4);
  const token = 'm'.repeat(32);
  const server = await startShardServer({ index, store, begin: 0, replica: 0, token, embeddingModel: 'test', host: '127.0.0.1' });
  try {
    const client = await RetrievalClient.connect({ addresses: [server.address], token });
    const [before] = await client.search(vectors.subarray(7 * d, 8 * d), 1);
    assert.equal(before!.neighbors[0]!.id, 7);
    appendFileSync(ivf.path, Buffer.alloc(16)); // rewritten in place (here: grown) under the mapping
    await assert.rejects(client.search(vectors.subarray(7 * d, 8 * d), 1), /HTTP 503: .*served-ivf\.index: the index file changed on disk while memory-mapped \(--mmap\); restart the server/);
    assert.deepEqual(await ping(server.address), { status: 'ok' });
  } finally {
    await server.close();
    index.dispose();
    store.close();
  }
});
