// Configs and tokenizers a user hands over (issue 35, point 8): every config
// value checked for type and range, and the model for its memory, before
// anything is allocated; a tokenizer refused when it is not byte-level BPE or
// has more tokens than the model; a NaN score refused, not printed. Configs
// and tokenizer.json files are written by hand, as a user would.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { manualSeed, noGrad } from '../../src/engine/index.js';
import { checkTokenizerFits, createModel, saveModel, type CausalLM } from '../../src/models/index.js';
import { gpt2Tokenizer, loadTokenizer, saveTokenizer } from '../../src/tokenizers/index.js';

const CLI = new URL('../../../bin/tttnn.js', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'tttnn-config-bounds-'));

function tttnn(...args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => execFile(process.execPath, [CLI, ...args], { timeout: 120_000 }, (error, stdout, stderr) => resolve({ status: error ? Number(error.code ?? 1) : 0, stdout, stderr })));
}

test('config values out of range are errors naming the field, before anything is allocated', () => {
  const gpt2 = { model_type: 'gpt2', vocab_size: 64, n_positions: 16, n_embd: 8, n_layer: 1, n_head: 2 };
  const neo = { model_type: 'gpt_neo', vocab_size: 64, max_position_embeddings: 16, hidden_size: 8, num_layers: 2, num_heads: 2, attention_types: [[['global', 'local'], 1]] };
  const roberta = { model_type: 'roberta', vocab_size: 64, max_position_embeddings: 20, hidden_size: 8, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 16 };
  const cases: [object, RegExp][] = [
    [{ ...gpt2, layer_norm_epsilon: -1 }, /field "layer_norm_epsilon" must be a small positive number, e\.g\. 1e-5 \(got -1\)/],
    [{ ...neo, layer_norm_epsilon: 0 }, /field "layer_norm_epsilon" must be a small positive number/],
    [{ ...roberta, layer_norm_eps: 2 }, /field "layer_norm_eps" must be a small positive number/],
    [{ ...gpt2, vocab_size: 1e300 }, /field "vocab_size" must be an integer from 0 to 2147483647 \(got 1e\+300\)/],
    [{ ...gpt2, n_layer: 1e7 }, /field "n_layer" must be an integer from 0 to 4096 \(got 10000000\)/],
    [{ ...gpt2, n_embd: 2 ** 20, n_head: 1 }, /this configuration has .*e\+1\d parameters, .* GiB of float32 weights, more than this machine's .* GiB of memory; check vocab_size, n_positions, n_embd and n_layer/],
    [{ ...roberta, vocab_size: 2 ** 31 - 1, hidden_size: 1024, num_attention_heads: 8 }, /more than this machine's .* GiB of memory; check vocab_size, max_position_embeddings/],
    [{ ...gpt2, n_head: 0 }, /field "n_head" must be at least 1/],
    [{ ...gpt2, attn_pdrop: 1.5 }, /field "attn_pdrop" must be a probability from 0 to below 1 \(got 1\.5\)/],
    [{ ...gpt2, initializer_range: -0.02 }, /field "initializer_range" must not be negative/],
    [{ ...neo, num_layers: 2, attention_types: [[['global'], 1e9]] }, /attention_types describes more than 4096 layers/],
    [{ ...roberta, pad_token_id: 64 }, /pad_token_id \(64\) must be below vocab_size \(64\)/],
  ];
  for (const [config, message] of cases) assert.throws(() => createModel(config as Record<string, unknown>), message, JSON.stringify(config));
  const model = createModel(gpt2) as CausalLM; // the valid base still builds
  assert.equal(model.vocabSize, 64);
  model.dispose();
});

test('tttnn score refuses a config with a negative layer_norm_epsilon, a tokenizer larger than the model, and a NaN result, instead of printing NaN bits per byte', async () => {
  manualSeed(3);
  const text = join(dir, 'doc.txt');
  writeFileSync(text, 'The quick brown fox jumps over the lazy dog.');
  const save = (name: string, config: Record<string, unknown>, poison = false): string => {
    const model = createModel({ model_type: 'gpt2', n_positions: 32, n_embd: 8, n_layer: 1, n_head: 2, ...config }) as CausalLM;
    if (poison) noGrad(() => model.parameters.list().forEach((p) => p.fill_(Number.NaN)));
    const out = join(dir, name);
    saveModel(model, out);
    model.dispose();
    saveTokenizer(gpt2Tokenizer(), out);
    return out;
  };
  const epsilon = save('epsilon', { vocab_size: 50257 });
  const configPath = join(epsilon, 'config.json');
  writeFileSync(configPath, JSON.stringify({ ...JSON.parse(readFileSync(configPath, 'utf8')), layer_norm_epsilon: -1 }));
  const small = save('small-vocabulary', { vocab_size: 1000 });
  const poisoned = save('nan-weights', { vocab_size: 50257 }, true);
  const [a, b, c] = await Promise.all([tttnn('score', '--model', epsilon, '--text-file', text), tttnn('score', '--model', small, '--text-file', text), tttnn('score', '--model', poisoned, '--text-file', text)]);
  assert.equal(a.status, 1, a.stdout);
  assert.match(a.stderr, new RegExp(`${epsilon}: field "layer_norm_epsilon" must be a small positive number, e\\.g\\. 1e-5 \\(got -1\\)`));
  assert.equal(b.status, 1, b.stdout);
  assert.match(b.stderr, new RegExp(`${small}: the tokenizer has 50257 tokens, more than the vocabulary of the model in ${small} \\(vocab_size 1000\\): it is another model's tokenizer`));
  assert.equal(c.status, 1, c.stdout);
  assert.match(c.stderr, /nan-weights: the model's log-likelihood of .*doc\.txt is NaN, not a number to report/);
});

test('a tokenizer.json of a kind the model does not read (WordPiece for GPT-2) is refused naming both and what the tokenizer is', () => {
  const wordpiece = join(dir, 'wordpiece');
  mkdirSync(wordpiece);
  writeFileSync(
    join(wordpiece, 'tokenizer.json'),
    JSON.stringify({
      version: '1.0', truncation: null, padding: null, added_tokens: [], normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
      pre_tokenizer: { type: 'BertPreTokenizer' }, post_processor: null, decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
      model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab: { '[UNK]': 0, the: 1, quick: 2, '##ly': 3 } },
    }),
  );
  const gpt2 = { modelType: 'gpt2', vocabSize: 50257 };
  assert.throws(() => checkTokenizerFits(loadTokenizer(wordpiece), gpt2, wordpiece, 'gpt-dir'), new RegExp(`${wordpiece}: a WordPiece tokenizer with pre-tokenizer "BertPreTokenizer"; the model in gpt-dir \\(gpt2\\) reads byte-level BPE: use the tokenizer saved with the model`));
  const bpe = join(dir, 'bpe');
  saveTokenizer(gpt2Tokenizer(), bpe);
  assert.equal(loadTokenizer(bpe).vocabSize, 50257);
  checkTokenizerFits(loadTokenizer(bpe), gpt2, bpe, 'gpt-dir');
});
