// The flags every command that talks to a running fleet shares (eval,
// generate, serve-lm, query, probe, shutdown), and the one way they become a
// connected client, or a retriever. Static imports stay type-only: `--help`
// must not load the retrieval layer.
import type { FleetRetriever } from '../eval/retriever.js';
import type { Embedder } from '../index/index.js';
import type { MissingShardPolicy, RetrievalClient } from '../retrieval/client.js';

export const ADDRESSES_HELP = 'an addresses file (host:port lines), or a comma-separated list of host:port where hosts may be DNS names (a Kubernetes headless Service\'s pods)';

export const CA_HELP = 'PEM certificate of the CA that signed the servers\' --tls-cert: reach them over HTTPS (default: plain HTTP)';

export interface FleetFlags {
  /** An addresses file or a list (ADDRESSES_HELP). */
  addresses: string;
  tokenFile: string;
  onMissingShard?: MissingShardPolicy;
  /** --ca: HTTPS verified against this CA. */
  ca?: string;
  /** --embedder: the servers' index must have been built with it (client.ts ClientOptions.embeddingModel). */
  embedder?: string;
}

/** The client of the fleet the flags name: addresses resolved, token read, TLS when --ca is given. */
export async function connectFleet(flags: FleetFlags): Promise<RetrievalClient> {
  const { readToken } = await import('../retrieval/auth.js');
  const { resolveAddresses } = await import('../retrieval/addresses.js');
  const { RetrievalClient } = await import('../retrieval/client.js');
  const { readTransport } = await import('../retrieval/transport.js');
  return RetrievalClient.connect({ addresses: resolveAddresses(flags.addresses), token: readToken(flags.tokenFile), onMissingShard: flags.onMissingShard, transport: readTransport(flags.ca), embeddingModel: flags.embedder });
}

/**
 * The retriever of a command that retrieves (eval, generate, serve-lm): the
 * fleet's client and the embedder the index was built with — a plain encoder
 * mean-pooled as the original, or a sentence-transformers directory as its
 * modules say (index/sentence-transformers.ts loadEmbedder); FleetRetriever
 * refuses one pooled or normalised otherwise than the index. The embedder is
 * returned too, for a caller that disposes its model.
 */
export async function connectRetriever(flags: FleetFlags & { embedder: string; device?: string }): Promise<{ retriever: FleetRetriever; embedder: Embedder }> {
  const { FleetRetriever } = await import('../eval/retriever.js');
  const { loadEmbedder } = await import('../index/index.js');
  const client = await connectFleet(flags);
  const embedder = loadEmbedder(flags.embedder, { device: flags.device });
  return { retriever: new FleetRetriever(client, embedder), embedder };
}
