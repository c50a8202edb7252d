// One shard server: a slice of one data file's index, answering searches
// (and fetches of documents by id) over HTTP. Searches run on FAISS worker
// threads, so requests are served concurrently; every bad request gets a 4xx
// with a message and the server stays healthy; shutdown lets in-flight
// requests finish.
import type { EmbeddingRecipe } from '../index/embedding-recipe.js';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { basename } from 'node:path';
import { DataFileChangedError, type DocumentStore } from '../data/document-store.js';
import { IndexFileChangedError } from '../index/index-file-check.js';
import type { FaissIndex } from '../index/index.js';
import { advertisedHost } from './addresses.js';
import { bearerToken, isNonce, proofOfToken, tokensEqual } from './auth.js';
import { serverChannel } from './channel-binding.js';
import { HttpError, readJsonObject } from './request-body.js';
import { LIMITS, SERVER_LIMITS, base64Length, decodeVectors, encodeVectors, maxRequestBytes, type ServerLimits, type DocumentsResponse, type HealthResponse, type OpenHealthResponse, type SearchResponse } from './protocol.js';

export interface ShardServerOptions {
  index: FaissIndex;
  store: DocumentStore;
  /** Global id of the slice's first vector. */
  begin: number;
  replica: number;
  token: string;
  embeddingModel: string;
  /** How the index's vectors were made (its embedding.json), served in the health answer. */
  embedding?: EmbeddingRecipe;
  host?: string;
  port?: number;
  /** The host put in the address clients are given (default: see advertisedHost). */
  advertiseHost?: string;
  /** Vectors of the file's whole index (all slices), when the server is one slice of a fleet. */
  fileVectors?: number;
  /** HTTPS with this certificate and key (PEM) instead of plain HTTP. */
  tls?: { cert: string; key: string };
  /** Bounds on connections and answers (defaults: SERVER_LIMITS). */
  limits?: Partial<ServerLimits>;
}


export interface RunningShardServer {
  address: string;
  health: HealthResponse;
  /** Stops accepting connections and resolves when in-flight requests are done. */
  close(): Promise<void>;
  /** Resolves when the server has shut down (by close() or POST /v1/shutdown). */
  closed: Promise<void>;
}

/** What the request handlers read: the slice's index and data file, and where the slice starts. */
interface Shard {
  index: FaissIndex;
  store: DocumentStore;
  begin: number;
  d: number;
  ntotal: number;
  health: HealthResponse;
  maxResponseBytes: number;
  /** The largest request body read (protocol.ts maxRequestBytes of d). */
  maxRequestBytes: number;
}

// Up front, before any work: the bytes the vectors (and ids, distances) of
// `hits` hits would take, against the response budget.
function checkResponseBudget(hits: number, d: number, budget: number, what: string): number {
  const bytes = hits * (base64Length(d * 4) + 40);
  if (bytes > budget) throw new HttpError(400, `the answer would take at least ${bytes} bytes (${what} x dimension ${d}), over this server's response budget of ${budget} bytes; ask fewer queries or neighbours per request`);
  return bytes;
}

// While collecting texts: adds one to the running size, refusing once it passes the budget.
function addText(bytes: number, text: string, budget: number): number {
  const total = bytes + Buffer.byteLength(text) + 3;
  if (total > budget) throw new HttpError(400, `the texts of the hits take more than this server's response budget of ${budget} bytes; ask fewer queries or neighbours per request`);
  return total;
}

/**
 * The first query whose squared L2 norm, as FAISS computes it in float32,
 * overflows (-1 when none does): every distance to it is then inf or NaN
 * and the search would answer 200 with no hits.
 */
function queryBeyondFloat32(queries: Float32Array, d: number): number {
  for (let q = 0; q < queries.length / d; q++) {
    let sum = 0;
    for (let i = q * d; i < (q + 1) * d; i++) sum += (queries[i] as number) ** 2;
    if (!Number.isFinite(Math.fround(sum))) return q;
  }
  return -1;
}

/** POST /v1/search: the k nearest vectors of the slice to each query, with their global ids, texts and stored vectors. */
async function search(shard: Shard, body: Record<string, unknown>): Promise<SearchResponse> {
  const { k, vectors } = body;
  const { d, ntotal, begin } = shard;
  if (typeof k !== 'number' || !Number.isInteger(k) || k < 1 || k > LIMITS.maxK) throw new HttpError(400, `"k" must be an integer from 1 to ${LIMITS.maxK}`);
  if (typeof vectors !== 'string') throw new HttpError(400, '"vectors" must be a base64 string of float32 values');
  const queries = decodeVectors(vectors);
  if (queries === null) throw new HttpError(400, '"vectors" is not valid base64 of float32 values');
  if (queries.length === 0 || queries.length % d !== 0) throw new HttpError(400, `"vectors" holds ${queries.length} floats, not a positive multiple of the dimension ${d}`);
  const n = queries.length / d;
  if (n > LIMITS.maxQueries) throw new HttpError(400, `at most ${LIMITS.maxQueries} query vectors per request`);
  if (queries.some((v) => !Number.isFinite(v))) throw new HttpError(400, '"vectors" contains NaN or infinite values');
  const q = queryBeyondFloat32(queries, d);
  if (q >= 0) throw new HttpError(400, `query vector ${q} has a squared norm beyond the float32 range (values near 1e19 or more): FAISS's distances to it would be infinite or NaN and no neighbour could be found; scale the query down`);
  const kk = Math.min(k, ntotal);
  let bytes = checkResponseBudget(n * kk, d, shard.maxResponseBytes, `${n} queries x k = ${kk}`);
  const reply = { shard: shard.health.shard, replica: shard.health.replica };
  if (kk === 0) return { ...reply, results: Array.from({ length: n }, () => ({ ids: [], distances: [], vectors: '', texts: [] })) };
  const found = await shard.index.search(queries, kk, { reconstruct: true });
  const results = Array.from({ length: n }, (_, q) => {
    const ids: number[] = [];
    const distances: number[] = [];
    const texts: string[] = [];
    const keep: number[] = [];
    for (let j = 0; j < kk; j++) {
      const local = Number(found.ids[q * kk + j]);
      if (local < 0) continue; // FAISS pads with -1 where it found fewer than k
      keep.push(j);
      ids.push(begin + local);
      distances.push(found.distances[q * kk + j] as number);
      const text = shard.store.indexedText(begin + local);
      bytes = addText(bytes, text, shard.maxResponseBytes);
      texts.push(text);
    }
    const vectorsOut = new Float32Array(keep.length * d);
    keep.forEach((j, m) => vectorsOut.set(found.vectors!.subarray((q * kk + j) * d, (q * kk + j + 1) * d), m * d));
    return { ids, distances, vectors: encodeVectors(vectorsOut), texts };
  });
  shard.store.checkUnchanged(); // texts read from a file rewritten since would not be the documents the index holds
  return { ...reply, results };
}

/**
 * POST /v1/documents: texts from the store, vectors reconstructed from the
 * index (exact for Flat; decoded, as search returns them, for compressed
 * indexes).
 */
function documents(shard: Shard, body: Record<string, unknown>): DocumentsResponse {
  const { ids } = body;
  const { begin, store } = shard;
  if (!Array.isArray(ids) || ids.length === 0) throw new HttpError(400, '"ids" must be a non-empty array of document ids');
  if (ids.length > LIMITS.maxK) throw new HttpError(400, `at most ${LIMITS.maxK} ids per request (got ${ids.length})`);
  const end = begin + shard.ntotal;
  ids.forEach((id: unknown, i) => {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) throw new HttpError(400, `"ids"[${i}] = ${JSON.stringify(id)} is not a non-negative integer`);
    if (id < begin || id >= end) throw new HttpError(400, `document id ${id} is outside this shard's slice [${begin}, ${end}) of ${basename(store.path)}`);
  });
  let bytes = checkResponseBudget(ids.length, shard.d, shard.maxResponseBytes, `${ids.length} documents`);
  const answer = {
    shard: shard.health.shard,
    replica: shard.health.replica,
    documents: (ids as number[]).map((id) => {
      const text = store.indexedText(id);
      bytes = addText(bytes, text, shard.maxResponseBytes);
      return { id, text, vector: encodeVectors(shard.index.reconstruct(id - begin, 1)) };
    }),
  };
  store.checkUnchanged();
  return answer;
}

function authorize(request: IncomingMessage, token: string): void {
  const given = bearerToken(request.headers.authorization);
  if (given === null) throw new HttpError(401, 'missing "Authorization: Bearer <token>" header');
  if (!tokensEqual(given, token)) throw new HttpError(403, 'wrong token');
}

/** A request's answer; `shutdown`: close the server once it is sent. */
interface Answer {
  body: unknown;
  shutdown?: boolean;
}

// The endpoints (protocol.ts), each behind its method and, but for the open health, the token.
async function route(shard: Shard, token: string, request: IncomingMessage): Promise<Answer> {
  const url = request.url ?? '/';
  const endpoint = (method: 'GET' | 'POST', open = false): void => {
    if (request.method !== method) throw new HttpError(405, `use ${method} ${url}`);
    if (!open) authorize(request, token);
  };
  switch (url) {
    case '/v1/health': {
      // Open: only that the server answers (and, for a nonce, the proof that it holds the token,
      // bound to this connection); with the token: which slice of which file, and the embedder it was indexed with.
      endpoint('GET', request.headers.authorization === undefined);
      if (request.headers.authorization !== undefined) return { body: shard.health };
      const nonce = request.headers['x-tttnn-nonce'];
      if (!isNonce(nonce)) return { body: { status: 'ok' } satisfies OpenHealthResponse };
      const channel = serverChannel(request.socket);
      return { body: { status: 'ok', proof: proofOfToken(token, nonce, channel.value), channel: channel.shown } satisfies OpenHealthResponse };
    }
    case '/v1/search':
      endpoint('POST');
      return { body: await search(shard, await readJsonObject(request, shard.maxRequestBytes, '{"k": ..., "vectors": ...}')) };
    case '/v1/documents':
      endpoint('POST');
      return { body: documents(shard, await readJsonObject(request, shard.maxRequestBytes, '{"ids": [...]}')) };
    case '/v1/shutdown':
      endpoint('POST');
      return { body: { status: 'shutting down' }, shutdown: true };
    default:
      throw new HttpError(404, `no such endpoint ${url} (endpoints: GET /v1/health, POST /v1/search, POST /v1/documents, POST /v1/shutdown)`);
  }
}

// A JSON answer (`close`: then the connection is closed). An answer over the budget (escapes can make one outgrow the
// estimates in search and documents) never leaves: it becomes a 400.
function sendJson(response: ServerResponse, status: number, body: unknown, maxResponseBytes: number, close: boolean): void {
  let text = JSON.stringify(body);
  if (status === 200 && Buffer.byteLength(text) > maxResponseBytes) {
    status = 400;
    text = JSON.stringify({ error: `the answer takes ${Buffer.byteLength(text)} bytes, over this server's response budget of ${maxResponseBytes} bytes; ask fewer queries or neighbours per request` });
  }
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...(close ? { connection: 'close' } : {}) });
  response.end(text);
}

// Node checks headersTimeout and requestTimeout every connectionsCheckingInterval
// (30 s by default): check often enough that the timeouts mean what they say.
function createHttpServer(tls: ShardServerOptions['tls'], limits: ServerLimits, listener: (request: IncomingMessage, response: ServerResponse) => void): Server {
  const settings = {
    keepAliveTimeout: 30_000,
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    connectionsCheckingInterval: Math.max(50, Math.min(1000, limits.headersTimeoutMs / 4)),
  };
  const server = tls ? createHttpsServer({ ...settings, cert: tls.cert, key: tls.key }, listener) : createServer(settings, listener);
  server.maxConnections = limits.maxConnections;
  return server;
}

export async function startShardServer(options: ShardServerOptions): Promise<RunningShardServer> {
  const { index, store, begin, token } = options;
  const info = index.info;
  const health: HealthResponse = {
    status: 'ok',
    shard: `${basename(store.path)}:${begin}-${begin + info.ntotal}`,
    replica: options.replica,
    begin,
    vectors: info.ntotal,
    lines: store.size,
    ...(options.fileVectors === undefined ? {} : { fileVectors: options.fileVectors }),
    dimension: info.d,
    embeddingModel: options.embeddingModel,
    ...(options.embedding === undefined ? {} : { embedding: options.embedding }),
  };
  const limits = { ...SERVER_LIMITS, ...options.limits };
  const shard: Shard = { index, store, begin, d: info.d, ntotal: info.ntotal, health, maxResponseBytes: limits.maxResponseBytes, maxRequestBytes: maxRequestBytes(info.d) };
  let closing = false;

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    // A request answered before its body arrived (refused before the token was checked, an unknown
    // endpoint, a body over the limit) closes the connection: Node would otherwise read and discard
    // whatever the sender keeps sending, gigabytes, until the request timeout.
    const send = (status: number, body: unknown): void => sendJson(response, status, body, limits.maxResponseBytes, closing || !request.complete);
    try {
      const answer = await route(shard, token, request);
      send(200, answer.body);
      if (answer.shutdown) void close();
    } catch (error) {
      if (error instanceof HttpError) send(error.status, { error: error.message });
      else if (error instanceof IndexFileChangedError || error instanceof DataFileChangedError) send(503, { error: error.message });
      else send(500, { error: (error as Error).message });
    }
  };

  const server = createHttpServer(options.tls, limits, (request, response) => void handle(request, response));
  let resolveClosed: () => void = () => undefined;
  const closed = new Promise<void>((resolve) => (resolveClosed = resolve));
  function close(): Promise<void> {
    if (!closing) {
      closing = true;
      server.close(() => resolveClosed()); // waits for in-flight requests
      server.closeIdleConnections();
    }
    return closed;
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  const advertised = advertisedHost(address, options.advertiseHost);
  const host = advertised.includes(':') ? `[${advertised}]` : advertised;
  return { address: `${host}:${port}`, health, close, closed };
}
