// What a client accepts from a shard server. A replica that answers with the
// wrong shape (wrong types, fewer texts than ids, NaN distances, ids outside
// its slice, vectors of the wrong length) is treated like one that did not
// answer: the client fails over to another replica of the shard. The checks
// throw with what was wrong; nothing here trusts a field it has not checked.
import { checkRecipe } from '../index/embedding-recipe.js';
import { decodeVectors, type HealthResponse, type OpenHealthResponse } from './protocol.js';

/** One query's hits from one shard, checked and decoded. */
export interface CheckedHit {
  ids: number[];
  texts: string[];
  /** [ids.length x d] float32, all finite. */
  vectors: Float32Array;
}

/** The ids a replica may answer with: its slice [begin, end). */
export interface SliceBounds {
  begin: number;
  end: number;
}

function fail(what: string): never {
  throw new Error(`malformed answer: ${what}`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function finiteVectors(text: unknown, count: number, d: number, what: string): Float32Array {
  const vectors = typeof text === 'string' ? decodeVectors(text) : null;
  if (vectors === null) fail(`${what} is not base64 of float32 values`);
  if (vectors.length !== count * d) fail(`${what} holds ${vectors.length} floats, not ${count} x ${d}`);
  for (let i = 0; i < vectors.length; i++) if (!Number.isFinite(vectors[i])) fail(`${what} holds NaN or infinite values`);
  return vectors;
}

function checkIds(ids: unknown, bounds: SliceBounds, what: string): number[] {
  if (!Array.isArray(ids)) fail(`${what} is not an array`);
  ids.forEach((id, j) => {
    if (!isCount(id) || id < bounds.begin || id >= bounds.end) fail(`${what}[${j}] = ${JSON.stringify(id)} is not an id of the slice [${bounds.begin}, ${bounds.end})`);
  });
  return ids as number[];
}

/** GET /v1/health without the token. */
export function checkOpenHealth(value: unknown): OpenHealthResponse {
  if (!isObject(value) || value['status'] !== 'ok') fail('health is not {"status": "ok", ...}');
  if (value['proof'] !== undefined && typeof value['proof'] !== 'string') fail('health "proof" is not a string');
  if (value['channel'] !== undefined && typeof value['channel'] !== 'string') fail('health "channel" is not a string');
  return value as unknown as OpenHealthResponse;
}

/** GET /v1/health with the token: the slice a server claims, which every later answer is held to. */
export function checkHealth(value: unknown): HealthResponse {
  if (!isObject(value) || value['status'] !== 'ok') fail('health is not {"status": "ok", ...}');
  const { shard, replica, begin, vectors, lines, fileVectors, dimension, embeddingModel } = value;
  if (typeof shard !== 'string' || !/:\d+-\d+$/.test(shard)) fail(`health "shard" = ${JSON.stringify(shard)} is not "<file>:<begin>-<end>"`);
  for (const [name, field] of Object.entries({ replica, begin, vectors, lines })) if (!isCount(field)) fail(`health "${name}" = ${JSON.stringify(field)} is not a count`);
  if (fileVectors !== undefined && !isCount(fileVectors)) fail(`health "fileVectors" = ${JSON.stringify(fileVectors)} is not a count`);
  if (!isCount(dimension) || dimension < 1) fail(`health "dimension" = ${JSON.stringify(dimension)} is not a positive integer`);
  if (typeof embeddingModel !== 'string') fail('health "embeddingModel" is not a string');
  if (value['embedding'] !== undefined) {
    try {
      checkRecipe(value['embedding'], 'health "embedding"');
    } catch (error) {
      fail((error as Error).message);
    }
  }
  return value as unknown as HealthResponse;
}

/** POST /v1/search: one list of at most k hits per query, inside the replica's slice. */
export function checkSearchResponse(value: unknown, queries: number, k: number, d: number, bounds: SliceBounds): CheckedHit[] {
  if (!isObject(value) || !Array.isArray(value['results'])) fail('search answer has no "results" array');
  const results = value['results'] as unknown[];
  if (results.length !== queries) fail(`search answered ${results.length} results for ${queries} queries`);
  return results.map((hit, q) => {
    const what = `results[${q}]`;
    if (!isObject(hit)) fail(`${what} is not an object`);
    const ids = checkIds(hit['ids'], bounds, `${what}.ids`);
    if (ids.length > k) fail(`${what} holds ${ids.length} ids for k = ${k}`);
    const { distances, texts } = hit;
    if (!Array.isArray(distances) || distances.length !== ids.length || distances.some((x) => typeof x !== 'number' || !Number.isFinite(x))) {
      fail(`${what}.distances is not ${ids.length} finite numbers`);
    }
    if (!Array.isArray(texts) || texts.length !== ids.length || texts.some((t) => typeof t !== 'string')) fail(`${what}.texts is not ${ids.length} strings`);
    return { ids, texts: texts as string[], vectors: finiteVectors(hit['vectors'], ids.length, d, `${what}.vectors`) };
  });
}

/** POST /v1/documents: exactly the ids asked, in order, each with a text and a d-dimensional vector. */
export function checkDocumentsResponse(value: unknown, ids: number[], d: number): { id: number; text: string; vector: Float32Array }[] {
  if (!isObject(value) || !Array.isArray(value['documents'])) fail('documents answer has no "documents" array');
  const documents = value['documents'] as unknown[];
  if (documents.length !== ids.length) fail(`answered ${documents.length} documents for ${ids.length} ids`);
  return documents.map((document, j) => {
    const what = `documents[${j}]`;
    if (!isObject(document) || document['id'] !== ids[j]) fail(`${what} is not the document ${ids[j]} asked for`);
    if (typeof document['text'] !== 'string') fail(`${what}.text is not a string`);
    return { id: ids[j]!, text: document['text'], vector: finiteVectors(document['vector'], 1, d, `${what}.vector`) };
  });
}
