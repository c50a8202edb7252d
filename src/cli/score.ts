// `tttnn score`: a document's log-likelihood and bits per byte under a causal LM.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { Precision } from '../engine/precision.js';
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
}

interface ScoreOptions {
  model: string;
  tokenizer?: string;
  textFile: string;
  maxLength?: string;
  device: string;
  json?: boolean;
  precision: Precision;
}

export function registerScoreCommand(program: Command): void {
  program
    .command('score')
    .description(
      "score a text file with a causal LM: log-likelihood, tokens, bytes and bits per byte, in lm-evaluation-harness rolling windows of the model's context (the first window prefixed with the end-of-text token)",
    )
    .requiredOption('--model <dir>', 'Hugging Face checkpoint directory of a causal LM (gpt2, gpt_neo)')
    .option('--tokenizer <dir>', 'tokenizer directory (default: the model directory)')
    .requiredOption('--text-file <file>', 'UTF-8 text to score (the whole file is one document)')
    .option('--max-length <n>', "window length in tokens (default: the model's context length)")
    .addOption(deviceOption())
    .option('--json', 'print one JSON object')
    .addOption(precisionOption('fp32'))
    .action(async (options: ScoreOptions) => {
      const precision = await applyPrecision(options.precision, 'score');
      await applyDevice(options.device, 'score');
      const { loadCausalLM } = await import('../models/index.js');
      const { loadTokenizer } = await import('../tokenizers/index.js');
      const { rollingLoglikelihood } = await import('../eval/loglikelihood.js');
      const { countBytes, countWords, perplexityMetrics } = await import('../eval/metrics.js');

      const text = readFileSync(options.textFile, 'utf8');
      const tokenizer = loadTokenizer(options.tokenizer ?? options.model);
      const model = loadCausalLM(options.model, { device: options.device });
      try {
        const maxLength = options.maxLength === undefined ? model.contextLength : Number(options.maxLength);
        if (!Number.isInteger(maxLength) || maxLength < 1) throw new Error(`--max-length must be a positive integer, got ${options.maxLength}`);
        const prefix = tokenizer.eosTokenId;
        if (prefix === undefined) throw new Error('the tokenizer has no end-of-text token to prefix the first window with');
        const tokens = tokenizer.encode(text);
        const loglikelihood = rollingLoglikelihood(model, tokens, prefix, maxLength);
        const counts = { loglikelihood, bytes: countBytes(text), words: countWords(text) };
        const result: ScoreResult = { ...counts, tokens: tokens.length, max_length: maxLength, ...perplexityMetrics(counts), precision };
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
