// POST /v1/documents and RetrievalClient.documents / randomDocuments against
// real shard servers on 127.0.0.1: texts and vectors equal the data files and
// the indexes, order is kept across slices, bad requests get 4xx, replicas
// fail over, several data files with overlapping ids stay unambiguous, and
// random draws are distinct, within coverage and reproducible.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { seededRandom } from '../../src/data/seeded-random.js';
import { DocumentStore } from '../../src/data/document-store.js';
import { FaissIndex } from '../../src/index/index.js';
import { writeNewToken } from '../../src/retrieval/auth.js';
import { RetrievalClient, health } from '../../src/retrieval/client.js';
import { startShardServer } from '../../src/retrieval/shard-server.js';
import { LIMITS, decodeVectors, type DocumentsResponse } from '../../src/retrieval/protocol.js';
import { startFleetProcess, type FleetProcess } from '../helpers/fleet.js';
import { rawRequest } from '../helpers/http.js';

const D = 32;
const N = 3000;
const M = 500;
const dir = mkdtempSync(join(tmpdir(), 'tttnn-documents-'));
const tokenFile = join(dir, 'token');
const token = writeNewToken(tokenFile);

/** A data file of `n` lines "<prefix> <i>" and its Flat index of random vectors. */
function writeCorpus(name: string, n: number, prefix: string, seed: number): { data: string; index: string; vectors: Float32Array; flat: FaissIndex } {
  const random = seededRandom(seed);
  const vectors = new Float32Array(n * D).map(() => random() * 2 - 1);
  const data = join(dir, name);
  writeFileSync(data, Array.from({ length: n }, (_, i) => JSON.stringify({ text: `${prefix} ${i}`, meta: { pile_set_name: 'Test' } })).join('\n') + '\n');
  const flat = FaissIndex.create(D, 'Flat');
  flat.add(vectors);
  const index = `${data}.index`;
  flat.write(index);
  return { data, index, vectors, flat };
}

const main = writeCorpus('00.jsonl', N, 'document', 5);
const other = writeCorpus('01.jsonl', M, 'other', 6);
const lines = (path: string): string[] => readFileSync(path, 'utf8').trimEnd().split('\n').map((l) => (JSON.parse(l) as { text: string }).text);
let fleetMain: FleetProcess;
let fleetOther: FleetProcess;

before(async () => {
  // 00.jsonl as 2 slices x 2 replicas, 01.jsonl as 1 slice x 1 replica.
  [fleetMain, fleetOther] = await Promise.all([
    startFleetProcess({ data: main.data, index: main.index, slices: 2, replicas: 2, addresses: join(dir, 'main.addresses'), tokenFile }),
    startFleetProcess({ data: other.data, index: other.index, slices: 1, replicas: 1, addresses: join(dir, 'other.addresses'), tokenFile }),
  ]);
});

after(async () => {
  await Promise.all([fleetMain?.stop(), fleetOther?.stop()]);
  main.flat.dispose();
  other.flat.dispose();
});


const vectorOf = (vectors: Float32Array, id: number): Float32Array => vectors.subarray(id * D, (id + 1) * D);

test('documents by id: texts equal the data file, vectors the index, in the order asked across two slices', async () => {
  const client = await RetrievalClient.connect({ addresses: fleetMain.addresses, token });
  assert.deepEqual([...client.shards.keys()].sort(), ['00.jsonl:0-1500', '00.jsonl:1500-3000']);
  const texts = lines(main.data);
  const ids = [2999, 0, 1500, 1499, 42, 42, 2001, 1];
  const docs = await client.documents(ids);
  assert.deepEqual(docs.map((d) => d.id), ids);
  docs.forEach((doc) => {
    assert.equal(doc.text, texts[doc.id]);
    assert.equal(doc.file, '00.jsonl');
    assert.equal(doc.shard, doc.id < 1500 ? '00.jsonl:0-1500' : '00.jsonl:1500-3000');
    assert.deepEqual(doc.vector, vectorOf(main.vectors, doc.id));
    assert.deepEqual(doc.vector, main.flat.reconstruct(doc.id, 1));
  });
  // The same vectors a search returns for the same ids.
  const [result] = await client.search(vectorOf(main.vectors, 2001), 20);
  const found = await client.documents(result!.neighbors.map((n) => n.id));
  result!.neighbors.forEach((n, j) => {
    assert.deepEqual(found[j]!.vector, n.vector);
    assert.equal(found[j]!.text, n.text);
  });
  assert.equal(result!.neighbors[0]!.id, 2001);
  // More ids than one request may carry: the client splits them per shard.
  const many = Array.from({ length: LIMITS.maxK + 400 }, (_, i) => (i * 7) % N);
  const fetched = await client.documents(many);
  assert.deepEqual(fetched.map((d) => d.id), many);
  fetched.forEach((doc) => assert.deepEqual(doc.vector, vectorOf(main.vectors, doc.id)));
  assert.deepEqual(await client.documents([]), []);
  // The wire format, as curl sees it.
  const address = fleetMain.addresses[0]!;
  const h = await health(address, token);
  const raw = await rawRequest(address, 'POST', '/v1/documents', { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, JSON.stringify({ ids: [h.begin + 3, h.begin] }));
  assert.equal(raw.status, 200, raw.body);
  const body = JSON.parse(raw.body) as DocumentsResponse;
  assert.equal(body.shard, h.shard);
  assert.equal(body.replica, h.replica);
  assert.deepEqual(body.documents.map((d) => [d.id, d.text]), [[h.begin + 3, texts[h.begin + 3]], [h.begin, texts[h.begin]]]);
  assert.deepEqual(decodeVectors(body.documents[0]!.vector), vectorOf(main.vectors, h.begin + 3));
  // Ids no reachable shard covers are the client's error, naming the id.
  await assert.rejects(client.documents([5, N]), /document id 3000: no reachable shard server covers it \(served: /);
  await assert.rejects(client.documents([-1]), /document id -1: ids are non-negative integers/);
  await assert.rejects(client.documents([{ file: '01.jsonl', id: 1 }]), /document 01\.jsonl:1: no reachable shard server covers it/);
});

test('bad /v1/documents requests get a 4xx with a message and the server stays healthy', async () => {
  const infos = await Promise.all(fleetMain.addresses.map(async (a) => ({ address: a, health: await health(a, token) })));
  const { address, health: h } = infos.find((i) => i.health.begin === 0)!;
  assert.equal(h.vectors, 1500);
  const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const ids = (value: unknown): string => JSON.stringify({ ids: value });
  const cases: [string, string, string, Record<string, string>, string | undefined, number, RegExp][] = [
    ['no token', 'POST', '/v1/documents', {}, ids([1]), 401, /Authorization/],
    ['wrong token', 'POST', '/v1/documents', { authorization: 'Bearer wrong-token-of-some-length' }, ids([1]), 403, /wrong token/],
    ['malformed JSON', 'POST', '/v1/documents', auth, '{"ids": [1', 400, /not valid JSON/],
    ['JSON array', 'POST', '/v1/documents', auth, '[1, 2]', 400, /JSON object \{"ids"/],
    ['ids missing', 'POST', '/v1/documents', auth, '{}', 400, /"ids" must be a non-empty array/],
    ['ids not an array', 'POST', '/v1/documents', auth, ids(5), 400, /"ids" must be a non-empty array/],
    ['ids a string', 'POST', '/v1/documents', auth, ids('1,2'), 400, /"ids" must be a non-empty array/],
    ['ids empty', 'POST', '/v1/documents', auth, ids([]), 400, /"ids" must be a non-empty array/],
    ['negative id', 'POST', '/v1/documents', auth, ids([3, -1]), 400, /"ids"\[1\] = -1 is not a non-negative integer/],
    ['fractional id', 'POST', '/v1/documents', auth, ids([1.5]), 400, /"ids"\[0\] = 1\.5 is not a non-negative integer/],
    ['string id', 'POST', '/v1/documents', auth, ids(['7']), 400, /"ids"\[0\] = "7" is not a non-negative integer/],
    ['null id', 'POST', '/v1/documents', auth, ids([null]), 400, /"ids"\[0\] = null/],
    ['id past the slice', 'POST', '/v1/documents', auth, ids([0, 1500]), 400, /document id 1500 is outside this shard's slice \[0, 1500\) of 00\.jsonl/],
    ['id past the file', 'POST', '/v1/documents', auth, ids([99999]), 400, /document id 99999 is outside this shard's slice \[0, 1500\)/],
    ['too many ids', 'POST', '/v1/documents', auth, ids(Array.from({ length: LIMITS.maxK + 1 }, () => 0)), 400, /at most 1024 ids per request \(got 1025\)/],
    ['GET documents', 'GET', '/v1/documents', auth, undefined, 405, /use POST \/v1\/documents/],
    ['unknown path lists it', 'GET', '/v1/document', auth, undefined, 404, /no such endpoint \/v1\/document .*POST \/v1\/documents/],
  ];
  for (const [name, method, path, headers, body, status, message] of cases) {
    const response = await rawRequest(address, method, path, headers, body);
    assert.equal(response.status, status, `${name}: ${response.body}`);
    assert.match((JSON.parse(response.body) as { error: string }).error, message, name);
    assert.equal((await health(address, token)).status, 'ok', `healthy after ${name}`);
  }
  // The other slice refuses ids of the first.
  const second = infos.find((i) => i.health.begin === 1500)!;
  const response = await rawRequest(second.address, 'POST', '/v1/documents', auth, ids([1499]));
  assert.equal(response.status, 400);
  assert.match(response.body, /document id 1499 is outside this shard's slice \[1500, 3000\) of 00\.jsonl/);
  // The maximum is allowed.
  assert.equal((await rawRequest(address, 'POST', '/v1/documents', auth, ids(Array.from({ length: LIMITS.maxK }, (_, i) => i)))).status, 200);
});

test('several data files: ids overlap, a bare id two files cover is refused, {file, id} routes', async () => {
  const client = await RetrievalClient.connect({ addresses: [...fleetMain.addresses, ...fleetOther.addresses], token });
  assert.deepEqual(client.coveredRanges(), [
    { file: '00.jsonl', begin: 0, end: N },
    { file: '01.jsonl', begin: 0, end: M },
  ]);
  assert.equal(client.totalCovered, N + M);
  await assert.rejects(client.documents([10]), /document id 10 is ambiguous: it is a line of each of 00\.jsonl, 01\.jsonl; pass \{file, id\}/);
  const docs = await client.documents([{ file: '01.jsonl', id: 10 }, { file: '00.jsonl', id: 10 }, 2000, { file: '01.jsonl', id: M - 1 }]);
  assert.deepEqual(docs.map((d) => [d.file, d.shard, d.id, d.text]), [
    ['01.jsonl', '01.jsonl:0-500', 10, 'other 10'],
    ['00.jsonl', '00.jsonl:0-1500', 10, 'document 10'],
    ['00.jsonl', '00.jsonl:1500-3000', 2000, 'document 2000'],
    ['01.jsonl', '01.jsonl:0-500', M - 1, `other ${M - 1}`],
  ]);
  assert.deepEqual(docs[0]!.vector, vectorOf(other.vectors, 10));
  assert.deepEqual(docs[1]!.vector, vectorOf(main.vectors, 10));
  await assert.rejects(client.documents([{ file: '01.jsonl', id: M }]), /document 01\.jsonl:500: no reachable shard server covers it/);
  await assert.rejects(client.documents([{ file: '02.jsonl', id: 0 }]), /document 02\.jsonl:0: no reachable shard server covers it/);
});

test('randomDocuments: distinct documents within the coverage, uniform over files, reproducible with a seeded generator', async () => {
  const client = await RetrievalClient.connect({ addresses: [...fleetMain.addresses, ...fleetOther.addresses], token });
  const texts = { '00.jsonl': lines(main.data), '01.jsonl': lines(other.data) } as Record<string, string[]>;
  const vectors = { '00.jsonl': main.vectors, '01.jsonl': other.vectors } as Record<string, Float32Array>;
  let calls = 0;
  const seeded = seededRandom(11);
  const counted = (): number => (calls++, seeded());
  const docs = await client.randomDocuments(200, counted);
  assert.equal(docs.length, 200);
  assert.equal(calls, 2 * 200 - 1);
  assert.equal(new Set(docs.map((d) => `${d.file}:${d.id}`)).size, 200);
  for (const doc of docs) {
    const limit = doc.file === '00.jsonl' ? N : M;
    assert.ok(Number.isInteger(doc.id) && doc.id >= 0 && doc.id < limit, `${doc.file}:${doc.id}`);
    assert.equal(doc.text, texts[doc.file]![doc.id]);
    assert.deepEqual(doc.vector, vectorOf(vectors[doc.file]!, doc.id));
  }
  // Both files are drawn from; not in id order.
  assert.ok(docs.some((d) => d.file === '01.jsonl') && docs.some((d) => d.file === '00.jsonl'));
  assert.notDeepEqual(docs.map((d) => d.id), docs.map((d) => d.id).sort((a, b) => a - b));
  // Reproducible: the same seed draws the same documents, another seed others.
  const again = await client.randomDocuments(200, seededRandom(11));
  assert.deepEqual(again.map((d) => `${d.file}:${d.id}`), docs.map((d) => `${d.file}:${d.id}`));
  const different = await client.randomDocuments(200, seededRandom(12));
  assert.notDeepEqual(different.map((d) => `${d.file}:${d.id}`), docs.map((d) => `${d.file}:${d.id}`));
  // Uniform over all served documents: about M / (N + M) of a large draw comes from 01.jsonl.
  const half = client.drawDocuments((N + M) / 2, seededRandom(3));
  const fromOther = half.filter((r) => r.file === '01.jsonl').length;
  assert.ok(Math.abs(fromOther - ((N + M) / 2) * (M / (N + M))) < 60, `${fromOther} of ${half.length} from 01.jsonl`);
  // Everything once, and no more than everything.
  const all = client.drawDocuments(N + M, seededRandom(4));
  assert.equal(new Set(all.map((r) => `${r.file}:${r.id}`)).size, N + M);
  assert.throws(() => client.drawDocuments(N + M + 1, seededRandom(4)), /cannot draw 3501 distinct documents: the reachable shards cover 3500/);
  assert.throws(() => client.drawDocuments(2, () => 1), /returned 1, not a number in \[0, 1\)/);
  assert.deepEqual(await client.randomDocuments(0, seededRandom(1)), []);
});

test('an IVF index (no direct map) and an SQ8 index: documents return the vectors a search returns', async () => {
  const store = await DocumentStore.open(main.data);
  for (const factory of ['IVF16,Flat', 'IVF8,SQ8']) {
    const index = FaissIndex.create(D, factory);
    index.train(main.vectors);
    index.add(main.vectors);
    const server = await startShardServer({ index, store, begin: 0, replica: 0, token, embeddingModel: 'test' });
    try {
      const client = await RetrievalClient.connect({ addresses: [server.address], token });
      const [result] = await client.search(vectorOf(main.vectors, 777), 10);
      const docs = await client.documents(result!.neighbors.map((n) => n.id));
      result!.neighbors.forEach((n, j) => assert.deepEqual(docs[j]!.vector, n.vector, `${factory}: id ${n.id}`));
      const [last] = await client.documents([N - 1]);
      if (factory === 'IVF16,Flat') assert.deepEqual(last!.vector, vectorOf(main.vectors, N - 1));
      else assert.ok(last!.vector.every((v, m) => Math.abs(v - main.vectors[(N - 1) * D + m]!) < 0.05), factory);
    } finally {
      await server.close();
      index.dispose();
    }
  }
  store.close();
});

// Last: it shuts servers of the main fleet down.
test('failover: with one replica of each slice down documents still come back; a slice with none left is an error, and a new client draws around it', async () => {
  const client = await RetrievalClient.connect({ addresses: fleetMain.addresses, token, timeoutMs: 5000 });
  const ids = [1, 2998, 1500, 700, 2100, 0];
  const expected = await client.documents(ids);
  for (const replicas of client.shards.values()) {
    await rawRequest(replicas[0]!.address, 'POST', '/v1/shutdown', { authorization: `Bearer ${token}` }, '{}');
  }
  await new Promise((r) => setTimeout(r, 200));
  for (let round = 0; round < 4; round++) {
    const docs = await client.documents(ids);
    assert.deepEqual(docs.map((d) => [d.id, d.text, d.shard]), expected.map((d) => [d.id, d.text, d.shard]), `round ${round}`);
    docs.forEach((d, j) => assert.deepEqual(d.vector, expected[j]!.vector));
  }
  // Every replica of the first slice gone.
  const first = client.shards.get('00.jsonl:0-1500')!;
  await rawRequest(first[1]!.address, 'POST', '/v1/shutdown', { authorization: `Bearer ${token}` }, '{}');
  await new Promise((r) => setTimeout(r, 200));
  await assert.rejects(client.documents([2000, 5]), /no replica of shard 00\.jsonl:0-1500 answered/);
  assert.equal((await client.documents([2000]))[0]!.text, 'document 2000');
  // A client connected now covers only the live slice, and draws from it alone.
  const later = await RetrievalClient.connect({ addresses: fleetMain.addresses, token, timeoutMs: 5000 });
  assert.deepEqual(later.coveredRanges(), [{ file: '00.jsonl', begin: 1500, end: N }]);
  assert.deepEqual(later.uncovered, ['00.jsonl:0-1500']);
  const drawn = await later.randomDocuments(50, seededRandom(8));
  assert.ok(drawn.every((d) => d.id >= 1500 && d.id < N && d.text === `document ${d.id}`));
  await assert.rejects(later.documents([5]), /document id 5: no reachable shard server covers it \(served: 00\.jsonl:1500-3000; unreachable: /);
});
