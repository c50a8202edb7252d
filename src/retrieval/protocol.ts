// The shard servers' wire protocol (HTTP/1.1 + JSON, curl-able):
//   GET  /v1/health    -> HealthResponse (no token needed)
//   POST /v1/search    SearchRequest -> SearchResponse      (Authorization: Bearer <token>)
//   POST /v1/documents DocumentsRequest -> DocumentsResponse (Authorization: Bearer <token>)
//   POST /v1/shutdown  -> {"status": "shutting down"}         (Authorization: Bearer <token>)
// Vectors travel as base64 of little-endian float32 arrays.
import type { EmbeddingRecipe } from '../index/embedding-recipe.js';

/**
 * GET /v1/health without a token: whether the server answers, and, when the
 * request carries `x-tttnn-nonce` (16 to 64 random bytes in hex), the proof
 * that the server holds the fleet's token, bound to the connection:
 * HMAC-SHA256(token, "tttnn-health:" + nonce + ":" + channel) in hex, where
 * channel is "tls:" + 32 bytes of keying material exported from the TLS
 * session (label "EXPORTER-tttnn-health", no context) in hex, or over plain
 * HTTP "tcp:" + the IP address and port the connection reached
 * (channel-binding.ts). A client checks the proof against its own side of
 * the connection before it sends the token anywhere.
 */
export interface OpenHealthResponse {
  status: 'ok';
  proof?: string;
  /** With a proof: what it is bound to, as the server saw it ("127.0.0.1:8080", or "TLS session"), for the client's message. */
  channel?: string;
}

/** GET /v1/health with the token: the slice the server holds. */
export interface HealthResponse {
  status: 'ok';
  /** Identifies the slice: "<data file name>:<begin>-<end>"; replicas of a slice share it. */
  shard: string;
  replica: number;
  /** Global id (line number) of the slice's first vector. */
  begin: number;
  vectors: number;
  /** Lines in the whole data file: shards of one file should cover [0, lines). */
  lines: number;
  /**
   * Vectors of the whole index the fleet serves this file from (all slices):
   * the slices of one file should cover [0, fileVectors). Absent from a
   * server started on its own, which knows only its slice.
   */
  fileVectors?: number;
  dimension: number;
  embeddingModel: string;
  /** How the vectors were made (the index's embedding.json); absent for an index built before tttnn recorded it. */
  embedding?: EmbeddingRecipe;
}

export interface SearchRequest {
  k: number;
  /** base64 float32 [n x dimension]. */
  vectors: string;
}

export interface ShardHit {
  /** Global document ids (line numbers in the data file), nearest first. */
  ids: number[];
  /** Squared L2 distances as the index computed them. */
  distances: number[];
  /** base64 float32 [k x dimension]: the stored vectors, for exact merging. */
  vectors: string;
  texts: string[];
}

export interface SearchResponse {
  shard: string;
  replica: number;
  results: ShardHit[];
}

/** Documents by global id; every id must lie in the server's slice [begin, begin + vectors). */
export interface DocumentsRequest {
  /** 1 to LIMITS.maxK non-negative integers; repeats allowed. */
  ids: number[];
}

export interface StoredDocument {
  id: number;
  text: string;
  /** base64 float32 [dimension]: the stored vector (FAISS reconstruct; decoded for compressed indexes). */
  vector: string;
}

export interface DocumentsResponse {
  shard: string;
  replica: number;
  /** In the order of the request's ids. */
  documents: StoredDocument[];
}

export const LIMITS = {
  maxK: 1024,
  maxQueries: 256,
  /** A ceiling on any request body, whatever the dimension (maxRequestBytes is usually far below it). */
  maxBodyBytes: 64 * 2 ** 20,
  /** Room in a request body beyond its vectors: the JSON around them, 1024 ids of documents, whitespace. */
  requestSlackBytes: 64 * 2 ** 10,
  /** Nesting of arrays and objects in a request body: a legal one nests 2 deep ({"ids": [...]}). */
  maxJsonDepth: 8,
  /**
   * The most bytes one answer may take. A legal request (256 queries x
   * 1024 neighbours x a wide embedding, with long texts) could otherwise ask
   * for gigabytes, beyond what V8 can hold in one string; the server refuses
   * it up front (HTTP 400 naming this budget) and a client reads no more.
   */
  maxResponseBytes: 256 * 2 ** 20,
};

/** What one client, or many slow ones, can take of a server. */
export interface ServerLimits {
  /** Largest answer in bytes; a request that would need more gets HTTP 400 naming it (protocol.ts LIMITS). */
  maxResponseBytes: number;
  /** Time a connection has to send a request's headers (slow-loris connections are closed after it). */
  headersTimeoutMs: number;
  /** Time a connection has to send a whole request, body included. */
  requestTimeoutMs: number;
  /** Open connections at once; more are closed as they arrive. */
  maxConnections: number;
}

export const SERVER_LIMITS: ServerLimits = {
  maxResponseBytes: LIMITS.maxResponseBytes,
  headersTimeoutMs: 15_000,
  requestTimeoutMs: 120_000,
  maxConnections: 1024,
};

/** Bytes of the base64 text of `bytes` bytes. */
export function base64Length(bytes: number): number {
  return 4 * Math.ceil(bytes / 3);
}

/**
 * The largest request body a server of dimension `d` reads: what the
 * largest legal request needs (maxQueries vectors of d float32s in base64,
 * plus requestSlackBytes), at most maxBodyBytes. For d = 768 that is
 * 1,114,112 bytes; anything larger is refused with 413 unread.
 */
export function maxRequestBytes(d: number): number {
  return Math.min(LIMITS.maxBodyBytes, base64Length(LIMITS.maxQueries * d * 4) + LIMITS.requestSlackBytes);
}

export function encodeVectors(vectors: Float32Array): string {
  return Buffer.from(vectors.buffer, vectors.byteOffset, vectors.byteLength).toString('base64');
}

/**
 * Decodes base64 float32s; null when the text is not the standard base64 of
 * whole floats. Node's decoder skips characters outside the alphabet, so the
 * bytes are encoded again and compared: only the canonical text (what any
 * standard encoder writes) passes. (10x faster than a regular expression
 * over the text: 0.1 ms for 50 x 768 floats.)
 */
export function decodeVectors(text: string): Float32Array | null {
  if (typeof text !== 'string' || text.length % 4 !== 0) return null;
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length % 4 !== 0 || bytes.toString('base64') !== text) return null;
  const out = new Float32Array(bytes.length / 4);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}
