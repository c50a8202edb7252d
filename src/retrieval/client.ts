// The scatter-gather client: learns which shard each address serves, sends
// every query to one live replica of every shard concurrently, fails over to
// another replica on error or timeout, and merges the candidates exactly by
// L2 distance between the query and each returned vector. A shard with no
// live replica fails the search, or (policy "partial") is left out and the
// result says so. Documents can also be fetched by id (routed to the shard
// whose slice holds each id, with the same failover), e.g. for a control
// that trains on documents drawn uniformly from everything the fleet serves.
import { squaredL2 } from '../index/distance.js';
import { newNonce, proofMatches } from './auth.js';
import { LIMITS, encodeVectors, type HealthResponse, type OpenHealthResponse } from './protocol.js';
import { checkDocumentsResponse, checkHealth, checkOpenHealth, checkSearchResponse, type CheckedHit, type SliceBounds } from './response-checks.js';
import { call, exchange, type Transport } from './transport.js';

export interface Neighbor {
  /** Global document id (line number in the shard's data file). */
  id: number;
  shard: string;
  /** Squared L2 distance to the query. */
  distance: number;
  text: string;
  vector: Float32Array;
}

export interface QueryResult {
  neighbors: Neighbor[];
  /** Shards that answered, and those that did not (only with policy "partial"). */
  answered: string[];
  missing: string[];
  partial: boolean;
}

/**
 * A document named unambiguously: ids are line numbers per data file, and
 * one fleet may serve several files. `file` is the data file's name as shard
 * ids spell it ("00.jsonl").
 */
export interface DocumentRef {
  file: string;
  id: number;
}

/** A document fetched by id. */
export interface FetchedDocument {
  id: number;
  file: string;
  /** The shard that served it ("00.jsonl:0-1500"). */
  shard: string;
  text: string;
  /** The stored vector (FAISS reconstruct: exact for Flat, decoded for compressed indexes). */
  vector: Float32Array;
}

/** Ids [begin, end) of one data file that reachable shard servers cover. */
export interface CoveredRange {
  file: string;
  begin: number;
  end: number;
}

export type MissingShardPolicy = 'fail' | 'partial';

export interface ClientOptions {
  addresses: string[];
  token: string;
  /** Deadline of each request, connect to last byte (default 30 s); a replica that misses it counts as down. */
  timeoutMs?: number;
  onMissingShard?: MissingShardPolicy;
  /** HTTPS with this CA instead of plain HTTP (servers started with --tls-cert/--tls-key). */
  transport?: Transport;
  /**
   * The embedder this client embeds queries with (its directory): servers
   * whose index was built with another (their embeddingModel) are refused,
   * since vectors of another embedder of the same dimension give neighbours
   * that mean nothing. The same directory name counts as the same embedder
   * (a checkpoint mounted at another path on another host).
   */
  embeddingModel?: string;
}

/** Whether two embedder names (directories, as embedding_model.txt records them) name the same embedder. */
export function sameEmbedder(a: string, b: string): boolean {
  const last = (path: string): string => path.replace(/[\\/]+$/, '').split(/[\\/]/).at(-1) ?? path;
  return a === b || last(a) === last(b);
}

interface Replica {
  address: string;
  health: HealthResponse;
}

/** "00.jsonl:0-1500" -> "00.jsonl". */
function fileOf(shard: string): string {
  return shard.slice(0, shard.lastIndexOf(':'));
}

function idOf(ref: number | DocumentRef): number {
  return typeof ref === 'number' ? ref : ref.id;
}

/** Whether a server answers, without the token (and without learning what it serves). */
export async function ping(address: string, timeoutMs = 5000, transport: Transport = {}): Promise<OpenHealthResponse> {
  return checkOpenHealth(await call(address, { method: 'GET', path: '/v1/health', timeoutMs }, transport));
}

/**
 * What a server serves. The token goes only to a server that has first
 * proved it holds it (a challenge: HMAC of a fresh nonce, bound to the
 * connection: channel-binding.ts), so an address that went stale and now
 * belongs to another process never receives it, even when that process
 * relays the challenge to a real server.
 */
export async function health(address: string, token: string, timeoutMs = 5000, transport: Transport = {}): Promise<HealthResponse> {
  const nonce = newNonce();
  const { body, channel } = await exchange(address, { method: 'GET', path: '/v1/health', timeoutMs, headers: { 'x-tttnn-nonce': nonce } }, transport);
  const open = checkOpenHealth(body);
  if (!proofMatches(open.proof, token, nonce, channel.value)) {
    const elsewhere = open.channel !== undefined && open.channel !== channel.shown && open.proof !== undefined && proofMatches(open.proof, token, nonce, `tcp:${open.channel}`);
    if (elsewhere) {
      throw new Error(
        `${address}: the answer proves the token for a server at ${open.channel}, not for ${channel.shown}, where the client connected: something in between (a relay, a port forward, NAT) passes the connection on; the token was not sent. Dial the server's own address, or serve over TLS (--tls-cert/--tls-key, clients --ca), whose proof is bound to the TLS session`,
      );
    }
    throw new Error(`${address}: the server did not prove it holds this fleet's token (another fleet, or a stale address now used by another process); the token was not sent`);
  }
  try {
    return checkHealth(await call(address, { method: 'GET', path: '/v1/health', token, timeoutMs }, transport));
  } catch (error) {
    throw new Error(`${address}/v1/health: ${(error as Error).message}`);
  }
}

export async function shutdown(address: string, token: string, timeoutMs = 5000, transport: Transport = {}): Promise<void> {
  await health(address, token, timeoutMs, transport); // the token only to a server that proved it holds it
  await call(address, { method: 'POST', path: '/v1/shutdown', token, body: '{}', timeoutMs }, transport);
}

export class RetrievalClient {
  /** Replicas of each shard, in the order they are tried. */
  readonly shards = new Map<string, Replica[]>();
  readonly unreachable: string[] = [];
  /** Line ranges of a data file that no reachable server covers ("00.jsonl:1500-3000"): missing shards. */
  readonly uncovered: string[] = [];
  dimension = 0;
  private turn = 0;

  private constructor(private readonly options: ClientOptions) {}

  /** Asks every address for its health and groups replicas by shard. */
  static async connect(options: ClientOptions): Promise<RetrievalClient> {
    const client = new RetrievalClient(options);
    const results = await Promise.allSettled(options.addresses.map((a) => health(a, options.token, options.timeoutMs ?? 5000, options.transport)));
    results.forEach((result, i) => {
      const address = options.addresses[i] as string;
      if (result.status === 'rejected') {
        client.unreachable.push(address);
        return;
      }
      const h = result.value;
      if (client.dimension !== 0 && h.dimension !== client.dimension) {
        throw new Error(`${address} serves ${h.dimension}-dimensional vectors, others ${client.dimension}-dimensional`);
      }
      client.dimension = h.dimension;
      client.checkEmbedder(address, h.embeddingModel);
      (client.shards.get(h.shard) ?? client.shards.set(h.shard, []).get(h.shard)!).push({ address, health: h });
    });
    client.findUncovered();
    if (client.shards.size === 0) throw new Error(`no shard server answered (tried ${options.addresses.length} addresses: ${options.addresses.slice(0, 3).join(', ')}${options.addresses.length > 3 ? ', …' : ''})`);
    return client;
  }

  // Every server's index must come from one embedder, the client's when it names one ("unknown": no embedding_model.txt, nothing to compare).
  private embedderSeen: { address: string; model: string } | undefined;
  private checkEmbedder(address: string, model: string): void {
    if (model === 'unknown') return;
    const expected = this.options.embeddingModel;
    if (expected !== undefined && !sameEmbedder(model, expected)) {
      throw new Error(`${address} serves an index built with the embedder ${model} (its embedding_model.txt), and queries are embedded with ${expected}: neighbours by another embedder's vectors mean nothing; pass --embedder ${model}, or serve an index built with ${expected}`);
    }
    if (this.embedderSeen && !sameEmbedder(model, this.embedderSeen.model)) {
      throw new Error(`${address} serves an index built with the embedder ${model}, ${this.embedderSeen.address} one built with ${this.embedderSeen.model}: one fleet must serve indexes of one embedder`);
    }
    this.embedderSeen ??= { address, model };
  }

  // Servers of one data file should cover its index [0, fileVectors) — or,
  // for servers that do not know it, its lines [0, lines) — without gaps;
  // what is not covered belongs to shards whose every replica is down, or
  // that never registered.
  private findUncovered(): void {
    const byFile = new Map<string, HealthResponse[]>();
    for (const replicas of this.shards.values()) {
      const h = replicas[0]!.health;
      const file = fileOf(h.shard);
      (byFile.get(file) ?? byFile.set(file, []).get(file)!).push(h);
    }
    for (const [file, list] of byFile) {
      list.sort((a, b) => a.begin - b.begin);
      let covered = 0;
      for (const h of list) {
        if (h.begin > covered) this.uncovered.push(`${file}:${covered}-${h.begin}`);
        covered = Math.max(covered, h.begin + h.vectors);
      }
      const extent = list.reduce((most, h) => Math.max(most, h.fileVectors ?? 0), 0);
      const lines = list[0]!.lines;
      if (covered < extent) this.uncovered.push(`${file}:${covered}-${extent}`);
      else if (extent === 0 && this.unreachable.length > 0 && covered < lines) this.uncovered.push(`${file}:${covered}-${lines}`);
    }
  }

  /** Total vectors over all shards. */
  get vectors(): number {
    return [...this.shards.values()].reduce((n, replicas) => n + (replicas[0]?.health.vectors ?? 0), 0);
  }

  /** The k nearest neighbours of each query vector (queries: n x dimension). */
  async search(queries: Float32Array, k: number): Promise<QueryResult[]> {
    const d = this.dimension;
    if (queries.length === 0 || queries.length % d !== 0) throw new Error(`query vectors must be a multiple of the dimension ${d}`);
    const n = queries.length / d;
    const body = JSON.stringify({ k, vectors: encodeVectors(queries) });
    const start = this.turn++;
    const perShard = await Promise.all(
      [...this.shards.entries()].map(async ([shard, replicas]) => ({ shard, ...(await this.ask(replicas, '/v1/search', body, start, (answer, slice) => checkSearchResponse(answer, n, k, d, slice))) })),
    );
    const failed = perShard.filter((r) => !('response' in r)) as { shard: string; errors: string[] }[];
    for (const range of this.uncovered) failed.push({ shard: range, errors: [`no reachable server covers ${range} (${this.unreachable.length > 0 ? `unreachable: ${this.unreachable.join(', ')}` : 'its servers never registered in the addresses file'})`] });
    if (failed.length > 0 && (this.options.onMissingShard ?? 'fail') === 'fail') {
      throw new Error(`no replica of shard ${failed[0]!.shard} answered: ${failed[0]!.errors.join('; ')} (use --on-missing-shard partial to search the other shards)`);
    }
    const answered = perShard.filter((r): r is { shard: string; response: CheckedHit[] } => 'response' in r);
    return Array.from({ length: n }, (_, q) => {
      const query = queries.subarray(q * d, (q + 1) * d);
      const candidates: Neighbor[] = [];
      for (const { shard, response } of answered) {
        const hit = response[q]!;
        hit.ids.forEach((id, j) => {
          const vector = hit.vectors.subarray(j * d, (j + 1) * d);
          candidates.push({ id, shard, distance: squaredL2(vector, query), text: hit.texts[j]!, vector });
        });
      }
      candidates.sort((a, b) => a.distance - b.distance || a.id - b.id);
      return {
        neighbors: candidates.slice(0, k),
        answered: answered.map((a) => a.shard),
        missing: failed.map((f) => f.shard),
        partial: failed.length > 0,
      };
    });
  }

  // One request to a shard: tries its replicas in turn, starting at `start`.
  // An answer that fails `check` (held to the slice the replica claimed)
  // counts as that replica's failure, like an error or a missed deadline.
  private async ask<T>(replicas: Replica[], path: string, body: string, start: number, check: (answer: unknown, slice: SliceBounds) => T): Promise<{ response: T } | { errors: string[] }> {
    const errors: string[] = [];
    const timeoutMs = this.options.timeoutMs ?? 30_000;
    for (let attempt = 0; attempt < replicas.length; attempt++) {
      const { address, health: h } = replicas[(start + attempt) % replicas.length] as Replica;
      let answer: unknown;
      try {
        answer = await call(address, { method: 'POST', path, token: this.options.token, body, timeoutMs }, this.options.transport);
      } catch (error) {
        errors.push((error as Error).message); // names the address already
        continue;
      }
      try {
        return { response: check(answer, { begin: h.begin, end: h.begin + h.vectors }) };
      } catch (error) {
        errors.push(`${address}${path}: ${(error as Error).message}`);
      }
    }
    return { errors };
  }

  /**
   * The ids that reachable shard servers cover, per data file: disjoint
   * ranges sorted by file and begin (overlapping slices of a file, e.g. from
   * two fleets, are merged, so every document counts once).
   */
  coveredRanges(): CoveredRange[] {
    const slices = [...this.shards.values()]
      .map((replicas) => replicas[0]!.health)
      .map((h) => ({ file: fileOf(h.shard), begin: h.begin, end: h.begin + h.vectors }))
      .filter((r) => r.end > r.begin)
      .sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.begin - b.begin));
    const merged: CoveredRange[] = [];
    for (const r of slices) {
      const last = merged.at(-1);
      if (last && last.file === r.file && r.begin <= last.end) last.end = Math.max(last.end, r.end);
      else merged.push({ ...r });
    }
    return merged;
  }

  /** Number of distinct documents covered: the population that randomDocuments draws from. */
  get totalCovered(): number {
    return this.coveredRanges().reduce((n, r) => n + r.end - r.begin, 0);
  }

  /**
   * Documents by id, in the order asked (repeats allowed). A bare number is
   * routed to the data file whose reachable shards cover it, and is an error
   * when shards of several files do; a {file, id} names the file. Each shard
   * is asked once per LIMITS.maxK ids, failing over between its replicas as
   * search does. Rejects naming the id when no reachable shard covers it, or
   * naming the shard when none of its replicas answered.
   */
  async documents(refs: (number | DocumentRef)[]): Promise<FetchedDocument[]> {
    const slices = [...this.shards.entries()].map(([shard, replicas]) => ({ shard, file: fileOf(shard), begin: replicas[0]!.health.begin, end: replicas[0]!.health.begin + replicas[0]!.health.vectors, replicas }));
    const served = slices.map((s) => s.shard).join(', ');
    // Positions in `refs` asked of each shard.
    const asked = new Map<string, number[]>();
    refs.forEach((ref, position) => {
      const { file, id } = typeof ref === 'number' ? { file: undefined, id: ref } : ref;
      const name = file === undefined ? `document id ${id}` : `document ${file}:${id}`;
      if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) throw new Error(`${name}: ids are non-negative integers`);
      const covering = slices.filter((s) => (file === undefined || s.file === file) && s.begin <= id && id < s.end);
      if (covering.length === 0) throw new Error(`${name}: no reachable shard server covers it (served: ${served || 'none'}${this.unreachable.length > 0 ? `; unreachable: ${this.unreachable.join(', ')}` : ''})`);
      const files = [...new Set(covering.map((s) => s.file))];
      if (files.length > 1) throw new Error(`${name} is ambiguous: it is a line of each of ${files.join(', ')}; pass {file, id}`);
      const shard = covering[0]!.shard;
      (asked.get(shard) ?? asked.set(shard, []).get(shard)!).push(position);
    });
    const start = this.turn++;
    const d = this.dimension;
    const out = new Array<FetchedDocument>(refs.length);
    const requests: Promise<void>[] = [];
    for (const [shard, positions] of asked) {
      const replicas = this.shards.get(shard)!;
      for (let from = 0; from < positions.length; from += LIMITS.maxK) {
        const chunk = positions.slice(from, from + LIMITS.maxK);
        const ids = chunk.map((p) => idOf(refs[p]!));
        requests.push(
          this.ask(replicas, '/v1/documents', JSON.stringify({ ids }), start, (answer) => checkDocumentsResponse(answer, ids, d)).then((answer) => {
            if (!('response' in answer)) throw new Error(`no replica of shard ${shard} answered: ${answer.errors.join('; ')}`);
            answer.response.forEach((document, j) => (out[chunk[j]!] = { ...document, file: fileOf(shard), shard }));
          }),
        );
      }
    }
    await Promise.all(requests);
    return out;
  }

  /**
   * `count` distinct documents drawn uniformly at random, without
   * replacement, from all covered ones (coveredRanges), in random order,
   * then fetched. `random` is a uniform generator on [0, 1) (Math.random,
   * or a seeded one for a reproducible draw: the same generator state and
   * coverage give the same documents). It is called exactly 2 * count - 1
   * times (Floyd's sampling, then a Fisher-Yates shuffle).
   */
  async randomDocuments(count: number, random: () => number): Promise<FetchedDocument[]> {
    return this.documents(this.drawDocuments(count, random));
  }

  /** The draw of randomDocuments without the fetch: distinct {file, id} refs. */
  drawDocuments(count: number, random: () => number): DocumentRef[] {
    const ranges = this.coveredRanges();
    const total = ranges.reduce((n, r) => n + r.end - r.begin, 0);
    if (!Number.isInteger(count) || count < 0) throw new Error(`the number of documents to draw must be a non-negative integer, not ${count}`);
    if (count > total) throw new Error(`cannot draw ${count} distinct documents: the reachable shards cover ${total}`);
    const uniform = (n: number): number => {
      const u = random();
      if (!(u >= 0 && u < 1)) throw new Error(`the random generator returned ${u}, not a number in [0, 1)`);
      return Math.floor(u * n);
    };
    // Floyd: a uniformly random count-subset of [0, total).
    const chosen = new Set<number>();
    for (let j = total - count; j < total; j++) {
      const t = uniform(j + 1);
      chosen.add(chosen.has(t) ? j : t);
    }
    const positions = [...chosen];
    for (let i = positions.length - 1; i > 0; i--) {
      const j = uniform(i + 1);
      [positions[i], positions[j]] = [positions[j]!, positions[i]!];
    }
    // Position -> (file, id): ranges laid end to end.
    const starts: number[] = [];
    let offset = 0;
    for (const r of ranges) {
      starts.push(offset);
      offset += r.end - r.begin;
    }
    return positions.map((position) => {
      let lo = 0;
      let hi = ranges.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (starts[mid]! <= position) lo = mid;
        else hi = mid - 1;
      }
      const range = ranges[lo]!;
      return { file: range.file, id: range.begin + position - starts[lo]! };
    });
  }
}
