// What every shard server of a fleet is started with, declared once: each
// option's flag, help, kind and default. `tttnn serve` and the hidden
// `tttnn serve-shard` make their flags from SERVER_OPTIONS (cli/serve.ts),
// and the fleet hands a server all of them as they are (fleet.ts): a new
// server option is a field of ServerOptions and one entry here.
import { DEFAULT_MAX_LINE_BYTES, MAX_LINE_BYTES_HELP } from '../data/lines.js';
import { SERVER_LIMITS, type ServerLimits } from './protocol.js';

/** What every server of a fleet shares. */
export interface ServerOptions {
  /** The JSONL data file the index was built from. */
  data: string;
  /** Addresses file each server appends its host:port to once ready. */
  addresses: string;
  tokenFile: string;
  /** Interface to listen on. */
  host: string;
  /** The host written to the addresses file (default: see addresses.ts advertisedHost). */
  advertiseHost?: string;
  /** Memory-map the index where FAISS supports it (IVF). */
  mmap?: boolean;
  /** FAISS search parameters set on every server's index (nprobe, efSearch, ...). */
  searchParam: Record<string, number>;
  /** IVF indexes: inverted lists searched per query (default: the value stored in the index file). */
  nprobe?: number;
  /** PEM certificate and private key: serve HTTPS instead of HTTP (both or neither). */
  tlsCert?: string;
  tlsKey?: string;
  /** The longest line of the data file (data/lines.ts). */
  maxLineBytes: number;
  /** The limits of protocol.ts ServerLimits, each a flag. */
  maxConnections: number;
  maxResponseBytes: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
}

/** How an option is given: a required or optional text, a whole number (at least `min`), a switch, or repeatable name=value pairs. */
export type ServerOptionKind = { kind: 'text'; metavar: string; required?: true } | { kind: 'integer'; metavar: string; min: number } | { kind: 'switch' } | { kind: 'params'; metavar: string };

export interface ServerOptionDeclaration<K extends keyof ServerOptions> {
  key: K;
  help: string;
  type: ServerOptionKind;
  default?: ServerOptions[K];
}

/** Any one option's declaration. */
export type AnyServerOption = { [K in keyof ServerOptions]-?: ServerOptionDeclaration<K> }[keyof ServerOptions];

const option = <K extends keyof ServerOptions>(d: ServerOptionDeclaration<K>): ServerOptionDeclaration<K> => d;

const DECLARED = [
  option({ key: 'data', type: { kind: 'text', metavar: '<file>', required: true }, help: 'the JSONL data file the index was built from' }),
  option({ key: 'addresses', type: { kind: 'text', metavar: '<file>', required: true }, help: 'addresses file each server appends its host:port line to once ready' }),
  option({ key: 'tokenFile', type: { kind: 'text', metavar: '<file>', required: true }, help: 'file holding the shared secret (at least 16 characters)' }),
  option({ key: 'host', type: { kind: 'text', metavar: '<host>' }, default: '127.0.0.1', help: 'interface to listen on (0.0.0.0: all)' }),
  option({ key: 'advertiseHost', type: { kind: 'text', metavar: '<host>' }, help: "the name or address other machines reach this one by, written to the addresses file (default: --host; for 0.0.0.0 or ::, this machine's first non-loopback IPv4 address)" }),
  option({ key: 'mmap', type: { kind: 'switch' }, help: 'memory-map the index where FAISS supports it (IVF)' }),
  option({ key: 'searchParam', type: { kind: 'params', metavar: '<name=value>' }, default: {}, help: 'a FAISS search parameter for every server, repeatable: nprobe=32 (IVF), efSearch=128 (HNSW)' }),
  option({ key: 'nprobe', type: { kind: 'integer', metavar: '<n>', min: 1 }, help: "IVF indexes (index convert's IVF factories): inverted lists searched per query, more is slower and finds more of the exact neighbours (`tttnn index recall` measures both); default: the value stored in the file (`tttnn index info` shows it; FAISS's default is 1)" }),
  option({ key: 'tlsCert', type: { kind: 'text', metavar: '<file>' }, help: 'PEM certificate: serve HTTPS, so the token and the texts never cross the network in the clear (with --tls-key; its names must include the --advertise-host clients reach). Clients then pass --ca' }),
  option({ key: 'tlsKey', type: { kind: 'text', metavar: '<file>' }, help: 'PEM private key of --tls-cert' }),
  option({ key: 'maxLineBytes', type: { kind: 'integer', metavar: '<bytes>', min: 1 }, default: DEFAULT_MAX_LINE_BYTES, help: MAX_LINE_BYTES_HELP }),
  option({ key: 'maxConnections', type: { kind: 'integer', metavar: '<n>', min: 1 }, default: SERVER_LIMITS.maxConnections, help: 'open connections each server accepts at once; more are closed as they arrive' }),
  option({ key: 'maxResponseBytes', type: { kind: 'integer', metavar: '<bytes>', min: 1 }, default: SERVER_LIMITS.maxResponseBytes, help: 'largest answer a server sends; a request that would need more is refused up front with HTTP 400 naming it (clients read at most their own budget, protocol.ts LIMITS)' }),
  option({ key: 'headersTimeoutMs', type: { kind: 'integer', metavar: '<ms>', min: 1 }, default: SERVER_LIMITS.headersTimeoutMs, help: "time a connection has to send a request's headers; a slow-loris connection is closed after it (HTTP 408)" }),
  option({ key: 'requestTimeoutMs', type: { kind: 'integer', metavar: '<ms>', min: 1 }, default: SERVER_LIMITS.requestTimeoutMs, help: 'time a connection has to send a whole request, body included (HTTP 408)' }),
] as const;

export const SERVER_OPTIONS: readonly AnyServerOption[] = DECLARED;

// Every field of ServerOptions has a declaration: a field added without one does not compile.
type Undeclared = Exclude<keyof ServerOptions, (typeof DECLARED)[number]['key']>;
const everyOptionDeclared: [Undeclared] extends [never] ? true : { undeclared: Undeclared } = true;
void everyOptionDeclared;

/** The declared options out of a larger object (a fleet's options, a parsed command line), so each server gets all of them and nothing else. */
export function serverOptionsOf(o: ServerOptions): ServerOptions {
  return Object.fromEntries(SERVER_OPTIONS.map((d) => [d.key, o[d.key]])) as unknown as ServerOptions;
}

/** A server's limits (protocol.ts ServerLimits) from its options. */
export function serverLimitsOf(o: ServerOptions): ServerLimits {
  return { maxConnections: o.maxConnections, maxResponseBytes: o.maxResponseBytes, headersTimeoutMs: o.headersTimeoutMs, requestTimeoutMs: o.requestTimeoutMs };
}
