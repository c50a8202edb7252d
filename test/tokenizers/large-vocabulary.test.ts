// Vocabularies and sequences beyond what a spread into a call's arguments
// survives (issue 35, point 7: Math.max(...ids) overflowed the stack at about
// 124 K ids, so Llama-3's 128 K vocabulary failed).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeBatch } from '../../src/train/batches.js';
import { fromVocabAndMerges } from '../../src/tokenizers/index.js';
import { BYTE_TO_UNICODE } from '../../src/tokenizers/train-bpe.js';

test('a byte-level BPE of 200 K tokens loads, tokenizes and batches a 200 K-token sequence', () => {
  const vocab: Record<string, number> = {};
  BYTE_TO_UNICODE.forEach((token, id) => (vocab[token] = id));
  for (let i = 0; i < 200_000; i++) vocab[`tok${i}`] = 256 + i;
  vocab['<|endoftext|>'] = 200_256;
  const tokenizer = fromVocabAndMerges(vocab, '#version: 0.2\n', { eos_token: '<|endoftext|>' });
  assert.equal(tokenizer.vocabSize, 200_257);
  const ids = tokenizer.encode('to be');
  assert.equal(tokenizer.decode(ids), 'to be');
  const long = Array.from({ length: 200_000 }, (_, i) => i % 200_257);
  const batch = makeBatch([long, [1, 2, 3]], 'causal', tokenizer, 0);
  assert.deepEqual(batch.ids.shape, [2, 200_000]);
  batch.ids.dispose();
  batch.labels.dispose();
  batch.attentionMask.dispose();
});
