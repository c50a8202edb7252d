// `tttnn index convert` and `tttnn index recall`: a Flat index (the
// original's published Pile files, or ours) into a compressed one with
// bounded memory, and what the compressed one loses against it.
import { type Command, Option } from 'commander';
import { integerArg } from './parse.js';

/** A comma-separated list of positive integers ("1,4,16,64"). */
function integerListArg(flag: string): (value: string) => number[] {
  return (value) => {
    const items = value.split(',').map((v) => Number(v.trim()));
    if (items.length === 0 || items.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`${flag} takes comma-separated positive integers (e.g. 1,4,16,64), got "${value}"`);
    return items;
  };
}

function positiveArg(flag: string): (value: string) => number {
  const parse = integerArg(flag);
  return (value) => {
    const n = parse(value);
    if (n < 1) throw new Error(`${flag} must be at least 1, got "${value}"`);
    return n;
  };
}

export function registerIndexConvert(index: Command): void {
  index
    .command('convert')
    .description(
      'convert a Flat index file (the original\'s published Pile files, or one `index build` wrote) into a compressed index, reading the vectors in chunks: ' +
        'trained on a seeded sample, vectors added in file order (vector i stays line i, a slice keeps its -<begin>-<end>.index name), ' +
        'checkpointed and resumable after an interruption, written durably, with <out>.source.json saying what it was converted from',
    )
    .requiredOption('--input <file>', 'the Flat index file (IndexFlatL2 or IndexFlatIP, as faiss.write_index writes it)')
    .requiredOption('--factory <string>', 'FAISS factory string of the new index: PCAR128,IVF65536,PQ64 (about 80 bytes/vector), OPQ64_256,IVF65536_HNSW32,PQ64, SQ8 (d bytes/vector), HNSW32, ...')
    .requiredOption('--out <path>', "the output file (ending in .index) or a directory (the input's file name is kept); embedding_model.txt beside the input is copied beside it")
    .addOption(new Option('--train-sample <n>', 'vectors sampled to train on; FAISS asks for 39 or more per IVF list (IVF65536: 2.6M) and memory holds them all while training').default(100_000).argParser(positiveArg('--train-sample')))
    .addOption(new Option('--seed <n>', 'seed of the training sample').default(1216).argParser(integerArg('--seed')))
    .addOption(new Option('--chunk-vectors <n>', 'vectors read and added at a time: memory holds one chunk (d = 1024: 4 KiB a vector)').default(65_536).argParser(positiveArg('--chunk-vectors')))
    .addOption(new Option('--checkpoint-seconds <s>', 'seconds between checkpoints of the partial index (<out>.partial), from which a rerun resumes; 0: after every chunk').default(120).argParser(integerArg('--checkpoint-seconds')))
    .action(async (o: { input: string; factory: string; out: string; trainSample: number; seed: number; chunkVectors: number; checkpointSeconds: number }) => {
      const { convertIndex } = await import('../index/convert.js');
      const { ProgressLine } = await import('./progress-line.js');
      const line = new ProgressLine('index convert', { unit: 'vectors' });
      const result = await convertIndex({
        input: o.input, factory: o.factory, out: o.out, trainSample: o.trainSample, seed: o.seed, chunkVectors: o.chunkVectors, checkpointSeconds: o.checkpointSeconds,
        progress: (text) => line.log(text),
        onChunk: (added, total) => line.update(added, '', total),
      });
      line.finish(`${result.vectors} vectors in ${result.path}, ${result.bytesPerVector.toFixed(1)} bytes/vector, peak RSS ${(result.peakRssBytes / 2 ** 20).toFixed(0)} MiB`);
      console.log(JSON.stringify(result));
    });

  index
    .command('recall')
    .description(
      'what a compressed index loses against the Flat index it came from: recall@1/10/50 (share of queries whose exact nearest neighbour is in the first 1/10/50), ' +
        'overlap of the top 10 and 50, ms per query (one query at a time, as a server answers them) and bytes per vector, for each --nprobe / --ef-search; the Pareto settings are marked',
    )
    .requiredOption('--exact <file>', 'the Flat index (searched exactly, chunk by chunk)')
    .requiredOption('--approx <file>', 'the compressed index converted from it')
    .addOption(new Option('--queries <n>', 'query vectors: sampled from --exact (each left out of its own lists), or the first N of --query-index').default(1000).argParser(positiveArg('--queries')))
    .option('--query-index <file>', 'a Flat index of held-out query vectors (e.g. `index build` of documents not in the index) instead of sampled ones')
    .addOption(new Option('--seed <n>', 'seed of the query sample').default(1216).argParser(integerArg('--seed')))
    .option('--nprobe <list>', 'IVF: inverted lists searched per query, comma-separated values to sweep (e.g. 1,4,16,64); default: the value stored in the file', integerListArg('--nprobe'))
    .option('--ef-search <list>', 'HNSW (or an IVF\'s HNSW quantizer): efSearch values to sweep', integerListArg('--ef-search'))
    .addOption(new Option('--chunk-vectors <n>', 'vectors of --exact searched at a time').default(65_536).argParser(positiveArg('--chunk-vectors')))
    .option('--json', 'print the report as JSON')
    .action(async (o: { exact: string; approx: string; queries: number; queryIndex?: string; seed: number; nprobe?: number[]; efSearch?: number[]; chunkVectors: number; json?: boolean }) => {
      const { measureRecall, formatRecall } = await import('../index/recall.js');
      const report = await measureRecall({ exact: o.exact, approx: o.approx, queries: o.queries, queryIndex: o.queryIndex, seed: o.seed, nprobe: o.nprobe, efSearch: o.efSearch, chunkVectors: o.chunkVectors });
      console.log(o.json ? JSON.stringify(report) : formatRecall(report));
    });
}
