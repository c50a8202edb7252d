// Where an evaluation gets neighbours: the shard-server fleet, queried with
// the embedder's vector of the query text. Distances are plain Euclidean
// norms ‖vector − query‖, the units the original's thresholds are in (it
// recomputes np.linalg.norm(vectors - query_vector) from the returned
// vectors, eval_tttlm.py:180-186, where FAISS's IndexFlatL2 reports squared
// L2). Failures are retried with exponential backoff; the caller records a
// final failure and goes on.
import { checkEmbedderDimension, checkRecipesMatch, embeddingDimension, embedTexts, recipeOf, type Embedder } from '../index/index.js';
import { describePooling, ORIGINAL_POOLING } from '../models/index.js';
import { squaredL2 } from '../index/distance.js';
import type { RetrievalClient } from '../retrieval/client.js';
import { canonicalJson, modelFingerprint, sha256Of, tokenizerFingerprint } from './fingerprints.js';

export interface RetrievedNeighbor {
  id: number;
  /** Plain L2 distance between the query embedding and the neighbour's stored vector. */
  distance: number;
  text: string;
  /** The stored vector the distance was measured to (what informative selection's kernel is computed on). */
  vector: Float32Array;
}

export interface Retrieval {
  neighbors: RetrievedNeighbor[];
  /** The query text's embedding. */
  query: Float32Array;
  partial: boolean;
  seconds: number;
}

export interface Retriever {
  /** The k nearest neighbours of `text`, nearest first. */
  retrieve(text: string, k: number): Promise<Retrieval>;
  /** k documents drawn uniformly at random from the index (`random` gives uniform [0, 1) numbers), with their distances to `text`. */
  randomDocuments(text: string, k: number, random: () => number): Promise<Retrieval>;
  /** Fingerprints of what the neighbours depend on: the embedder and the index (for a results directory's run record). */
  identity(): { embedder: string; index: string };
}

export class FleetRetriever implements Retriever {
  constructor(
    private readonly client: RetrievalClient,
    private readonly embedder: Embedder,
    private readonly retries = 3,
    private readonly backoffMs = 500,
  ) {
    checkEmbedderDimension('the embedder', embeddingDimension(embedder), 'the servers', client.dimension);
    checkFleetRecipes(client, embedder);
  }

  private async withRetries<T>(attemptOnce: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await attemptOnce();
      } catch (error) {
        if (attempt >= this.retries) throw error;
        await new Promise((r) => setTimeout(r, this.backoffMs * 2 ** attempt));
      }
    }
  }

  /** The embedder by its parameters, tokenizer and window; the index by the fleet's slices (name, vectors, embedding model) and dimension. */
  identity(): { embedder: string; index: string } {
    const { model, tokenizer, maxLength, pooling, lowercase } = this.embedder;
    // Pooling and lower-casing enter only when they are not the original's, so that results directories of the original's embedder keep their fingerprint.
    const how = { ...(pooling && describePooling(pooling) !== describePooling(ORIGINAL_POOLING) ? { pooling: describePooling(pooling) } : {}), ...(lowercase ? { lowercase } : {}) };
    const slices = [...this.client.shards].map(([shard, replicas]) => [shard, replicas[0]?.health.vectors, replicas[0]?.health.embeddingModel]).sort();
    return {
      embedder: sha256Of(canonicalJson({ model: modelFingerprint(model), tokenizer: tokenizerFingerprint(tokenizer), maxLength: maxLength ?? null, ...how })),
      index: sha256Of(canonicalJson({ dimension: this.client.dimension, slices })),
    };
  }

  async retrieve(text: string, k: number): Promise<Retrieval> {
    const start = performance.now();
    const query = embedTexts(this.embedder, [text]);
    const [result] = await this.withRetries(() => this.client.search(query, k));
    return {
      // The client's distances are squared L2 (float64 over the float32 vectors).
      neighbors: result!.neighbors.map((n) => ({ id: n.id, distance: Math.sqrt(n.distance), text: n.text, vector: n.vector })),
      query,
      partial: result!.partial,
      seconds: (performance.now() - start) / 1000,
    };
  }

  async randomDocuments(text: string, k: number, random: () => number): Promise<Retrieval> {
    const start = performance.now();
    const query = embedTexts(this.embedder, [text]);
    // Draw once, outside the retries, so that a retried fetch asks for the same documents.
    const refs = this.client.drawDocuments(k, random);
    const drawn = await this.withRetries(() => this.client.documents(refs));
    return {
      neighbors: drawn.map((d) => ({ id: d.id, distance: Math.sqrt(squaredL2(d.vector, query)), text: d.text, vector: d.vector })),
      query,
      partial: false,
      seconds: (performance.now() - start) / 1000,
    };
  }
}

/** Every server that states how its index was made (embedding.json) must have been built as `embedder` embeds (embedding-recipe.ts). */
export function checkFleetRecipes(client: RetrievalClient, embedder: Embedder): void {
  const query = recipeOf(embedder, embedder.source ?? 'the embedder');
  for (const replicas of client.shards.values()) {
    for (const { address, health } of replicas) if (health.embedding) checkRecipesMatch(health.embedding, address, query);
  }
}
