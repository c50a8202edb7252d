// One request to a shard server, over HTTP or, when the client trusts a CA,
// over TLS. Whatever the server does, the call settles: a deadline covers
// the whole exchange (a server trickling a byte every few seconds never
// trips a socket's idle timeout, so that alone is not enough), and a body
// larger than any legal answer is cut off instead of filling memory. The
// caller checks the shape of what comes back (client.ts).
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { readTextFile } from '../io/path-errors.js';
import { clientChannel, type ChannelBinding } from './channel-binding.js';
import { LIMITS } from './protocol.js';

/** How the client reaches servers: plain HTTP, or HTTPS verified against `ca`. */
export interface Transport {
  /** PEM certificate(s) of the CA that signed the servers' certificates: every address is then reached over HTTPS. */
  ca?: string;
}

/** The transport of a client given `--ca <file>` (HTTPS, verified against it) or none (HTTP). */
export function readTransport(caFile: string | undefined): Transport {
  if (caFile === undefined) return {};
  return { ca: readPemFile(caFile, 'certificate', "; --ca takes the CA that signed the servers' certificates") };
}

const PEM_BLOCKS = {
  certificate: { begins: /-----BEGIN CERTIFICATE-----/, shown: '-----BEGIN CERTIFICATE-----' },
  'private key': { begins: /-----BEGIN [A-Z ]*PRIVATE KEY-----/, shown: '-----BEGIN ...PRIVATE KEY-----' },
};

/** A PEM file's text, refused (naming the file, and `hint`) when it holds no block of that kind. */
export function readPemFile(path: string, what: keyof typeof PEM_BLOCKS, hint = ''): string {
  const text = readTextFile(path);
  const block = PEM_BLOCKS[what];
  if (!block.begins.test(text)) throw new Error(`${path}: not a PEM ${what} (no "${block.shown}" block)${hint}`);
  return text;
}

export interface CallOptions {
  method: 'GET' | 'POST';
  path: string;
  /** Sent as "Authorization: Bearer <token>" (never to a server that has not proved it holds it: see client.ts health). */
  token?: string | null;
  body?: string | null;
  /** The whole exchange, connect to last byte. */
  timeoutMs: number;
  headers?: Record<string, string>;
}

/** The largest body a client reads: the servers' response budget plus room for the JSON around it. */
export const MAX_RESPONSE_BYTES = LIMITS.maxResponseBytes + 2 ** 20;

const httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 64 });
// One agent per CA, so keep-alive connections are reused across calls.
const httpsAgents = new Map<string, HttpsAgent>();

function httpsAgent(ca: string): HttpsAgent {
  let agent = httpsAgents.get(ca);
  if (!agent) httpsAgents.set(ca, (agent = new HttpsAgent({ keepAlive: true, maxSockets: 64, ca })));
  return agent;
}

export function splitAddress(address: string): [string, number] {
  const colon = address.lastIndexOf(':');
  return [address.slice(0, colon).replace(/^\[|\]$/g, ''), Number(address.slice(colon + 1))];
}

/** The parsed JSON body of a 200 answer; rejects with the address and path on anything else. */
export async function call(address: string, options: CallOptions, transport: Transport = {}): Promise<unknown> {
  return (await exchange(address, options, transport)).body;
}

/** What call gives, with the connection the answer came over (for the health challenge: client.ts health). */
export function exchange(address: string, options: CallOptions, transport: Transport = {}): Promise<{ body: unknown; channel: ChannelBinding }> {
  const { method, path, token, body, timeoutMs } = options;
  const where = `${transport.ca ? 'https' : 'http'}://${address}${path}`;
  return new Promise((resolve, reject) => {
    const [host, port] = splitAddress(address);
    const headers = {
      ...options.headers,
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) } : {}),
    };
    const common = { host, port, method, path, headers, timeout: timeoutMs };
    const onResponse = (res: IncomingMessage): void => {
      const channel = clientChannel(res.socket);
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_RESPONSE_BYTES) req.destroy(new Error(`the response exceeds ${MAX_RESPONSE_BYTES} bytes, more than any legal answer`));
        else chunks.push(chunk);
      });
      res.on('end', () => {
        clearTimeout(deadline);
        const text = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode !== 200) return reject(new Error(`${where}: HTTP ${res.statusCode}: ${text.slice(0, 300)}`));
        try {
          resolve({ body: JSON.parse(text), channel });
        } catch {
          reject(new Error(`${where}: malformed JSON response`));
        }
      });
      res.on('error', (error) => reject(new Error(`${where}: ${error.message}`)));
    };
    const req = transport.ca ? httpsRequest({ ...common, agent: httpsAgent(transport.ca) }, onResponse) : httpRequest({ ...common, agent: httpAgent }, onResponse);
    const deadline = setTimeout(() => req.destroy(new Error(`no complete answer within ${timeoutMs} ms`)), timeoutMs);
    req.on('timeout', () => req.destroy(new Error(`idle for ${timeoutMs} ms`)));
    req.on('error', (error) => {
      clearTimeout(deadline);
      // A TLS server hangs up on plain HTTP without a word: say what probably happened.
      const hint = !transport.ca && /socket hang up|ECONNRESET/.test(error.message) ? ' (a server started with --tls-cert? then pass --ca)' : '';
      reject(new Error(`${where}: ${error.message}${hint}`));
    });
    req.on('close', () => clearTimeout(deadline));
    if (body) req.write(body);
    req.end();
  });
}
