// The flags every command that talks to a running fleet shares (eval,
// query, probe, shutdown), and the one way they become a connected client.
// Static imports stay type-only: `--help` must not load the retrieval layer.
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
