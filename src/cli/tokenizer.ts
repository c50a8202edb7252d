// `tttnn tokenizer train`: a byte-level BPE vocabulary fitted to a corpus,
// saved as tokenizer.json directories that --tokenizer options load.
import { join } from 'node:path';
import { type Command, Option } from 'commander';
import { integerArg } from './parse.js';

type Style = 'gpt2' | 'roberta' | 'both';

interface TokenizerTrainOptions {
  data: string[];
  out: string;
  vocabSize: number;
  style: Style;
  minFrequency: number;
  onBadLine: 'skip' | 'fail';
}

export function registerTokenizerCommand(program: Command): void {
  const tokenizer = program.command('tokenizer').description('train byte-level BPE tokenizers');

  tokenizer
    .command('train')
    .description(
      'train a byte-level BPE vocabulary (GPT-2 pre-tokenization and byte alphabet) on the "text" of JSONL documents. ' +
        'Style gpt2 writes OUT/ with <|endoftext|> (for causal models); roberta writes OUT/ with <s> <pad> </s> <unk> <mask> ' +
        '(for masked-LM encoders; 4 more ids than --vocab-size); both (default) writes OUT/causal and OUT/encoder from one run',
    )
    .requiredOption('--data <files...>', 'JSONL (.jsonl, .jsonl.zst) or Parquet (.parquet) files to train on')
    .requiredOption('--out <dir>', 'output directory')
    .addOption(new Option('--vocab-size <n>', 'tokens in the GPT-2-style vocabulary: 1 special + 256 bytes + merges').default(4096).argParser(integerArg('--vocab-size')))
    .addOption(new Option('--style <style>', 'which tokenizer(s) to write').choices(['gpt2', 'roberta', 'both']).default('both'))
    .addOption(new Option('--min-frequency <n>', 'stop early when no pair occurs this often').default(2).argParser(integerArg('--min-frequency')))
    .addOption(new Option('--on-bad-line <policy>', 'skip or fail on a line that is not a Pile document').choices(['skip', 'fail']).default('fail'))
    .action(async (options: TokenizerTrainOptions) => {
      const { readDocuments } = await import('../data/jsonl.js');
      const { trainTokenizers, saveTokenizer } = await import('../tokenizers/index.js');

      // The trainer takes a synchronous iterable; the texts are held while
      // their words are counted (a corpus of tens of MB is no burden).
      const texts: string[] = [];
      for (const file of options.data) {
        for await (const record of readDocuments(file, { onBadLine: options.onBadLine })) texts.push(record.document.text);
      }
      if (texts.length === 0) throw new Error(`no documents in ${options.data.join(', ')}`);

      const started = performance.now();
      const { causal, encoder, trained } = trainTokenizers(texts, options.vocabSize, { minFrequency: options.minFrequency });
      const seconds = (performance.now() - started) / 1000;

      const written: string[] = [];
      const save = (which: typeof causal, dir: string): void => {
        saveTokenizer(which, dir);
        written.push(dir);
      };
      if (options.style === 'gpt2') save(causal, options.out);
      else if (options.style === 'roberta') save(encoder, options.out);
      else {
        save(causal, join(options.out, 'causal'));
        save(encoder, join(options.out, 'encoder'));
      }

      const { bytes, tokens } = trained.stats;
      const sizes =
        options.style === 'gpt2' ? `${causal.vocabSize}` : options.style === 'roberta' ? `${encoder.vocabSize}` : `${causal.vocabSize} (causal) / ${encoder.vocabSize} (encoder)`;
      console.log(
        `tokenizer: vocabulary ${sizes}, ${trained.merges.length} merges, trained in ${seconds.toFixed(1)} s on ` +
          `${texts.length} documents (${(bytes / 1e6).toFixed(1)} MB)`,
      );
      // The training run's final segmentation of the corpus, which is what
      // encode() gives (the merges replay in rank order), without re-encoding it all.
      console.log(`mean ${(bytes / Math.max(1, tokens)).toFixed(3)} bytes per token on the training data`);
      console.log(`wrote ${written.join(', ')}`);
    });
}
