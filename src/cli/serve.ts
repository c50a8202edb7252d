// `tttnn serve`, `serve-shard`, `query`, `probe`, `shutdown`: the retrieval fleet.
import { type Command, Option } from 'commander';
import type { FleetOptions } from '../retrieval/fleet.js';
import { SERVER_OPTIONS, type AnyServerOption } from '../retrieval/server-options.js';
import type { ShardProcessOptions } from '../retrieval/shard-process.js';
import type { Transport } from '../retrieval/transport.js';
import { collectParam, integerArg } from './parse.js';
import { ADDRESSES_HELP, CA_HELP, connectFleet } from './fleet-options.js';

export function registerServeCommands(program: Command): void {
  registerServe(program);
  registerServeShard(program);
  registerQuery(program);
  registerProbe(program);
  registerShutdown(program);
}

/** The commander option of one declared server option (server-options.ts). */
function serverOption(d: AnyServerOption): Option {
  const flag = `--${d.key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
  const t = d.type;
  const option = new Option(t.kind === 'switch' ? flag : `${flag} ${t.metavar}`, d.help);
  if (t.kind === 'text' && t.required) option.makeOptionMandatory();
  if (t.kind === 'integer') {
    const parse = integerArg(flag);
    option.argParser((value: string) => {
      const n = parse(value);
      if (n < t.min) throw new Error(`${flag} must be at least ${t.min}, got ${n}`);
      return n;
    });
  }
  if (t.kind === 'params') option.argParser(collectParam(flag));
  if (d.default !== undefined) option.default(d.default);
  return option;
}

/** Every declared server option on `command`: serve and serve-shard take the same ones. */
function addServerOptions(command: Command): Command {
  for (const d of SERVER_OPTIONS) command.addOption(serverOption(d));
  return command;
}

/** `tttnn serve`: the fleet for one data file. */
function registerServe(program: Command): void {
  const command = program
    .command('serve')
    .description('start N slices x R replicas of shard servers for one data file; each appends host:port to the addresses file once ready. Stops on Ctrl-C or tttnn shutdown')
    .requiredOption('--index <file>', '<datafile>.index (Flat indexes are split into slices as needed)')
    .addOption(new Option('--slices <n>', 'slices of the file, one server process each').default(1).argParser(integerArg('--slices')))
    .addOption(new Option('--begin <n>', 'line of the data file where the index starts (default: N for an index named <data>-N-M.index, as index build --begin writes it; else 0)').argParser(integerArg('--begin')))
    .addOption(new Option('--replicas <r>', 'replicas of every slice').default(1).argParser(integerArg('--replicas')))
    .addOption(new Option('--port <port>', 'first port (0: a free port for each server)').default(0).argParser(integerArg('--port')));
  addServerOptions(command).action(async (o: FleetOptions) => {
    if (o.slices < 1 || o.replicas < 1) throw new Error('--slices and --replicas must be at least 1');
    const { readToken } = await import('../retrieval/auth.js');
    const { readServerTls } = await import('../retrieval/shard-process.js');
    readToken(o.tokenFile); // fail here, not in every server
    readServerTls(o);
    const { runFleet } = await import('../retrieval/fleet.js');
    await runFleet(o);
  });
}

/** `tttnn serve-shard` (hidden): one shard server, as the fleet runs it (the fleet itself forks shard-process.ts with the same options). */
function registerServeShard(program: Command): void {
  const command = program
    .command('serve-shard', { hidden: true })
    .description('one shard server (started by tttnn serve)')
    .requiredOption('--index <file>', 'index file of the slice')
    .addOption(new Option('--begin <n>', 'line number of the slice\'s first vector').default(0).argParser(integerArg('--begin')))
    .addOption(new Option('--replica <n>', 'replica number').default(0).argParser(integerArg('--replica')))
    .addOption(new Option('--file-vectors <n>', 'vectors of the file\'s whole index, all slices (clients then see a slice that never registered)').argParser(integerArg('--file-vectors')))
    .addOption(new Option('--port <port>', 'port (0: free)').default(0).argParser(integerArg('--port')));
  addServerOptions(command).action(async (o: ShardProcessOptions) => {
    const { runShardProcess } = await import('../retrieval/shard-process.js');
    await runShardProcess(o);
  });
}

/** `tttnn query`: nearest neighbours of a text, from the command line. */
function registerQuery(program: Command): void {
  program
    .command('query')
    .description('embed a text with the embedder and print its nearest neighbours from the fleet, as JSON')
    .requiredOption('--addresses <file|list>', ADDRESSES_HELP)
    .requiredOption('--token-file <file>', 'token file')
    .requiredOption('--embedder <dir>', 'the embedder the index was built with: an encoder checkpoint (mean pooling) or a sentence-transformers directory')
    .option('--ca <file>', CA_HELP)
    .addOption(new Option('-k <k>', 'neighbours').default(10).argParser(integerArg('-k')))
    .addOption(new Option('--on-missing-shard <policy>', 'fail, or search the shards that answer and flag the result partial').choices(['fail', 'partial']).default('fail'))
    .argument('<text>', 'query text')
    .action(async (text: string, o: { addresses: string; tokenFile: string; embedder: string; k: number; onMissingShard: 'fail' | 'partial'; ca?: string }) => {
      const { checkEmbedderDimension, embeddingDimension, embedTexts, loadEmbedder } = await import('../index/index.js');
      const { checkFleetRecipes } = await import('../eval/retriever.js');
      const client = await connectFleet(o);
      const embedder = loadEmbedder(o.embedder);
      let query: Float32Array;
      try {
        checkEmbedderDimension(`the embedder ${o.embedder}`, embeddingDimension(embedder), 'the servers', client.dimension);
        checkFleetRecipes(client, embedder);
        query = embedTexts(embedder, [text]);
      } finally {
        embedder.model.dispose();
      }
      const [result] = await client.search(query, o.k);
      console.log(JSON.stringify({ ...result, neighbors: result!.neighbors.map(({ vector: _vector, ...rest }) => rest) }, null, 2));
    });
}

/** `tttnn probe`: which servers of an addresses file answer, and how fast; with --wait, first wait for N of them. */
function registerProbe(program: Command): void {
  program
    .command('probe')
    .description('ask every server in the addresses file for its health: up and latency; with --token-file also its shard, replica and vectors (after it proved it holds the token). With --wait N, first wait until N servers answer (a batch job that needs a fleet started elsewhere)')
    .requiredOption('--addresses <file|list>', `${ADDRESSES_HELP}; with --wait the file may not exist yet`)
    .option('--token-file <file>', 'token file: show what each server serves (with --wait: count only servers that prove they hold it)')
    .option('--ca <file>', CA_HELP)
    .option('--wait <n>', 'wait until at least n servers answer, printing progress to stderr; exit 3 if they do not within --timeout', integerArg('--wait'))
    .addOption(new Option('--timeout <seconds>', 'how long --wait waits').default(600).argParser(integerArg('--timeout')))
    .option('--json', 'print JSON')
    .action(async (o: { addresses: string; tokenFile?: string; ca?: string; wait?: number; timeout: number; json?: boolean }) => {
      const { resolveAddresses } = await import('../retrieval/addresses.js');
      const { readToken } = await import('../retrieval/auth.js');
      const { readTransport } = await import('../retrieval/transport.js');
      const token = o.tokenFile ? readToken(o.tokenFile) : undefined;
      const transport = readTransport(o.ca);
      if (o.wait !== undefined) {
        const { waitForServers } = await import('../retrieval/wait-servers.js');
        const started = Date.now();
        try {
          await waitForServers({
            addresses: o.addresses, count: o.wait, timeoutMs: o.timeout * 1000, token, transport,
            progress: (up, listed) => console.error(`probe: ${up} of ${o.wait} servers answer (${listed} listed, ${Math.round((Date.now() - started) / 1000)} s)`),
          });
        } catch (error) {
          console.error(`tttnn probe: ${(error as Error).message}`);
          process.exitCode = 3;
          return;
        }
      }
      const rows = await probeAll(resolveAddresses(o.addresses), token, transport);
      const describe = (r: (typeof rows)[number]): string => {
        if (!r.up) return `${r.address}  DOWN  ${r.error}`;
        return 'shard' in r ? `${r.address}  up    ${r.shard} replica ${r.replica}  ${r.vectors} vectors  ${r.latencyMs} ms` : `${r.address}  up    ${r.latencyMs} ms`;
      };
      if (o.json) console.log(JSON.stringify(rows, null, 2));
      else for (const r of rows) console.log(describe(r));
      if (rows.some((r) => !r.up) && o.wait === undefined) process.exitCode = 2;
    });
}

/** Health of every address: up, latency, and with a token what it serves. */
async function probeAll(addresses: string[], token: string | undefined, transport: Transport) {
  const { health, ping } = await import('../retrieval/client.js');
  return Promise.all(
    addresses.map(async (address) => {
      const start = performance.now();
      try {
        const h = token ? await health(address, token, 5000, transport) : await ping(address, 5000, transport);
        const latencyMs = Number((performance.now() - start).toFixed(2));
        return 'shard' in h ? { address, up: true, shard: h.shard, replica: h.replica, vectors: h.vectors, dimension: h.dimension, latencyMs } : { address, up: true, latencyMs };
      } catch (error) {
        return { address, up: false, error: (error as Error).message };
      }
    }),
  );
}

/** `tttnn shutdown`: stops every server of an addresses file. */
function registerShutdown(program: Command): void {
  program
    .command('shutdown')
    .description('ask every server in the addresses file to shut down (in-flight requests finish first)')
    .requiredOption('--addresses <file|list>', ADDRESSES_HELP)
    .requiredOption('--token-file <file>', 'token file')
    .option('--ca <file>', CA_HELP)
    .action(async (o: { addresses: string; tokenFile: string; ca?: string }) => {
      const { readToken } = await import('../retrieval/auth.js');
      const { resolveAddresses } = await import('../retrieval/addresses.js');
      const { shutdown } = await import('../retrieval/client.js');
      const { readTransport } = await import('../retrieval/transport.js');
      const token = readToken(o.tokenFile);
      const transport = readTransport(o.ca);
      const addresses = resolveAddresses(o.addresses);
      const results = await Promise.allSettled(addresses.map((a) => shutdown(a, token, 5000, transport)));
      results.forEach((r, i) => console.log(`${addresses[i]}  ${r.status === 'fulfilled' ? 'stopping' : `not reached: ${(r.reason as Error).message}`}`));
    });
}
