// `tttnn score`: a document's log-likelihood and bits per byte under a causal LM.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { Precision } from '../engine/precision.js';
import { describeModelTypes } from '../models/model-types.js';
import { applyPrecision, precisionOption } from './precision-option.js';
import { applyDevice, deviceOption } from './device-option.js';

/** What `tttnn score --json` prints. */
export interface ScoreResult {
  /** Natural-log likelihood of the whole text. */
  loglikelihood: number;
  bytes: number;
  words: number;
  tokens: number;
  max_length: number;
  bits_per_byte: number;
  byte_perplexity: number;
  word_perplexity: number;
  precision: 'fp32' | 'bf16';
  /** The architecture recognised (config.json's model_type). */
  model_type: string;
  /** The token the first window is conditioned on: BOS, else EOS (HFLM.prefix_token_id). */
  prefix_token_id: number;
}

interface ScoreOptions {
  model: string;
  tokenizer?: string;
  textFile: string;
  maxLength?: string;
  device: string;
  json?: boolean;
  precision: Precision;
  adapter?: string;
}

export function registerScoreCommand(program: Command): void {
  program
    .command('score')
    .description(
      "score a text file with a causal LM: log-likelihood, tokens, bytes and bits per byte, in lm-evaluation-harness rolling windows of the model's context (the text tokenized without special tokens, the first window prefixed with the tokenizer's BOS, else its end-of-text token, as HFLM does); prints the architecture recognised",
    )
    .requiredOption('--model <dir>', `Hugging Face checkpoint directory of a causal LM (${describeModelTypes('causal')})`)
    .option('--tokenizer <dir>', 'tokenizer directory (default: the model directory)')
    .requiredOption('--text-file <file>', 'UTF-8 text to score (the whole file is one document)')
    .option('--max-length <n>', "window length in tokens (default: the model's context length)")
    .addOption(deviceOption())
    .option('--adapter <dir>', "score with this PEFT LoRA adapter (adapter_config.json + adapter_model.safetensors, as tttnn train --lora or PEFT's save_pretrained writes) on the model")
    .option('--json', 'print one JSON object')
    .addOption(precisionOption('fp32'))
    .action(async (options: ScoreOptions) => {
      const precision = await applyPrecision(options.precision, 'score');
      await applyDevice(options.device, 'score');
      const { checkTokenizerFits, loadCausalLM } = await import('../models/index.js');
      const { loadTokenizer } = await import('../tokenizers/index.js');
      const { streamedRollingLoglikelihood } = await import('../eval/loglikelihood.js');
      const { countBytes, countWords, perplexityMetrics } = await import('../eval/metrics.js');

      const { readUtf8Text } = await import('../data/utf8.js');
      const { withPath } = await import('../io/path-errors.js');
      const text = readUtf8Text(options.textFile, withPath(options.textFile, 'read', () => readFileSync(options.textFile)));
      const tokenizer = loadTokenizer(options.tokenizer ?? options.model);
      const model = loadCausalLM(options.model, { device: options.device });
      try {
        checkTokenizerFits(tokenizer, model, options.tokenizer ?? options.model, options.model);
        if (options.adapter !== undefined) {
          const { LoraAdapter, readAdapterConfig } = await import('../models/index.js');
          LoraAdapter.attach(model, readAdapterConfig(options.adapter), { from: 'directory', dir: options.adapter });
        }
        const maxLength = options.maxLength === undefined ? model.contextLength : Number(options.maxLength);
        if (!Number.isInteger(maxLength) || maxLength < 1) throw new Error(`--max-length must be a positive integer, got ${options.maxLength}`);
        const prefix = tokenizer.scoringPrefixTokenId;
        if (prefix === undefined) throw new Error('the tokenizer has no beginning- or end-of-text token to prefix the first window with');
        // Tokenized piece by piece and scored window by window as the pieces come (issue 35: a text of
        // megabytes is never one tokenizer call nor one token array).
        const { loglikelihood, tokens } = streamedRollingLoglikelihood(model, tokenizer.encodePieces(text), prefix, maxLength);
        if (!Number.isFinite(loglikelihood)) {
          throw new Error(`${options.model}: the model's log-likelihood of ${options.textFile} is ${loglikelihood}, not a number to report; its weights or config.json (e.g. layer_norm_epsilon) are broken`);
        }
        const counts = { loglikelihood, bytes: countBytes(text), words: countWords(text) };
        const result: ScoreResult = { ...counts, tokens, max_length: maxLength, ...perplexityMetrics(counts), precision, model_type: model.modelType, prefix_token_id: prefix };
        if (options.json) {
          console.log(JSON.stringify(result));
        } else {
          for (const [key, value] of Object.entries(result)) console.log(`${key.padEnd(16)} ${value}`);
        }
      } finally {
        model.dispose();
      }
    });
}
