// Hardening of the fleet's edges (issue 17, first rows): the token file,
// listening on every interface, and settings the servers cannot honour.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DocumentStore } from '../../src/data/document-store.js';
import { resolveSettings } from '../../src/eval/settings.js';
import { FaissIndex } from '../../src/index/index.js';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { advertisedHost, isUnspecifiedHost, readAddresses } from '../../src/retrieval/addresses.js';
import { health, ping, RetrievalClient } from '../../src/retrieval/client.js';
import { startFleetProcess } from '../helpers/fleet.js';
import { rawRequest } from '../helpers/http.js';
import { readToken, writeNewToken } from '../../src/retrieval/auth.js';
import { startShardServer } from '../../src/retrieval/shard-server.js';

const dir = mkdtempSync(join(tmpdir(), 'tttnn-hardening-'));

test('a token file others can read, or a token with whitespace, is refused with the fix; a fresh token is owner-only', () => {
  const file = join(dir, 'token');
  const token = 'a1b2c3d4e5f6a7b8c9d0e1f2';
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  assert.equal(readToken(file), token);
  chmodSync(file, 0o644);
  assert.throws(() => readToken(file), /can be read by others \(mode 644\); run: chmod 600 /);
  chmodSync(file, 0o640);
  assert.throws(() => readToken(file), /mode 640/);
  for (const content of [`${token} \n`, `${token}\r\n`, ` ${token}`, `${token}\n\n`, `${token.slice(0, 8)} ${token.slice(8)}\n`]) {
    writeFileSync(file, content, { mode: 0o600 });
    chmodSync(file, 0o600);
    assert.throws(() => readToken(file), /the token holds whitespace .*umask 077; openssl rand -hex 32 >/, JSON.stringify(content));
  }
  writeFileSync(file, 'short\n');
  assert.throws(() => readToken(file), /at least 16 characters/);
  // writeNewToken over a file that exists with a wider mode narrows it.
  chmodSync(file, 0o644);
  const fresh = writeNewToken(file);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.equal(readToken(file), fresh);
});

test('servers listening on every interface advertise a reachable host; an addresses file with 0.0.0.0 or :: is refused', async () => {
  for (const host of ['0.0.0.0', '::', '[::]', '0:0:0:0:0:0:0:0']) assert.equal(isUnspecifiedHost(host), true, host);
  for (const host of ['127.0.0.1', '::1', 'node7', '10.0.0.0']) assert.equal(isUnspecifiedHost(host), false, host);
  assert.equal(advertisedHost('127.0.0.1'), '127.0.0.1');
  assert.equal(advertisedHost('0.0.0.0', 'node7.cluster'), 'node7.cluster');
  const chosen = advertisedHost('0.0.0.0');
  assert.ok(chosen.length > 0 && !isUnspecifiedHost(chosen), chosen);
  const file = join(dir, 'addresses');
  for (const line of ['0.0.0.0:5000', '[::]:5000']) {
    writeFileSync(file, `127.0.0.1:4000\n${line}\n`);
    assert.throws(() => readAddresses(file), new RegExp(`addresses:2: "${line.replace(/[[\]]/g, '\\$&')}" is a listening address .*--advertise-host`));
  }
  // A server (on 127.0.0.1) told what to advertise writes that into its address.
  const data = join(dir, 'data.jsonl');
  writeFileSync(data, '{"text": "a"}\n{"text": "b"}\n');
  const store = await DocumentStore.open(data);
  const index = FaissIndex.create(4, 'Flat');
  index.add(new Float32Array(8));
  const server = await startShardServer({ index, store, begin: 0, replica: 0, token: 'x'.repeat(16), embeddingModel: 'test', host: '127.0.0.1', advertiseHost: 'shard-3.tttnn' });
  try {
    assert.match(server.address, /^shard-3\.tttnn:\d+$/);
  } finally {
    await server.close();
    index.dispose();
    store.close();
  }
});

test('--num-neighbors 0, or more neighbours or candidates than a server returns, is an error before any work', () => {
  const model = { modelType: 'gpt2', contextLength: 64 };
  assert.throws(() => resolveSettings('ttt', model, { numNeighbors: 0 }), /--num-neighbors must be a positive integer, got 0/);
  assert.throws(() => resolveSettings('ttt', model, { numNeighbors: 5000 }), /--num-neighbors 5000 is above the 1024 neighbours a shard server returns per query/);
  assert.throws(() => resolveSettings('ttt', model, { selection: 'sift', candidates: 2048 }), /--candidates 2048 is above the 1024/);
  assert.equal(resolveSettings('ttt', model, { numNeighbors: 1024 }).numNeighbors, 1024);
});

test('open health tells only that a server answers; the token goes only to a server that proved it holds it (a stale address now used by another process gets nothing)', async () => {
  const data = join(dir, 'health.jsonl');
  writeFileSync(data, '{"text": "a"}\n{"text": "b"}\n');
  const store = await DocumentStore.open(data);
  const index = FaissIndex.create(4, 'Flat');
  index.add(new Float32Array(8));
  const token = 'f'.repeat(32);
  const server = await startShardServer({ index, store, begin: 0, replica: 0, token, embeddingModel: '/home/someone/models/secret-embedder', host: '127.0.0.1' });
  // An impostor on another port: answers health like a shard server but cannot prove the token, and records what it is sent.
  const seen: (string | undefined)[] = [];
  const impostor = createServer((request, response) => {
    seen.push(request.headers.authorization);
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ status: 'ok', proof: '0'.repeat(64), shard: 'x:0-2', replica: 0, begin: 0, vectors: 2, lines: 2, dimension: 4, embeddingModel: 'm' }));
  });
  await new Promise<void>((resolve) => impostor.listen(0, '127.0.0.1', resolve));
  const impostorAddress = `127.0.0.1:${(impostor.address() as AddressInfo).port}`;
  try {
    const open = await rawRequest(server.address, 'GET', '/v1/health', {}, '');
    assert.equal(open.status, 200);
    assert.deepEqual(JSON.parse(open.body), { status: 'ok' }, 'no path, slice or embedder without the token');
    assert.doesNotMatch(open.body, /secret-embedder|health\.jsonl/);
    assert.deepEqual(await ping(server.address), { status: 'ok' });
    const full = await health(server.address, token);
    assert.equal(full.embeddingModel, '/home/someone/models/secret-embedder');
    assert.equal(full.shard, 'health.jsonl:0-2');
    await assert.rejects(health(server.address, 'g'.repeat(32)), /did not prove it holds this fleet's token/);
    const wrong = await rawRequest(server.address, 'GET', '/v1/health', { authorization: `Bearer ${'g'.repeat(32)}` }, '');
    assert.equal(wrong.status, 403);
    // The client skips the impostor without sending it the token, and uses the real server.
    const client = await RetrievalClient.connect({ addresses: [impostorAddress, server.address], token, timeoutMs: 3000 });
    assert.deepEqual(client.unreachable, [impostorAddress]);
    assert.equal(client.shards.size, 1);
    assert.ok(seen.length >= 1 && seen.every((h) => h === undefined), `the impostor was sent: ${JSON.stringify(seen)}`);
  } finally {
    await new Promise<void>((resolve) => impostor.close(() => resolve()));
    await server.close();
    index.dispose();
    store.close();
  }
});

test('the last slice never registers: its range is missing coverage — "fail" refuses, "partial" flags every result — never partial: false', async () => {
  const data = join(dir, 'slices.jsonl');
  writeFileSync(data, Array.from({ length: 10 }, (_, i) => `{"text": "document ${i}"}`).join('\n') + '\n');
  const store = await DocumentStore.open(data);
  // Slice [0, 5) of a 10-vector index is up; slice [5, 10) never started.
  const index = FaissIndex.create(4, 'Flat');
  index.add(Float32Array.from({ length: 20 }, (_, i) => i));
  const token = 'h'.repeat(32);
  const server = await startShardServer({ index, store, begin: 0, replica: 0, token, embeddingModel: 'test', host: '127.0.0.1', fileVectors: 10 });
  try {
    const strict = await RetrievalClient.connect({ addresses: [server.address], token, timeoutMs: 3000 });
    assert.deepEqual(strict.unreachable, [], 'nothing failed to answer: the slice is simply absent');
    assert.deepEqual(strict.uncovered, ['slices.jsonl:5-10']);
    await assert.rejects(strict.search(new Float32Array(4), 2), /slices\.jsonl:5-10/);
    const lenient = await RetrievalClient.connect({ addresses: [server.address], token, timeoutMs: 3000, onMissingShard: 'partial' });
    const [result] = await lenient.search(new Float32Array(4), 2);
    assert.equal(result!.partial, true);
    assert.equal(result!.neighbors.length, 2);
  } finally {
    await server.close();
    index.dispose();
    store.close();
  }
});

test('a server that cannot register its address stops, and tttnn serve fails fast with the reason instead of hanging', () => {
  const data = join(dir, 'register.jsonl');
  writeFileSync(data, '{"text": "a"}\n{"text": "b"}\n');
  const index = FaissIndex.create(4, 'Flat');
  index.add(new Float32Array(8));
  index.write(join(dir, 'register.jsonl.index'));
  index.dispose();
  const tokenFile = join(dir, 'register-token');
  writeNewToken(tokenFile);
  // The addresses file's directory is a regular file: the append fails (ENOTDIR) after the server listens.
  const notADirectory = join(dir, 'not-a-directory');
  writeFileSync(notADirectory, '');
  const cli = new URL('../../../bin/tttnn.js', import.meta.url).pathname;
  const started = Date.now();
  const run = spawnSync(process.execPath, [cli, 'serve', '--data', data, '--index', join(dir, 'register.jsonl.index'), '--addresses', join(notADirectory, 'addresses'), '--token-file', tokenFile], { encoding: 'utf8', timeout: 60_000 });
  assert.notEqual(run.status, 0);
  assert.equal(run.signal, null, 'exited by itself, not killed by the timeout');
  assert.match(run.stderr, /not-a-directory\/addresses: cannot register 127\.0\.0\.1:\d+ \(ENOTDIR\); the server stopped/);
  assert.match(run.stderr, /exited with code 1 before it was ready/);
  assert.ok(Date.now() - started < 30_000);
});

test('a blank or malformed data line among the hits is answered with an empty text (as the index embedded it), never a 500 for the whole batch', async () => {
  const data = join(dir, 'holes.jsonl');
  writeFileSync(data, ['{"text": "first"}', '', '{"text": "third"}', '{not json', '{"text": "fifth"}'].join('\n') + '\n');
  const store = await DocumentStore.open(data);
  const index = FaissIndex.create(2, 'Flat');
  index.add(Float32Array.from([0, 0, 1, 0, 2, 0, 3, 0, 4, 0])); // vector i sits at (i, 0)
  const token = 'k'.repeat(32);
  const server = await startShardServer({ index, store, begin: 0, replica: 0, token, embeddingModel: 'test', host: '127.0.0.1' });
  try {
    const client = await RetrievalClient.connect({ addresses: [server.address], token });
    const [result] = await client.search(Float32Array.from([2, 0]), 5);
    const texts = new Map(result!.neighbors.map((n) => [n.id, n.text]));
    assert.deepEqual([...texts].sort(([a], [b]) => a - b), [[0, 'first'], [1, ''], [2, 'third'], [3, ''], [4, 'fifth']]);
    const docs = await client.documents([1, 3, 4]);
    assert.deepEqual(docs.map((d) => d.text), ['', '', 'fifth']);
  } finally {
    await server.close();
    index.dispose();
    store.close();
  }
});

test('tttnn serve of an index built for lines [10, 20) (index build --begin 10 --end 20) answers with those lines\' ids and texts, not as if it began at line 0', async () => {
  const data = join(dir, 'slice.jsonl');
  writeFileSync(data, Array.from({ length: 30 }, (_, i) => `{"text": "document ${i}"}`).join('\n') + '\n');
  const index = FaissIndex.create(4, 'Flat');
  index.add(Float32Array.from({ length: 40 }, (_, i) => (i % 4 === 0 ? 10 + i / 4 : 0))); // the vector of line 10 + j is (10 + j, 0, 0, 0)
  const indexPath = join(dir, 'slice.jsonl-10-20.index');
  index.write(indexPath);
  index.dispose();
  const tokenFile = join(dir, 'slice-token');
  const token = writeNewToken(tokenFile);
  const fleet = await startFleetProcess({ data, index: indexPath, slices: 2, replicas: 1, addresses: join(dir, 'slice-addresses'), tokenFile });
  try {
    const client = await RetrievalClient.connect({ addresses: fleet.addresses, token, onMissingShard: 'partial' });
    assert.deepEqual([...client.shards.keys()].sort(), ['slice.jsonl:10-15', 'slice.jsonl:15-20']);
    assert.deepEqual(client.uncovered, ['slice.jsonl:0-10'], 'lines before the slice are not covered by this fleet');
    const [result] = await client.search(Float32Array.from([16, 0, 0, 0]), 2);
    assert.deepEqual(result!.neighbors.map((n) => [n.id, n.text]), [[16, 'document 16'], [15, 'document 15']]);
    assert.deepEqual((await client.documents([12, 19])).map((d) => d.text), ['document 12', 'document 19']);
  } finally {
    await fleet.stop();
  }
});
