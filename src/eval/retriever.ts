// Where an evaluation gets neighbours: the shard-server fleet, queried with
// the embedder's vector of the query text. Failures are retried with
// exponential backoff; the caller records a final failure and goes on.
import { embedTexts, type Embedder } from '../index/index.js';
import type { RetrievalClient } from '../retrieval/client.js';

export interface RetrievedNeighbor {
  id: number;
  /** Squared L2 distance between the query embedding and the neighbour's vector. */
  distance: number;
  text: string;
}

export interface Retrieval {
  neighbors: RetrievedNeighbor[];
  partial: boolean;
  seconds: number;
}

export interface Retriever {
  retrieve(text: string, k: number): Promise<Retrieval>;
}

export class FleetRetriever implements Retriever {
  constructor(
    private readonly client: RetrievalClient,
    private readonly embedder: Embedder,
    private readonly retries = 3,
    private readonly backoffMs = 500,
  ) {
    if (embedder.model.hiddenSize !== client.dimension) {
      throw new Error(`the embedder makes ${embedder.model.hiddenSize}-dimensional vectors but the servers hold ${client.dimension}-dimensional ones`);
    }
  }

  async retrieve(text: string, k: number): Promise<Retrieval> {
    const start = performance.now();
    const query = embedTexts(this.embedder, [text]);
    for (let attempt = 0; ; attempt++) {
      try {
        const [result] = await this.client.search(query, k);
        return {
          neighbors: result!.neighbors.map((n) => ({ id: n.id, distance: n.distance, text: n.text })),
          partial: result!.partial,
          seconds: (performance.now() - start) / 1000,
        };
      } catch (error) {
        if (attempt >= this.retries) throw error;
        await new Promise((r) => setTimeout(r, this.backoffMs * 2 ** attempt));
      }
    }
  }
}
