// The unigram baseline the demo's language model must beat: add-one
// smoothed token frequencies of the training text, scored on exactly the
// validation targets the trainer's loss is computed on.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { trainTokenizers } from '../../src/tokenizers/index.js';
import { unigramBaseline } from '../../src/train/unigram.js';

test('unigram cross-entropy equals a direct computation over the trainer\'s validation sequences', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tttnn-unigram-'));
  const trainTexts = Array.from({ length: 30 }, (_, i) => `The cat ${i % 7} sat on the mat; the dog ${i % 5} did not. `.repeat(3));
  const valTexts = ['The cat sat on the dog.', 'A mat, a cat and 12 dogs sat on the mat on the mat on the mat.', 'zzz'];
  const jsonl = (texts: string[]): string => texts.map((text) => JSON.stringify({ text })).join('\n') + '\n';
  writeFileSync(join(dir, 'train.jsonl'), jsonl(trainTexts));
  writeFileSync(join(dir, 'val.jsonl'), jsonl(valTexts));
  const { causal } = trainTokenizers(trainTexts, 300);
  const seqLen = 8;
  const got = await unigramBaseline({ tokenizer: causal, train: join(dir, 'train.jsonl'), trainBytes: Infinity, val: join(dir, 'val.jsonl'), seqLen, valSequences: 5 });

  // By hand: every training token (and one end-of-text per document) counted once...
  const eos = causal.eosTokenId!;
  const counts = new Map<number, number>();
  let total = 0;
  for (const text of trainTexts) {
    for (const id of [...causal.encode(text), eos]) {
      counts.set(id, (counts.get(id) ?? 0) + 1);
      total++;
    }
  }
  // ...and the first 5 chunks of seqLen tokens of the validation documents, each predicting its tokens after the first.
  const chunks = valTexts.flatMap((text) => {
    const ids = [...causal.encode(text), eos];
    return Array.from({ length: Math.ceil(ids.length / seqLen) }, (_, c) => ids.slice(c * seqLen, (c + 1) * seqLen)).filter((s) => s.length >= 2);
  }).slice(0, 5);
  const targets = chunks.flatMap((s) => s.slice(1));
  const expected = -targets.reduce((sum, id) => sum + Math.log(((counts.get(id) ?? 0) + 1) / (total + causal.vocabSize)), 0) / targets.length;
  assert.equal(got.trainTokens, total);
  assert.equal(got.valTokens, targets.length);
  assert.ok(Math.abs(got.crossEntropy - expected) < 1e-12, `${got.crossEntropy} vs ${expected}`);
  // A text of unseen tokens ("zzz") costs more than the seen ones: smoothing, not zero probability.
  assert.ok(Number.isFinite(got.crossEntropy) && got.crossEntropy > 0);
});
