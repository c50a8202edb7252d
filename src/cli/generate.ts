// `tttnn generate`: the original's TTTLM.generate (eval_tttlm.py:310-349) as a
// command — a continuation of the prompt sampled before and after test-time
// training on its neighbours, the neighbours used, and the seconds each part
// took. Tokens stream to stdout as they are chosen; --json prints one object
// at the end instead.
import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { Precision } from '../engine/precision.js';
import { describeModelTypes } from '../models/model-types.js';
import { applyDevice, deviceOption } from './device-option.js';
import { ADDRESSES_HELP, CA_HELP, connectRetriever } from './fleet-options.js';
import { applyPrecision, precisionOption } from './precision-option.js';

interface GenerateCommandOptions {
  model: string;
  tokenizer?: string;
  embedder?: string;
  addresses?: string;
  tokenFile?: string;
  ca?: string;
  prompt?: string;
  promptFile?: string;
  numNeighbors: number;
  learningRate?: number;
  trainable: 'full' | 'lora';
  maxNewTokens?: number;
  temperature: number;
  topK: number;
  topP: number;
  seed?: number;
  cache: boolean;
  precision: Precision;
  device: string;
  json?: boolean;
}

/** What `tttnn generate --json` prints. */
export interface GenerateResult {
  prompt: string;
  prompt_tokens: number;
  /** The continuations (without the prompt); `before` is absent with --num-neighbors 0. */
  before?: string;
  after: string;
  neighbors: { id: number; distance: number; first_words: string }[];
  partial: boolean;
  seconds: { retrieval: number; training: number; generation_before: number; generation_after: number };
  /** Mean training loss per neighbour. */
  train_losses: number[];
  seed: number;
  sampling: { temperature: number; top_k: number; top_p: number };
  max_new_tokens: number;
  num_neighbors: number;
  learning_rate: number;
  trainable: 'full' | 'lora';
  model_type: string;
  precision: 'fp32' | 'bf16';
}

const integer = (flag: string, min: number) => (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${flag} must be an integer >= ${min}, got '${value}'`);
  return n;
};
const number = (flag: string) => (value: string): number => {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`${flag} must be a number, got '${value}'`);
  return n;
};

export function registerGenerateCommand(program: Command): void {
  program
    .command('generate')
    .description(
      "continue a prompt before and after test-time training on its nearest neighbours, as the original's TTTLM.generate (eval_tttlm.py:310-349): sample, retrieve the prompt's neighbours, one AdamW step per window of each, sample again with the same seed, restore the weights; prints both continuations (streamed), the neighbours (id, distance, first words) and the seconds of retrieval, training and generation",
    )
    .requiredOption('--model <dir>', `causal LM checkpoint directory (${describeModelTypes('causal')})`)
    .option('--tokenizer <dir>', 'tokenizer directory (default: the model directory)')
    .option('--embedder <dir>', 'the embedder the index was built with: an encoder checkpoint (mean pooling) or a sentence-transformers directory (not needed with --num-neighbors 0)')
    .option('--addresses <file|list>', `${ADDRESSES_HELP}; not needed with --num-neighbors 0`)
    .option('--token-file <file>', 'token file of the shard servers')
    .option('--ca <file>', CA_HELP)
    .option('--prompt <text>', 'the prompt (or --prompt-file)')
    .option('--prompt-file <file>', 'a UTF-8 file whose whole text is the prompt')
    .addOption(new Option('--num-neighbors <k>', 'neighbours to train on (eval_tttlm.py:42); 0: plain generation, no retrieval').default(50).argParser(integer('--num-neighbors', 0)))
    .addOption(new Option('--learning-rate <lr>', "test-time learning rate (default: the original's for the model type: gpt2 2e-5, gpt_neo 5e-6; other types need it)").argParser(number('--learning-rate')))
    .addOption(new Option('--trainable <what>', 'full: every weight, as the original (eval_tttlm.py:82); lora: a LoRA adapter with PEFT\'s defaults for the architecture, removed afterwards').choices(['full', 'lora']).default('full'))
    .addOption(new Option('--max-new-tokens <n>', "tokens to generate (default: 100 minus the prompt's tokens, the original's max_length=100, eval_tttlm.py:328)").argParser(integer('--max-new-tokens', 1)))
    .addOption(new Option('--temperature <t>', "sampling temperature; 0: greedy (default 1, transformers' default for do_sample=True, eval_tttlm.py:329)").default(1).argParser(number('--temperature')))
    .addOption(new Option('--top-k <k>', "sample among the k most likely tokens; 0: all (default 50, transformers' GenerationConfig default, which the original's generate() call uses)").default(50).argParser(integer('--top-k', 0)))
    .addOption(new Option('--top-p <p>', 'sample among the most likely tokens whose probability adds up to p (default 1: all)').default(1).argParser(number('--top-p')))
    .addOption(new Option('--seed <n>', 'seed of the sampling draws and of the training steps\' dropout: the same seed gives the same output (default: a random seed, printed; the original does not seed)').argParser(integer('--seed', 0)))
    .option('--no-cache', 'decode without the key/value cache (every step re-reads the whole window; same tokens, slower)')
    .addOption(deviceOption())
    .addOption(precisionOption('fp32'))
    .option('--json', 'print one JSON object at the end instead of streaming')
    .action(async (o: GenerateCommandOptions) => {
      if ((o.prompt === undefined) === (o.promptFile === undefined)) throw new Error('give the prompt with exactly one of --prompt and --prompt-file');
      if (o.topP <= 0 || o.topP > 1) throw new Error(`--top-p must be in (0, 1], got ${o.topP}`);
      if (o.temperature < 0) throw new Error(`--temperature must be >= 0, got ${o.temperature}`);
      if (o.numNeighbors > 0 && (!o.embedder || !o.addresses || !o.tokenFile)) throw new Error('--num-neighbors > 0 needs --embedder, --addresses and --token-file (or --num-neighbors 0 for plain generation)');
      const precision = await applyPrecision(o.precision, 'generate');
      await applyDevice(o.device, 'generate');
      const { readUtf8Text } = await import('../data/utf8.js');
      const { withPath } = await import('../io/path-errors.js');
      const prompt = o.prompt ?? readUtf8Text(o.promptFile!, withPath(o.promptFile!, 'read', () => readFileSync(o.promptFile!)));
      const { checkTokenizerFits, loadCausalLM } = await import('../models/index.js');
      const { loadTokenizer, TextStream } = await import('../tokenizers/index.js');
      const { resolveSettings } = await import('../eval/settings.js');
      const { firstWords, generateWithTtt, ORIGINAL_MAX_LENGTH } = await import('../eval/ttt-generate.js');

      const tokenizer = loadTokenizer(o.tokenizer ?? o.model);
      const model = loadCausalLM(o.model, { device: o.device });
      let encoder: { dispose(): void } | undefined;
      try {
        checkTokenizerFits(tokenizer, model, o.tokenizer ?? o.model, o.model);
        const facts = { modelType: model.modelType, contextLength: model.contextLength };
        // With no neighbours nothing trains: the learning rate is not needed (a type without a default would refuse).
        const settings = { ...resolveSettings('ttt', facts, { numNeighbors: Math.max(o.numNeighbors, 1), learningRate: o.learningRate ?? (o.numNeighbors === 0 ? 1 : undefined), trainable: o.trainable }), numNeighbors: o.numNeighbors };
        const promptTokens = tokenizer.encode(prompt, { addSpecialTokens: true }).length;
        const maxNewTokens = o.maxNewTokens ?? ORIGINAL_MAX_LENGTH - promptTokens;
        if (maxNewTokens < 1) throw new Error(`the prompt has ${promptTokens} tokens, the original's max_length ${ORIGINAL_MAX_LENGTH} leaves none to generate: give --max-new-tokens`);
        const seed = o.seed ?? randomInt(2 ** 32);
        let retriever;
        if (o.numNeighbors > 0) {
          const connected = await connectRetriever({ addresses: o.addresses!, tokenFile: o.tokenFile!, ca: o.ca, embedder: o.embedder!, device: o.device });
          encoder = connected.embedder.model;
          retriever = connected.retriever;
        }
        const out = (text: string): void => {
          if (!o.json) process.stdout.write(text);
        };
        let stream = new TextStream(tokenizer);
        let phase: string | undefined;
        const header = (title: string): void => out(`\n--- ${title} ---\n`);
        out(`seed ${seed}; temperature ${o.temperature}, top-k ${o.topK}, top-p ${o.topP}; ${maxNewTokens} new tokens after a prompt of ${promptTokens}\n`);
        const controller = new AbortController();
        const onSigint = (): void => controller.abort();
        process.once('SIGINT', onSigint);
        let result;
        try {
          result = await generateWithTtt(model, tokenizer, retriever, { prompt, maxNewTokens, sampling: { temperature: o.temperature, topK: o.topK, topP: o.topP }, seed, settings, cache: o.cache }, {
            signal: controller.signal,
            onToken: (p, id) => {
              if (p !== phase) {
                if (phase !== undefined) out(stream.finish());
                phase = p;
                stream = new TextStream(tokenizer);
                header(o.numNeighbors === 0 ? 'continuation (no neighbours)' : `${p} TTT-NN`);
                out(prompt);
              }
              out(stream.push(id));
            },
            onNeighbors: (neighbors, partial) => {
              out(stream.finish());
              header(`${neighbors.length} neighbours${partial ? ' (partial: a slice of the index did not answer)' : ''}`);
              neighbors.forEach((n, i) => out(`${String(i + 1).padStart(3)}  id ${n.id}  distance ${n.distance.toFixed(4)}  ${JSON.stringify(firstWords(n.text))}\n`));
            },
            onTrained: (i, losses) => {
              const finite = losses.filter(Number.isFinite);
              console.error(`tttnn generate: trained on neighbour ${i + 1}/${o.numNeighbors} (${losses.length} step${losses.length === 1 ? '' : 's'}, loss ${finite.length ? (finite.reduce((a, b) => a + b, 0) / finite.length).toFixed(4) : 'n/a'})`);
            },
          });
        } finally {
          process.removeListener('SIGINT', onSigint);
        }
        out(stream.finish() + '\n');
        if (result.aborted) throw new Error('generation interrupted');
        const sec = result.seconds;
        const decode = (ids: number[] | undefined): string | undefined => (ids === undefined ? undefined : tokenizer.decode(ids, { skipSpecialTokens: true }));
        const json: GenerateResult = {
          prompt, prompt_tokens: promptTokens, before: decode(result.before), after: decode(result.after)!,
          neighbors: result.neighbors.map((n) => ({ id: n.id, distance: n.distance, first_words: firstWords(n.text) })), partial: result.partial,
          seconds: { retrieval: sec.retrieval, training: sec.training, generation_before: sec.generationBefore, generation_after: sec.generationAfter },
          train_losses: result.trainLosses.map((l) => l.filter(Number.isFinite).reduce((a, b, _i, all) => a + b / all.length, 0)),
          seed, sampling: { temperature: o.temperature, top_k: o.topK, top_p: o.topP }, max_new_tokens: maxNewTokens, num_neighbors: o.numNeighbors,
          learning_rate: settings.learningRate, trainable: o.trainable, model_type: model.modelType, precision,
        };
        if (o.json) console.log(JSON.stringify(json));
        else out(`\nseconds: retrieval ${sec.retrieval.toFixed(3)}, training ${sec.training.toFixed(3)}, generation ${sec.generationBefore.toFixed(3)} before + ${sec.generationAfter.toFixed(3)} after\n`);
      } finally {
        model.dispose();
        encoder?.dispose();
      }
    });
}
