// Hardening of the fleet's network (issue 17): TLS between hosts, answers
// too large to send, replicas that answer garbage or trickle, and
// connections that never finish their headers. Everything listens on
// 127.0.0.1; every loop is bounded.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DocumentStore } from '../../src/data/document-store.js';
import { FaissIndex } from '../../src/index/index.js';
import { proofOfToken } from '../../src/retrieval/auth.js';
import { serverChannel } from '../../src/retrieval/channel-binding.js';
import { ping, RetrievalClient } from '../../src/retrieval/client.js';
import { LIMITS, decodeVectors, encodeVectors, type ServerLimits } from '../../src/retrieval/protocol.js';
import { readServerTls } from '../../src/retrieval/shard-process.js';
import { startShardServer, type RunningShardServer } from '../../src/retrieval/shard-server.js';
import { MAX_RESPONSE_BYTES, readTransport, splitAddress } from '../../src/retrieval/transport.js';
import { rawRequest } from '../helpers/http.js';

const dir = mkdtempSync(join(tmpdir(), 'tttnn-hostile-'));
const token = 't'.repeat(32);

/** A real shard server over `count` documents whose vector i is (i, 0, ..., 0) in `d` dimensions. */
async function startServer(count: number, d: number, extra: { tls?: { cert: string; key: string }; limits?: Partial<ServerLimits>; text?: (i: number) => string } = {}) {
  const data = join(dir, `data-${count}-${d}.jsonl`);
  writeFileSync(data, Array.from({ length: count }, (_, i) => JSON.stringify({ text: extra.text?.(i) ?? `document ${i}` })).join('\n') + '\n');
  const store = await DocumentStore.open(data);
  const index = FaissIndex.create(d, 'Flat');
  const vectors = new Float32Array(count * d);
  for (let i = 0; i < count; i++) vectors[i * d] = i;
  index.add(vectors);
  const server = await startShardServer({ index, store, begin: 0, replica: 0, token, embeddingModel: 'test', host: '127.0.0.1', tls: extra.tls, limits: extra.limits });
  return {
    server,
    stop: async (): Promise<void> => {
      await server.close();
      index.dispose();
      store.close();
    },
  };
}

function query(d: number, x: number, n = 1): Float32Array {
  const q = new Float32Array(n * d);
  for (let i = 0; i < n; i++) q[i * d] = x;
  return q;
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const hasOpenssl = spawnSync('openssl', ['version']).status === 0;

/** A self-signed certificate for 127.0.0.1 (its own CA), made with openssl. */
function selfSigned(name: string): { cert: string; key: string; certFile: string; keyFile: string } {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', `/CN=${name}`, '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', keyFile, '-out', certFile], { encoding: 'utf8' });
  assert.equal(made.status, 0, made.stderr);
  return { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8'), certFile, keyFile };
}

test('TLS: a server with --tls-cert/--tls-key is reached over HTTPS by a client with --ca; without it, or with another CA, the client gets nothing', { skip: hasOpenssl ? false : 'openssl is not installed (scripts/setup.sh --test installs it)' }, async () => {
  const ours = selfSigned('fleet');
  const theirs = selfSigned('other');
  assert.deepEqual(readServerTls({ tlsCert: ours.certFile, tlsKey: ours.keyFile }), { cert: ours.cert, key: ours.key });
  assert.throws(() => readServerTls({ tlsCert: ours.certFile }), /--tls-cert and --tls-key go together/);
  assert.throws(() => readServerTls({ tlsCert: ours.keyFile, tlsKey: ours.keyFile }), /not a PEM certificate/);
  assert.throws(() => readTransport(ours.keyFile), /not a PEM certificate .*--ca takes the CA/);
  const { server, stop } = await startServer(20, 4, { tls: { cert: ours.cert, key: ours.key } });
  try {
    const client = await RetrievalClient.connect({ addresses: [server.address], token, transport: readTransport(ours.certFile), timeoutMs: 5000 });
    const [result] = await client.search(query(4, 7), 3);
    assert.deepEqual(result!.neighbors.map((n) => n.id), [7, 6, 8]);
    assert.deepEqual((await client.documents([5]))[0]!.text, 'document 5');
    // Plain HTTP to the TLS port, or a certificate signed by another CA: no answer, so no token sent in the clear or to an impostor.
    await assert.rejects(RetrievalClient.connect({ addresses: [server.address], token, timeoutMs: 3000 }), /no shard server answered/);
    await assert.rejects(ping(server.address, 3000, readTransport(theirs.certFile)), /self.signed|unable to verify|certificate/i);
  } finally {
    await stop();
  }
});

test('a legal but huge k x queries x dimension is refused up front with a 400 naming the response budget; so are texts beyond it', async () => {
  // The default budget against the largest legal request: 256 queries x k = 1024 x 768 dimensions would be over 1 GB of answer.
  const wide = await startServer(1100, 768);
  try {
    const body = JSON.stringify({ k: LIMITS.maxK, vectors: encodeVectors(query(768, 1, LIMITS.maxQueries)) });
    const started = performance.now();
    const answer = await rawRequest(wide.server.address, 'POST', '/v1/search', { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body);
    assert.equal(answer.status, 400);
    assert.match((JSON.parse(answer.body) as { error: string }).error, new RegExp(`256 queries x k = 1024 x dimension 768.*response budget of ${LIMITS.maxResponseBytes} bytes`));
    assert.ok(performance.now() - started < 5000, 'refused before searching');
    const client = await RetrievalClient.connect({ addresses: [wide.server.address], token });
    await assert.rejects(client.search(query(768, 1, LIMITS.maxQueries), LIMITS.maxK), /HTTP 400: .*response budget/);
    assert.equal((await client.search(query(768, 1, 2), 10)).length, 2, 'smaller requests still work');
  } finally {
    await wide.stop();
  }
  // A small budget: vectors that fit, texts that do not (search and documents alike).
  const long = await startServer(50, 4, { limits: { maxResponseBytes: 2000 }, text: (i) => (i % 2 ? 'x'.repeat(600) : `short ${i}`) });
  try {
    const client = await RetrievalClient.connect({ addresses: [long.server.address], token });
    await assert.rejects(client.search(query(4, 0, 1), 40), /HTTP 400: {"error":"the answer would take at least \d+ bytes \(1 queries x k = 40 x dimension 4\), over this server's response budget of 2000 bytes/);
    await assert.rejects(client.search(query(4, 1, 1), 10), /HTTP 400: {"error":"the texts of the hits take more than this server's response budget of 2000 bytes/);
    assert.deepEqual((await client.search(query(4, 0, 1), 2))[0]!.neighbors.map((n) => n.id), [0, 1]);
    await assert.rejects(client.documents([1, 3, 5, 7, 9, 11, 13]), /texts of the hits take more than .* 2000 bytes/);
  } finally {
    await long.stop();
  }
});

/**
 * A replica that proves the token and claims the real server's slice, then
 * answers searches with `answer` (a JSON value, or a handler of its own).
 */
async function startRogue(real: RunningShardServer, answer: unknown): Promise<{ address: string; searches: () => number; close: () => Promise<void> }> {
  let searches = 0;
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    request.resume();
    request.on('end', () => {
      if (request.url === '/v1/health') {
        const nonce = request.headers['x-tttnn-nonce'];
        const body = typeof nonce === 'string' ? { status: 'ok', proof: proofOfToken(token, nonce, serverChannel(request.socket).value) } : { ...real.health, replica: 1 };
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
        return;
      }
      searches++;
      if (typeof answer === 'function') (answer as (response: ServerResponse) => void)(response);
      else response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
    });
  });
  const address = await listen(server);
  return {
    address,
    searches: () => searches,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

test('a replica answering garbage (huge body, wrong types, fewer texts than ids, NaN, out-of-range ids) or trickling bytes is a failed replica: the client fails over, never crashes', async () => {
  const d = 4;
  const { server, stop } = await startServer(20, d);
  const hit = (ids: unknown, extra: Record<string, unknown> = {}) => ({ shard: server.health.shard, replica: 1, results: [{ ids, distances: [0, 1], vectors: encodeVectors(new Float32Array(2 * d)), texts: ['a', 'b'], ...extra }] });
  const nanVector = new Float32Array(2 * d);
  nanVector[3] = Number.NaN;
  const huge = Buffer.alloc(2 ** 20, 32); // 1 MiB of spaces, sent until the client hangs up
  const garbage: [string, unknown, RegExp][] = [
    ['results of the wrong type', { shard: server.health.shard, replica: 1, results: 'many' }, /no "results" array/],
    ['fewer results than queries', { shard: server.health.shard, replica: 1, results: [] }, /0 results for 1 queries/],
    ['ids that are not numbers', hit(['0', '1']), /ids\[0\] = "0" is not an id of the slice \[0, 20\)/],
    ['out-of-range ids', hit([3, 20]), /ids\[1\] = 20 is not an id of the slice \[0, 20\)/],
    ['fewer texts than ids', hit([1, 2], { texts: ['a'] }), /texts is not 2 strings/],
    ['NaN distances (null in JSON)', hit([1, 2], { distances: [0, null] }), /distances is not 2 finite numbers/],
    ['NaN in the vectors', hit([1, 2], { vectors: encodeVectors(nanVector) }), /vectors holds NaN/],
    ['vectors of the wrong length', hit([1, 2], { vectors: encodeVectors(new Float32Array(d)) }), /holds 4 floats, not 2 x 4/],
    ['not JSON', (response: ServerResponse) => response.writeHead(200).end('{"results": [nope'), /malformed JSON response/],
    [
      'a body larger than any legal answer',
      (response: ServerResponse) => {
        response.writeHead(200, { 'content-type': 'application/json' });
        let sent = 0;
        const more = (): void => {
          while (sent <= MAX_RESPONSE_BYTES / huge.length + 1 && !response.destroyed) {
            sent++;
            if (!response.write(huge)) return void response.once('drain', more);
          }
          response.end();
        };
        more();
      },
      /exceeds \d+ bytes, more than any legal answer/,
    ],
    [
      'a trickle of one byte every 200 ms',
      (response: ServerResponse) => {
        response.writeHead(200, { 'content-type': 'application/json' });
        let sent = 0;
        const timer = setInterval(() => (sent++ < 100 && !response.destroyed ? response.write(' ') : (clearInterval(timer), response.end())), 200);
        response.on('close', () => clearInterval(timer));
      },
      /no complete answer within 1500 ms/,
    ],
  ];
  try {
    for (const [name, answer, error] of garbage) {
      const rogue = await startRogue(server, answer);
      try {
        // With a real replica beside it: every search is answered correctly, whichever replica is tried first.
        const client = await RetrievalClient.connect({ addresses: [rogue.address, server.address], token, timeoutMs: 1500 });
        assert.equal(client.shards.get(server.health.shard)?.length, 2, name);
        for (let i = 0; i < 2; i++) assert.deepEqual((await client.search(query(d, 5), 2))[0]!.neighbors.map((n) => n.id), [5, 4], name);
        assert.ok(rogue.searches() >= 1, `${name}: the rogue replica was tried`);
        // Alone: the search fails naming what was wrong ("fail"), or leaves the shard out ("partial").
        const alone = await RetrievalClient.connect({ addresses: [rogue.address], token, timeoutMs: 1500 });
        await assert.rejects(alone.search(query(d, 5), 2), error, name);
        const partial = await RetrievalClient.connect({ addresses: [rogue.address], token, timeoutMs: 1500, onMissingShard: 'partial' });
        const [result] = await partial.search(query(d, 5), 2);
        assert.deepEqual([result!.partial, result!.missing, result!.neighbors], [true, [server.health.shard], []], name);
      } finally {
        await rogue.close();
      }
    }
  } finally {
    await stop();
  }
});

/** A connection that sends a request line and then one header byte every `everyMs`, never finishing its headers. */
function slowLoris(address: string, everyMs: number): { socket: Socket; closed: Promise<string> } {
  const [host, port] = splitAddress(address);
  const socket = connect(port, host);
  let received = '';
  socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
  socket.on('error', () => undefined);
  socket.write('GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Slow: ');
  let sent = 0;
  const timer = setInterval(() => (sent++ < 200 && !socket.destroyed ? socket.write('a') : clearInterval(timer)), everyMs);
  const closed = new Promise<string>((resolve) =>
    socket.on('close', () => {
      clearInterval(timer);
      resolve(received);
    }),
  );
  return { socket, closed };
}

test('slow-loris connections: past the connection cap new ones are closed, and headers not finished in time close the connection; the server keeps answering', async () => {
  const { server, stop } = await startServer(10, 4, { limits: { headersTimeoutMs: 600, maxConnections: 4 } });
  const slow = Array.from({ length: 4 }, () => slowLoris(server.address, 100));
  try {
    await new Promise((r) => setTimeout(r, 150)); // all four are accepted
    const fifth = slowLoris(server.address, 100);
    const started = performance.now();
    assert.equal(await fifth.closed, '', 'the connection over the cap is closed without an answer');
    assert.ok(performance.now() - started < 500, 'at once');
    // The four slow ones are cut once their headers are overdue (408), although they keep sending.
    const answers = await Promise.all(slow.map((s) => s.closed));
    assert.ok(performance.now() - started < 3000, 'within the headers timeout (and its check interval)');
    for (const answer of answers) assert.match(answer, /^HTTP\/1\.1 408 /);
    assert.deepEqual(await ping(server.address), { status: 'ok' });
    const client = await RetrievalClient.connect({ addresses: [server.address], token });
    assert.deepEqual((await client.search(query(4, 3), 1))[0]!.neighbors.map((n) => n.id), [3]);
  } finally {
    for (const s of slow) s.socket.destroy();
    await stop();
  }
});

test('vectors decode only from the canonical standard base64 of whole float32s', () => {
  const v = Float32Array.from([1.5, -2, Number.MAX_VALUE, 0]);
  assert.deepEqual(decodeVectors(encodeVectors(v)), v);
  assert.deepEqual(decodeVectors(''), new Float32Array(0));
  const eight = encodeVectors(Float32Array.from([0, 0])); // 'AAAAAAAAAAA='
  for (const bad of ['not base64!!', eight.replace('A', '-'), eight.replace('A', '_'), `${eight.slice(0, 4)} ${eight.slice(5)}`, eight.slice(0, -1), eight.replace(/A=$/, 'B='), encodeVectors(new Float32Array(3)).slice(0, 12) + 'AA==']) {
    assert.equal(decodeVectors(bad), null, JSON.stringify(bad));
  }
  assert.equal(decodeVectors(Buffer.from([1, 2, 3]).toString('base64')), null, 'three bytes are not a whole float');
});
