// `tttnn index build|info|split`: FAISS indexes of a corpus.
import { statSync } from 'node:fs';
import { type Command, Option } from 'commander';
import { DEFAULT_MAX_LINE_BYTES, MAX_LINE_BYTES_HELP } from '../data/lines.js';
import { integerArg } from './parse.js';
import type { Precision } from '../engine/precision.js';
import { applyPrecision, precisionOption } from './precision-option.js';
import { applyDevice, deviceOption } from './device-option.js';
import { registerIndexConvert } from './index-convert.js';


export function registerIndexCommand(program: Command): void {
  const index = program.command('index').description('build, inspect, split, convert (Flat to compressed) FAISS indexes of document embeddings and measure their recall');

  index
    .command('build')
    .description('embed every document of a JSONL file (mean-pooled encoder states, or as a sentence-transformers directory pools them) and write <datafile>.index beside embedding_model.txt and embedding.json (how the vectors were made); an interrupted build resumes where it stopped')
    .requiredOption('--data <file>', 'JSONL data file (one document per line; the line number is the vector id)')
    .requiredOption('--embedder <dir>', 'the embedder: an encoder checkpoint directory (roberta, bert) with its tokenizer, mean-pooled as the original; or a sentence-transformers directory (modules.json: its Transformer, 1_Pooling, 2_Normalize and max_seq_length)')
    .requiredOption('--out <dir>', 'output directory for the index and embedding_model.txt')
    .addOption(new Option('--factory <string>', 'FAISS index factory string: Flat (exact, the original), IVF4096,PQ64, HNSW32, SQ8, ...').default('Flat'))
    .option('--begin <n>', 'first line to index (a slice)', integerArg('--begin'))
    .option('--end <n>', 'line after the last one to index', integerArg('--end'))
    .addOption(new Option('--batch-size <n>', 'documents per embedding batch').default(32).argParser(integerArg('--batch-size')))
    .option('--max-length <n>', "tokens per document (default: a sentence-transformers directory's max_seq_length, else the encoder's context)", integerArg('--max-length'))
    .addOption(new Option('--train-sample <n>', 'vectors to train compressed indexes on').default(100_000).argParser(integerArg('--train-sample')))
    .addOption(new Option('--on-bad-line <policy>', "skip (embed ' ', keeping ids aligned) or fail").choices(['skip', 'fail']).default('fail'))
    .addOption(new Option('--max-line-bytes <n>', MAX_LINE_BYTES_HELP).default(DEFAULT_MAX_LINE_BYTES).argParser(integerArg('--max-line-bytes')))
    .addOption(precisionOption('fp32'))
    .addOption(deviceOption())
    .action(async (o: { data: string; embedder: string; out: string; factory: string; begin?: number; end?: number; batchSize: number; maxLength?: number; trainSample: number; onBadLine: 'skip' | 'fail'; maxLineBytes: number; precision: Precision; device: string }) => {
      await applyPrecision(o.precision, 'index build');
      await applyDevice(o.device, 'index build');
      const { buildIndex, loadEmbedder } = await import('../index/index.js');
      const { ProgressLine } = await import('./progress-line.js');
      const embedder = loadEmbedder(o.embedder, { device: o.device });
      const model = embedder.model;
      const line = new ProgressLine('index', { unit: 'documents' });
      try {
        const result = await buildIndex({
          data: o.data, embedderDir: o.embedder, out: o.out, factory: o.factory, begin: o.begin, end: o.end, batchSize: o.batchSize,
          trainSample: o.trainSample, onBadLine: o.onBadLine, maxLineBytes: o.maxLineBytes, embedder: { ...embedder, maxLength: o.maxLength ?? embedder.maxLength },
          progress: (text) => line.log(text),
          onBatch: (embedded, total) => line.update(embedded, '', total),
        });
        line.finish(`${result.vectors} vectors in ${result.path}`);
        console.log(JSON.stringify(result));
      } finally {
        model.dispose();
      }
    });

  index
    .command('info')
    .description('type, number of vectors, dimension, size and bytes per vector of an index file, the nprobe (IVF) or efSearch (HNSW) stored in it, how its vectors were made (embedder, model_type, pooling, normalisation, tokens: the embedding.json beside it) and what it was converted from (index convert)')
    .argument('<file>', 'FAISS index file')
    .option('--json', 'print JSON')
    .action(async (file: string, o: { json?: boolean }) => {
      const { FaissIndex, readRecipe } = await import('../index/index.js');
      const { readConversionRecord } = await import('../index/convert.js');
      const idx = FaissIndex.read(file);
      // nprobe / efSearch: the search parameters stored in the file, which a server uses unless --nprobe / --search-param say otherwise.
      const info: Record<string, unknown> = { file, ...idx.info, bytes: statSync(file).size, bytesPerVector: 0 };
      info['bytesPerVector'] = idx.info.ntotal > 0 ? (info['bytes'] as number) / idx.info.ntotal : 0;
      const record = readConversionRecord(file);
      if (record) info['convertedFrom'] = `${record.convertedFrom.path} (${record.convertedFrom.bytes} bytes, ${record.convertedFrom.ntotal} x ${record.convertedFrom.d}, head sha256 ${record.convertedFrom.fingerprint.headSha256.slice(0, 16)}...), factory ${record.factory}`;
      idx.dispose();
      const recipe = readRecipe(file);
      if (recipe) Object.assign(info, { embedder: recipe.embedder, modelType: recipe.modelType, pooling: recipe.pooling.modes.join('+'), normalize: recipe.pooling.normalize, maxLength: recipe.maxLength });
      else info['embedding'] = 'not recorded (an index built before embedding.json)';
      if (o.json) console.log(JSON.stringify(info));
      else for (const [k, v] of Object.entries(info)) console.log(`${k.padEnd(15)} ${String(v)}`);
    });

  index
    .command('split')
    .description('split a Flat <datafile>.index into N slice files <datafile>-<begin>-<end>.index (one per shard server)')
    .argument('<file>', 'Flat index file')
    .requiredOption('--slices <n>', 'number of slices', integerArg('--slices'))
    .action(async (file: string, o: { slices: number }) => {
      const { splitIndex } = await import('../index/index.js');
      for (const out of splitIndex(file, o.slices)) console.log(out);
    });

  registerIndexConvert(index);
}
