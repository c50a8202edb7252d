// The scatter-gather client: learns which shard each address serves, sends
// every query to one live replica of every shard concurrently, fails over to
// another replica on error or timeout, and merges the candidates exactly by
// L2 distance between the query and each returned vector. A shard with no
// live replica fails the search, or (policy "partial") is left out and the
// result says so.
import { Agent, request as httpRequest } from 'node:http';
import { decodeVectors, encodeVectors, type HealthResponse, type SearchResponse } from './protocol.js';

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

export type MissingShardPolicy = 'fail' | 'partial';

export interface ClientOptions {
  addresses: string[];
  token: string;
  /** Per-request timeout (default 30 s). */
  timeoutMs?: number;
  onMissingShard?: MissingShardPolicy;
}

interface Replica {
  address: string;
  health: HealthResponse;
}

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

function call<T>(address: string, method: string, path: string, token: string | null, body: string | null, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const [host, port] = splitAddress(address);
    const req = httpRequest(
      {
        host, port, method, path, agent, timeout: timeoutMs,
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {}) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode !== 200) {
            reject(new Error(`${address}${path}: HTTP ${res.statusCode}: ${text.slice(0, 300)}`));
            return;
          }
          try {
            resolve(JSON.parse(text) as T);
          } catch {
            reject(new Error(`${address}${path}: malformed JSON response`));
          }
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${address}${path}: timed out after ${timeoutMs} ms`)));
    req.on('error', (error) => reject(new Error(`${address}${path}: ${error.message}`)));
    if (body) req.write(body);
    req.end();
  });
}

function splitAddress(address: string): [string, number] {
  const colon = address.lastIndexOf(':');
  return [address.slice(0, colon).replace(/^\[|\]$/g, ''), Number(address.slice(colon + 1))];
}

export async function health(address: string, timeoutMs = 5000): Promise<HealthResponse> {
  return call<HealthResponse>(address, 'GET', '/v1/health', null, null, timeoutMs);
}

export async function shutdown(address: string, token: string, timeoutMs = 5000): Promise<void> {
  await call(address, 'POST', '/v1/shutdown', token, '{}', timeoutMs);
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
    const results = await Promise.allSettled(options.addresses.map((a) => health(a, options.timeoutMs ?? 5000)));
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
      client.shards.set(h.shard, [...(client.shards.get(h.shard) ?? []), { address, health: h }]);
    });
    client.findUncovered();
    if (client.shards.size === 0) throw new Error(`no shard server answered (tried ${options.addresses.length} addresses: ${options.addresses.slice(0, 3).join(', ')}${options.addresses.length > 3 ? ', …' : ''})`);
    return client;
  }

  // Servers of one data file should cover its lines [0, lines) without gaps;
  // what is not covered belongs to shards whose every replica is down.
  private findUncovered(): void {
    const byFile = new Map<string, HealthResponse[]>();
    for (const replicas of this.shards.values()) {
      const h = replicas[0]!.health;
      const file = h.shard.slice(0, h.shard.lastIndexOf(':'));
      byFile.set(file, [...(byFile.get(file) ?? []), h]);
    }
    for (const [file, list] of byFile) {
      list.sort((a, b) => a.begin - b.begin);
      let covered = 0;
      for (const h of list) {
        if (h.begin > covered) this.uncovered.push(`${file}:${covered}-${h.begin}`);
        covered = Math.max(covered, h.begin + h.vectors);
      }
      const lines = list[0]!.lines;
      if (this.unreachable.length > 0 && covered < lines) this.uncovered.push(`${file}:${covered}-${lines}`);
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
    const timeout = this.options.timeoutMs ?? 30_000;
    const start = this.turn++;
    const perShard = await Promise.all(
      [...this.shards.entries()].map(async ([shard, replicas]) => {
        const errors: string[] = [];
        for (let attempt = 0; attempt < replicas.length; attempt++) {
          const replica = replicas[(start + attempt) % replicas.length] as Replica;
          try {
            return { shard, response: await call<SearchResponse>(replica.address, 'POST', '/v1/search', this.options.token, body, timeout) };
          } catch (error) {
            errors.push((error as Error).message);
          }
        }
        return { shard, errors };
      }),
    );
    const failed = perShard.filter((r) => !('response' in r)) as { shard: string; errors: string[] }[];
    for (const range of this.uncovered) failed.push({ shard: range, errors: [`no reachable server covers ${range} (unreachable: ${this.unreachable.join(', ')})`] });
    if (failed.length > 0 && (this.options.onMissingShard ?? 'fail') === 'fail') {
      throw new Error(`no replica of shard ${failed[0]!.shard} answered: ${failed[0]!.errors.join('; ')} (use --on-missing-shard partial to search the other shards)`);
    }
    const answered = perShard.filter((r): r is { shard: string; response: SearchResponse } => 'response' in r);
    return Array.from({ length: n }, (_, q) => {
      const query = queries.subarray(q * d, (q + 1) * d);
      const candidates: Neighbor[] = [];
      for (const { shard, response } of answered) {
        const hit = response.results[q];
        if (!hit) continue;
        const vectors = decodeVectors(hit.vectors) ?? new Float32Array(0);
        hit.ids.forEach((id, j) => {
          const vector = vectors.subarray(j * d, (j + 1) * d);
          let distance = 0;
          for (let m = 0; m < d; m++) distance += ((vector[m] as number) - (query[m] as number)) ** 2;
          candidates.push({ id, shard, distance, text: hit.texts[j] as string, vector });
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
}
