// Request bodies a shard server refuses cheaply (issue 35, points 4 and 5):
// bodies beyond what the largest legal request needs, JSON nested deeper
// than any request, and the bodies of requests refused before the token is
// checked, which are not drained. Real servers on 127.0.0.1; raw sockets
// send what no client would; every flood stops after 3 s.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { DocumentStore } from '../../src/data/document-store.js';
import { FaissIndex } from '../../src/index/index.js';
import { LIMITS, base64Length, encodeVectors, maxRequestBytes } from '../../src/retrieval/protocol.js';
import { startShardServer, type RunningShardServer } from '../../src/retrieval/shard-server.js';
import { splitAddress } from '../../src/retrieval/transport.js';
import { rawRequest } from '../helpers/http.js';

/** A shard server's JSON answer, with the fields these tests read. */
const parsed = (body: string): { error: string; results: { texts: string[] }[]; documents: { text: string }[] } => JSON.parse(body) as { error: string; results: { texts: string[] }[]; documents: { text: string }[] };

const dir = mkdtempSync(join(tmpdir(), 'tttnn-request-limits-'));
const token = 'r'.repeat(32);
const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
const D = 8;
const N = 1100;
let server: RunningShardServer;
let stop: () => Promise<void>;

before(async () => {
  const data = join(dir, 'limits.jsonl');
  writeFileSync(data, Array.from({ length: N }, (_, i) => JSON.stringify({ text: `d${i}` })).join('\n') + '\n');
  const store = await DocumentStore.open(data);
  const index = FaissIndex.create(D, 'Flat');
  index.add(new Float32Array(N * D).map((_, i) => i % 7));
  server = await startShardServer({ index, store, begin: 0, replica: 0, token, embeddingModel: 'm', host: '127.0.0.1' });
  stop = async () => (await server.close(), index.dispose(), store.close());
});
after(() => stop());

test('the body limit is what the largest legal request needs: that request passes, pretty-printed too; a larger body is 413 naming the limit, unread', async () => {
  const limit = maxRequestBytes(D);
  assert.equal(limit, base64Length(LIMITS.maxQueries * D * 4) + LIMITS.requestSlackBytes);
  assert.equal(maxRequestBytes(768), 1_114_112);
  const largest = JSON.stringify({ k: LIMITS.maxK, vectors: encodeVectors(new Float32Array(LIMITS.maxQueries * D).fill(1)) }, null, 2);
  const search = await rawRequest(server.address, 'POST', '/v1/search', auth, largest);
  assert.equal(search.status, 200, search.body.slice(0, 300));
  assert.equal(parsed(search.body).results.length, LIMITS.maxQueries);
  const ids = JSON.stringify({ ids: Array.from({ length: LIMITS.maxK }, (_, i) => N - 1 - (i % N)) }, null, 4);
  assert.equal((await rawRequest(server.address, 'POST', '/v1/documents', auth, ids)).status, 200);
  for (const body of [Buffer.alloc(limit + 1, 0x20), Buffer.alloc(2 ** 20, 0x5b)]) {
    const answer = await rawRequest(server.address, 'POST', '/v1/search', { ...auth, 'content-length': String(body.length) }, body);
    assert.equal(answer.status, 413);
    assert.match(parsed(answer.body).error, new RegExp(`request body of ${body.length} bytes exceeds this server's limit of ${limit} bytes \\(the largest legal request: 256 query vectors of its dimension, or 1024 ids\\)`));
  }
  // Chunked, so the length is not declared: discarded, not kept, once it passes the limit.
  const chunked = await rawRequest(server.address, 'POST', '/v1/documents', { ...auth, 'transfer-encoding': 'chunked' }, Buffer.alloc(3 * limit, 0x5b));
  assert.equal(chunked.status, 413);
  assert.match(parsed(chunked.body).error, new RegExp(`request body of ${3 * limit} bytes exceeds this server's limit of ${limit} bytes`));
});

test('JSON nested deeper than any request is refused before JSON.parse; brackets inside strings do not count', async () => {
  const deep = `${'['.repeat(20_000)}${']'.repeat(20_000)}`;
  for (const [path, body] of [['/v1/search', deep], ['/v1/documents', `{"ids": ${'['.repeat(9)}1${']'.repeat(9)}}`], ['/v1/search', '['.repeat(60_000)]] as const) {
    const answer = await rawRequest(server.address, 'POST', path, auth, body);
    assert.equal(answer.status, 400, path);
    assert.match(parsed(answer.body).error, new RegExp(`the body nests arrays or objects more than ${LIMITS.maxJsonDepth} deep; a request is a JSON object \\{"(k|ids)"`));
  }
  const strings = JSON.stringify({ ids: [1, 2], note: '[[[[[[[[[[[[[[[[[[[[ \\" {{{{{{{{{{{{{' });
  assert.equal((await rawRequest(server.address, 'POST', '/v1/documents', auth, strings)).status, 200);
  const shallow = JSON.stringify({ ids: [[[[[[1]]]]]] });
  assert.match(parsed((await rawRequest(server.address, 'POST', '/v1/documents', auth, shallow)).body).error, /"ids"\[0\] = \[\[\[\[\[1\]\]\]\]\] is not a non-negative integer/);
});

/**
 * Sends `head` (request line and headers declaring a 1 GiB body), then body
 * bytes for at most 3 s; resolves with the answer's status line, the bytes
 * the socket took, and whether the server closed the connection.
 */
function flood(head: string): Promise<{ status: string; sent: number; closedByServer: boolean }> {
  const [host, port] = splitAddress(server.address);
  return new Promise((resolve) => {
    const socket = connect(port, host);
    const chunk = Buffer.alloc(2 ** 20, 0x61);
    let sent = 0;
    let answer = '';
    let closedByServer = true;
    const started = Date.now();
    socket.on('data', (c: Buffer) => (answer += c.toString('latin1')));
    socket.on('error', () => undefined); // EPIPE / ECONNRESET once the server hangs up
    socket.on('close', () => resolve({ status: answer.split('\r\n')[0] ?? '', sent, closedByServer }));
    socket.write(head);
    const pump = (): void => {
      while (!socket.destroyed && sent < 2 ** 30) {
        if (Date.now() - started > 3000) {
          closedByServer = false;
          return void socket.destroy();
        }
        sent += chunk.length;
        if (!socket.write(chunk)) return void socket.once('drain', pump);
      }
      if (!socket.destroyed) {
        closedByServer = false; // all of it taken: stop here rather than wait for the request timeout
        socket.destroy();
      }
    };
    pump();
  });
}

test('the body of a request refused before its token is checked, or of an unknown endpoint, is not drained: the answer closes the connection', async () => {
  const length = 'Content-Length: 1073741824\r\n';
  const cases: [string, string][] = [
    [`POST /v1/search HTTP/1.1\r\nHost: x\r\n${length}\r\n`, 'HTTP/1.1 401 Unauthorized'],
    [`POST /v1/documents HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${'w'.repeat(32)}\r\n${length}\r\n`, 'HTTP/1.1 403 Forbidden'],
    [`POST /v1/nothing HTTP/1.1\r\nHost: x\r\n${length}\r\n`, 'HTTP/1.1 404 Not Found'],
    [`PUT /v1/search HTTP/1.1\r\nHost: x\r\n${length}\r\n`, 'HTTP/1.1 405 Method Not Allowed'],
    [`POST /v1/search HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n${length}\r\n`, 'HTTP/1.1 413 Payload Too Large'],
  ];
  for (const [head, status] of cases) {
    const result = await flood(head);
    assert.equal(result.status, status, head);
    assert.ok(result.closedByServer, `${status}: the server still read the body after 3 s (${result.sent} bytes)`);
    assert.ok(result.sent < 64 * 2 ** 20, `${status}: the server took ${result.sent} bytes of a body it refused`);
  }
  assert.equal((await rawRequest(server.address, 'GET', '/v1/health', {})).status, 200, 'the server still answers');
});

test('a query whose squared norm overflows float32 (values near 3e38) is refused naming it, not answered 200 with no hits', async () => {
  const queries = new Float32Array(2 * D);
  queries.fill(1, 0, D);
  queries[D] = 3e38;
  const answer = await rawRequest(server.address, 'POST', '/v1/search', auth, JSON.stringify({ k: 3, vectors: encodeVectors(queries) }));
  assert.equal(answer.status, 400, answer.body.slice(0, 200));
  assert.match(parsed(answer.body).error, /query vector 1 has a squared norm beyond the float32 range .*scale the query down/);
  queries[D] = 1e18; // large, but its square fits
  assert.equal((await rawRequest(server.address, 'POST', '/v1/search', auth, JSON.stringify({ k: 3, vectors: encodeVectors(queries) }))).status, 200);
});
