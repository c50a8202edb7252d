// `tttnn serve-lm`: the model behind an OpenAI-compatible HTTP endpoint
// (serving/lm-server.ts), each completion after test-time training on its
// prompt's neighbours from a running fleet.
import { basename } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { Precision } from '../engine/precision.js';
import { describeModelTypes } from '../models/model-types.js';
import { applyDevice, deviceOption } from './device-option.js';
import { ADDRESSES_HELP, CA_HELP, connectRetriever } from './fleet-options.js';
import { applyPrecision, precisionOption } from './precision-option.js';

interface ServeLmOptions {
  model: string;
  tokenizer?: string;
  embedder?: string;
  addresses?: string;
  tokenFile?: string;
  ca?: string;
  apiTokenFile: string;
  host: string;
  port: number;
  modelName?: string;
  numNeighbors: number;
  learningRate?: number;
  trainable: 'full' | 'lora';
  maxBodyBytes: number;
  maxTokensCap: number;
  deadlineSeconds: number;
  maxWaiting: number;
  precision: Precision;
  device: string;
}

const integer = (flag: string, min: number) => (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${flag} must be an integer >= ${min}, got '${value}'`);
  return n;
};

export function registerServeLmCommand(program: Command): void {
  program
    .command('serve-lm')
    .description(
      'serve the model over HTTP as an OpenAI-compatible subset — POST /v1/completions and /v1/chat/completions (model, prompt or messages, max_tokens, temperature, top_p, seed, stream as server-sent events, and the extension object ttt: {neighbors, learning_rate, trainable}); each request retrieves its prompt\'s neighbours, trains on them (its own LoRA adapter, or every weight, restored afterwards) and generates; requests take turns with the model in a bounded line; answers carry usage, ttt and an x-tttnn-neighbors header (id:distance, nearest first)',
    )
    .requiredOption('--model <dir>', `causal LM checkpoint directory (${describeModelTypes('causal')})`)
    .option('--tokenizer <dir>', 'tokenizer directory (default: the model directory); its chat template (tokenizer_config.json chat_template or chat_template.jinja) serves /v1/chat/completions, which is refused without one')
    .requiredOption('--api-token-file <file>', "the bearer token clients must send (Authorization: Bearer <token>; the openai client's apiKey), in a file only its owner can read; no default")
    .option('--embedder <dir>', 'the embedder the index was built with: an encoder checkpoint (mean pooling) or a sentence-transformers directory (without --embedder/--addresses only ttt.neighbors 0 is served)')
    .option('--addresses <file|list>', ADDRESSES_HELP)
    .option('--token-file <file>', 'token file of the shard servers')
    .option('--ca <file>', CA_HELP)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .addOption(new Option('--port <port>', 'port to listen on (0: any free port, printed)').default(8000).argParser(integer('--port', 0)))
    .option('--model-name <name>', 'the name answers carry in `model` (default: the model directory\'s name)')
    .addOption(new Option('--num-neighbors <k>', "neighbours per request when its ttt.neighbors is absent (default 50, eval_tttlm.py:42; 0: plain generation)").default(50).argParser(integer('--num-neighbors', 0)))
    .addOption(new Option('--learning-rate <lr>', "learning rate when a request's ttt.learning_rate is absent (default: the original's for the model type: gpt2 2e-5, gpt_neo 5e-6)").argParser((v: string) => {
      const n = Number(v);
      if (!(n > 0)) throw new InvalidArgumentError(`--learning-rate must be a positive number, got '${v}'`);
      return n;
    }))
    .addOption(new Option('--trainable <what>', "what a request trains when its ttt.trainable is absent: full (every weight, as the original; restored after each request) or lora (a fresh adapter per request)").choices(['full', 'lora']).default('full'))
    .addOption(new Option('--max-body-bytes <n>', 'largest request body; a larger one gets 413').default(1 << 20).argParser(integer('--max-body-bytes', 1024)))
    .addOption(new Option('--max-tokens-cap <n>', 'largest max_tokens a request may ask for; more gets 400 naming max_tokens').default(1024).argParser(integer('--max-tokens-cap', 1)))
    .addOption(new Option('--deadline-seconds <s>', 'a request stops this long after it arrived, waiting included (504, or the stream ends)').default(600).argParser(integer('--deadline-seconds', 1)))
    .addOption(new Option('--max-waiting <n>', 'requests waiting for the model at most (one runs at a time); one more gets 503').default(16).argParser(integer('--max-waiting', 0)))
    .addOption(deviceOption())
    .addOption(precisionOption('fp32'))
    .action(async (o: ServeLmOptions) => {
      if ((o.embedder === undefined) !== (o.addresses === undefined) || (o.addresses !== undefined && o.tokenFile === undefined)) {
        throw new Error('retrieval needs --embedder, --addresses and --token-file together (or none of them: plain generation only)');
      }
      await applyPrecision(o.precision, 'serve-lm');
      await applyDevice(o.device, 'serve-lm');
      const { readToken } = await import('../retrieval/auth.js');
      const { checkTokenizerFits, loadCausalLM } = await import('../models/index.js');
      const { ChatTemplate, loadTokenizer } = await import('../tokenizers/index.js');
      const { DEFAULT_LM_LIMITS, startLmServer } = await import('../serving/lm-server.js');
      const token = readToken(o.apiTokenFile);
      const tokenizerDir = o.tokenizer ?? o.model;
      const tokenizer = loadTokenizer(tokenizerDir);
      const model = loadCausalLM(o.model, { device: o.device });
      checkTokenizerFits(tokenizer, model, tokenizerDir, o.model);
      const chatTemplate = ChatTemplate.load(tokenizerDir);
      let retriever;
      if (o.addresses !== undefined) {
        retriever = (await connectRetriever({ addresses: o.addresses, tokenFile: o.tokenFile!, ca: o.ca, embedder: o.embedder!, device: o.device })).retriever;
      }
      const server = await startLmServer({
        model, tokenizer, chatTemplate, retriever, token, host: o.host, port: o.port, modelName: o.modelName ?? basename(o.model),
        limits: { ...DEFAULT_LM_LIMITS, maxBodyBytes: o.maxBodyBytes, maxTokensCap: o.maxTokensCap, deadlineSeconds: o.deadlineSeconds, maxWaiting: o.maxWaiting },
        defaults: { neighbors: o.numNeighbors, learningRate: o.learningRate, trainable: o.trainable },
        log: (line) => console.error(`tttnn serve-lm: ${line}`),
      });
      console.error(`tttnn serve-lm: ${chatTemplate ? `chat template from ${chatTemplate.source}` : 'no chat template: /v1/chat/completions is refused'}; ${retriever ? `${o.numNeighbors} neighbours by default` : 'no fleet: plain generation only'}`);
      console.log(`tttnn serve-lm: listening on ${server.url} (OpenAI baseURL ${server.url}/v1)`);
      const stop = (): void => {
        console.error('tttnn serve-lm: stopping');
        void server.close().then(() => process.exit(0));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
