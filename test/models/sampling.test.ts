// Sampling (models/sampling.ts) against the distribution Hugging Face's
// warpers define, and streamed text (tokenizers/text-stream.ts) against the
// whole decode.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tensor, tidy } from '../../src/engine/index.js';
import { SeededRandom, TokenSampler } from '../../src/models/index.js';
import { TextStream, gpt2Tokenizer } from '../../src/tokenizers/index.js';

const LOGITS = [2.0, 1.0, 0.5, -1.0, 0.0];

/** Frequencies of each token over n draws. */
function frequencies(options: ConstructorParameters<typeof TokenSampler>[0], n: number, seed = 1): number[] {
  const sampler = new TokenSampler(options, seed);
  const counts = LOGITS.map(() => 0);
  tidy(() => {
    const logits = tensor(LOGITS);
    for (let i = 0; i < n; i++) counts[sampler.next(logits)]!++;
  });
  return counts.map((c) => c / n);
}

/** HF: logits / t, keep the top k, keep the smallest top-p set (ascending cumsum > 1 - p), softmax. */
function expected(t: number, k: number, p: number): number[] {
  const scaled = LOGITS.map((l) => l / t);
  const order = scaled.map((_, i) => i).sort((a, b) => scaled[b]! - scaled[a]!);
  const kept = new Set(order.slice(0, k || order.length));
  const exp = scaled.map((l, i) => (kept.has(i) ? Math.exp(l) : 0));
  const z = exp.reduce((a, b) => a + b, 0);
  const probs = exp.map((e) => e / z);
  const ascending = [...order].reverse();
  let cum = 0;
  for (const i of ascending) {
    cum += probs[i]!;
    if (cum <= 1 - p && i !== order[0]) kept.delete(i);
  }
  const final = scaled.map((l, i) => (kept.has(i) ? Math.exp(l) : 0));
  const z2 = final.reduce((a, b) => a + b, 0);
  return final.map((e) => e / z2);
}

test('sampled frequencies follow temperature, top-k and top-p as transformers\' warpers define them', () => {
  for (const [t, k, p] of [[1, 0, 1], [0.7, 0, 1], [1.5, 3, 1], [1, 0, 0.8], [1.2, 4, 0.9]] as const) {
    const got = frequencies({ temperature: t, topK: k, topP: p }, 20000);
    expected(t, k, p).forEach((e, i) => assert.ok(Math.abs(got[i]! - e) < 0.015, `t ${t} k ${k} p ${p}: token ${i} ${got[i]} vs ${e}`));
  }
  assert.deepEqual(frequencies({ temperature: 1, topK: 1 }, 50), [1, 0, 0, 0, 0], 'top-k 1 is the argmax');
  assert.deepEqual(frequencies({ temperature: 0 }, 10), [1, 0, 0, 0, 0], 'temperature 0 is greedy');
  assert.deepEqual(frequencies({ temperature: 1 }, 200, 5), frequencies({ temperature: 1 }, 200, 5), 'a seed repeats its draws');
  assert.notDeepEqual(frequencies({ temperature: 1 }, 200, 5), frequencies({ temperature: 1 }, 200, 6));
  const random = new SeededRandom(3);
  const draws = Array.from({ length: 10000 }, () => random.uniform());
  assert.ok(draws.every((u) => u >= 0 && u < 1));
  assert.ok(Math.abs(draws.reduce((a, b) => a + b, 0) / draws.length - 0.5) < 0.01);
  assert.throws(() => new TokenSampler({ topP: 0 }, 1), /topP must be in \(0, 1\]/);
});

test('streamed text: the pieces join to the whole decode, a character split across tokens waits until it completes', () => {
  const tokenizer = gpt2Tokenizer();
  const text = 'naïve café — 日本語 🙂 done';
  const ids = tokenizer.encode(text);
  const stream = new TextStream(tokenizer);
  const pieces = ids.map((id) => stream.push(id));
  pieces.push(stream.finish());
  assert.equal(pieces.join(''), text);
  assert.ok(pieces.every((p) => !p.includes('\uFFFD')), JSON.stringify(pieces));
  assert.ok(pieces.some((p) => p === ''), 'some token ended inside a character');
});
