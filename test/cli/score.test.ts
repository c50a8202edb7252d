// `tttnn score` end to end: a tiny GPT-2 checkpoint with the GPT-2 tokenizer.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { logSoftmax, manualSeed, noGrad, tensor, tidy } from '../../src/engine/index.js';
import { createModel, saveModel, type CausalLM } from '../../src/models/index.js';
import type { ScoreResult } from '../../src/cli/score.js';
import { gpt2Tokenizer, saveTokenizer } from '../../src/tokenizers/index.js';
import { rollingLoglikelihood } from '../../src/eval/loglikelihood.js';
import { getEncoding } from 'js-tiktoken';

const CLI = new URL('../../../bin/tttnn.js', import.meta.url).pathname;


test('score prints log-likelihood, counts and bits per byte that match a direct computation', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tttnn-score-'));
  manualSeed(5);
  const model = createModel({ model_type: 'gpt2', vocab_size: 50257, n_positions: 64, n_embd: 16, n_layer: 1, n_head: 2 }) as CausalLM;
  saveModel(model, dir);
  const tokenizer = gpt2Tokenizer();
  saveTokenizer(tokenizer, dir);
  const text = 'The quick brown fox jumps over the lazy dog.\nIt was the best of times, it was the worst of times. 東京 🤖';
  const file = join(dir, 'doc.txt');
  writeFileSync(file, text);

  const run = (...extra: string[]): ScoreResult =>
    JSON.parse(execFileSync(process.execPath, [CLI, 'score', '--model', dir, '--text-file', file, '--json', ...extra], { encoding: 'utf8' })) as ScoreResult;
  const whole = run();
  const ids = tokenizer.encode(text);
  assert.equal(whole.tokens, ids.length);
  assert.equal(whole.bytes, Buffer.byteLength(text));
  assert.equal(whole.words, 23);
  assert.equal(whole.max_length, 64);
  // One window: sum of log p(token_i | <|endoftext|>, tokens_<i) from a single forward pass.
  const direct = tidy(() =>
    noGrad(() => {
      const input = tensor([50256, ...ids.slice(0, -1)], { dtype: 'int64', shape: [1, ids.length] });
      const logProbs = logSoftmax(model.logits(input), -1);
      return logProbs.gather(2, tensor(ids, { dtype: 'int64', shape: [1, ids.length, 1] })).sum().item();
    }),
  );
  assert.ok(Math.abs(whole.loglikelihood - direct) < 1e-3, `${whole.loglikelihood} vs ${direct}`);
  assert.ok(Math.abs(whole.bits_per_byte - -direct / whole.bytes / Math.LN2) < 1e-5);
  // Shorter windows see less context: a different likelihood, the same counts.
  const windowed = run('--max-length', '8');
  assert.equal(windowed.tokens, whole.tokens);
  assert.notEqual(windowed.loglikelihood, whole.loglikelihood);
  model.dispose();

  const bad = spawnSync(process.execPath, [CLI, 'score', '--model', dir, '--text-file', file, '--max-length', '65'], { encoding: 'utf8' });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /max length 65 is longer than the model's context \(64\)/);
  const missing = spawnSync(process.execPath, [CLI, 'score', '--model', join(dir, 'nope'), '--text-file', file], { encoding: 'utf8' });
  assert.match(missing.stderr, /nope.*(no tokenizer|config\.json: missing)/);
});

test('score streams a long text: tokenized in pieces and scored window by window, the same tokens and log-likelihood as tiktoken\'s ids of the whole text scored in rolling windows', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tttnn-score-long-'));
  manualSeed(6);
  const model = createModel({ model_type: 'gpt2', vocab_size: 50257, n_positions: 64, n_embd: 16, n_layer: 1, n_head: 2 }) as CausalLM;
  saveModel(model, dir);
  saveTokenizer(gpt2Tokenizer(), dir);
  const sentence = 'It was the best of times, it was the worst of times.\n  Numbers 12345 and café 東京 🤖! ';
  const text = sentence.repeat(Math.ceil(60_000 / sentence.length)); // several 16 K-character pieces
  const file = join(dir, 'long.txt');
  writeFileSync(file, text);
  const result = JSON.parse(execFileSync(process.execPath, [CLI, 'score', '--model', dir, '--text-file', file, '--json'], { encoding: 'utf8' })) as ScoreResult;
  const ids = getEncoding('r50k_base').encode(text, 'all');
  assert.equal(result.tokens, ids.length);
  const expected = rollingLoglikelihood(model, ids, 50256, 64);
  assert.ok(Math.abs(result.loglikelihood - expected) < 1e-6 * Math.abs(expected), `${result.loglikelihood} vs ${expected}`);
  model.dispose();
});
