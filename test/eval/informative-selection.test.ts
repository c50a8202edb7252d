// SIFT / random selection among retrieved candidates (src/eval/selection.ts)
// against a NumPy transcription of activeft's VTL, its behaviour on
// near-duplicates, and the per-document budget of test-time training.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AdamW, manualSeed } from '../../src/engine/index.js';
import { seededRandom } from '../../src/data/seeded-random.js';
import { Gpt2LMHeadModel } from '../../src/models/index.js';
import type { RetrievedNeighbor } from '../../src/eval/retriever.js';
import { adaptiveKeep, selectNeighbors, vtlSelect } from '../../src/eval/selection.js';
import { testTimeTrain } from '../../src/eval/ttt.js';
import { snapshotParameters, disposeAll } from '../../src/engine/index.js';
import { runPython } from '../helpers/python.js';

/** Seeded Gaussian-ish vectors (sum of uniforms), as plain arrays. */
function vectors(n: number, d: number, seed: number): Float32Array[] {
  const random = seededRandom(seed);
  return Array.from({ length: n }, () => Float32Array.from({ length: d }, () => random() + random() + random() - 1.5));
}

// activeft's VTL (acquisition_functions/vtl.py over bace.py and gaussian.py),
// transcribed in NumPy: the kernel matrix of [candidates; query], then per
// step the posterior variance of the query after each candidate, argmax of
// its negative (first on ties), and conditioning the whole matrix on the pick
// with GaussianCovarianceMatrix.condition_on's formula (an explicit inverse).
const NUMPY_VTL = String.raw`
import json, sys
import numpy as np
d = json.load(sys.stdin)
X = np.array(d['candidates'], dtype=np.float64)
q = np.array(d['query'], dtype=np.float64)[None, :]
E = np.concatenate([X, q])
if d['kernel'] == 'cosine':
    E = E / np.linalg.norm(E, axis=1, keepdims=True)
S = E @ E.T
n = X.shape[0]
lam = d['lambda']
picks, values = [], []
for _ in range(d['count']):
    post = S[n, n] - S[n, :n] ** 2 / (np.diag(S)[:n] + lam)   # compute_posterior_variance(target, data)
    vals = -post
    i = int(np.argmax(vals))
    picks.append(i); values.append(float(vals[i]))
    idx = [i]
    S = S - S[:, idx] @ np.linalg.inv(S[np.ix_(idx, idx)] + lam * np.eye(1)) @ S[idx, :]
alpha = d['alpha']
uncertainty = np.sqrt(-np.array(values))
stopped = uncertainty > 1 / (alpha * (np.arange(len(values)) + 1))
print(json.dumps({'picks': picks, 'variances': [-v for v in values], 'kept': [bool(not s) for s in stopped]}))
`;

for (const kernel of ['cosine', 'inner-product'] as const) {
  test(`VTL picks the same candidates with the same variances as a NumPy transcription of activeft (${kernel} kernel)`, () => {
    const candidates = vectors(40, 12, 3);
    const [query] = vectors(1, 12, 4);
    // Four near-copies of candidate 5, so that the greedy choice has redundancy to avoid.
    for (let c = 0; c < 4; c++) candidates.push(Float32Array.from(candidates[5]!, (x, i) => x + 1e-3 * ((i + c) % 3)));
    const lambda = kernel === 'cosine' ? 0.01 : 0.5;
    const alpha = kernel === 'cosine' ? 0.9 : 0.05;
    const reference = runPython<{ picks: number[]; variances: number[]; kept: boolean[] }>(NUMPY_VTL, {
      candidates: candidates.map((v) => [...v]), query: [...query!], kernel, lambda, count: 15, alpha,
    });
    const ours = vtlSelect(candidates, query!, 15, lambda, kernel);
    assert.deepEqual(ours.map((p) => p.index), reference.picks);
    ours.forEach((p, t) => assert.ok(Math.abs(p.variance - reference.variances[t]!) <= 1e-9 * Math.max(1, Math.abs(p.variance)), `variance ${t}: ${p.variance} vs ${reference.variances[t]}`));
    assert.deepEqual(adaptiveKeep(ours.map((p) => p.variance), alpha), reference.kept);
    // The variances never grow: each pick conditions on one more observation.
    ours.slice(1).forEach((p, t) => assert.ok(p.variance <= ours[t]!.variance + 1e-12));
  });
}

/** Candidates as retrieval returns them: nearest first, with texts and stored vectors. */
function asCandidates(vs: readonly Float32Array[], query: Float32Array, texts: readonly string[]): RetrievedNeighbor[] {
  const distance = (v: Float32Array): number => Math.sqrt(v.reduce((s, x, i) => s + (x - query[i]!) ** 2, 0));
  return vs.map((vector, id) => ({ id, vector, text: texts[id]!, distance: distance(vector) })).sort((a, b) => a.distance - b.distance);
}

test('with near-duplicate candidates, SIFT picks fewer duplicates than the k nearest; random picks distinct candidates', () => {
  // Eight topics; the query sits near topic 0, which has five near-identical copies.
  const d = 16;
  const topics = vectors(8, d, 11);
  const random = seededRandom(12);
  const jitter = (v: Float32Array, scale: number): Float32Array => Float32Array.from(v, (x) => x + scale * (random() - 0.5));
  const vs: Float32Array[] = [];
  const texts: string[] = [];
  for (let c = 0; c < 5; c++) {
    vs.push(jitter(topics[0]!, 0.01));
    texts.push('the same page, copied');
  }
  for (let t = 1; t < 8; t++) {
    for (let c = 0; c < 3; c++) {
      vs.push(jitter(Float32Array.from(topics[t]!, (x, i) => 0.6 * x + 0.4 * topics[0]![i]!), 0.8));
      texts.push(`topic ${t} document ${c}`);
    }
  }
  const query = jitter(topics[0]!, 0.3);
  const candidates = asCandidates(vs, query, texts);
  const settings = { count: 5, lambda: 0.01, kernel: 'cosine' as const };
  const copies = (picked: readonly RetrievedNeighbor[]): number => picked.filter((n) => n.text === 'the same page, copied').length;
  const knn = selectNeighbors(candidates, query, { ...settings, selection: 'knn' }, () => 0.5);
  const sift = selectNeighbors(candidates, query, { ...settings, selection: 'sift' }, () => 0.5);
  assert.equal(copies(knn.neighbors), 5, 'the five nearest are the five copies');
  assert.ok(copies(sift.neighbors) <= 2, `SIFT took ${copies(sift.neighbors)} of the copies: ${sift.neighbors.map((n) => n.text).join(' | ')}`);
  assert.equal(sift.neighbors.length, 5);
  assert.equal(sift.stop, 'count');
  const drawn = selectNeighbors(candidates, query, { ...settings, selection: 'random' }, seededRandom(7));
  assert.equal(new Set(drawn.neighbors.map((n) => n.id)).size, 5);
  // Adaptive SIFT with a strict alpha keeps fewer and says why.
  const adaptive = selectNeighbors(candidates, query, { ...settings, selection: 'sift', alpha: 50 }, () => 0.5);
  assert.ok(adaptive.neighbors.length < 5);
  assert.equal(adaptive.stop, 'alpha');
  // Fewer candidates than asked for.
  assert.equal(selectNeighbors(candidates.slice(0, 3), query, { ...settings, selection: 'random' }, seededRandom(1)).stop, 'candidates');
});

test('a budget stops test-time training within one training step, then scores once more', async () => {
  manualSeed(5);
  const model = Gpt2LMHeadModel.random({ model_type: 'gpt2', vocab_size: 300, n_positions: 64, n_embd: 64, n_layer: 2, n_head: 2, embd_pdrop: 0, attn_pdrop: 0, resid_pdrop: 0 });
  const snapshot = snapshotParameters(model.parameters.list());
  const optimizer = new AdamW(model.parameters.list(), { lr: 1e-3 });
  const random = seededRandom(9);
  const text = (): number[] => Array.from({ length: 200 }, () => Math.floor(random() * 300));
  const scored = text();
  const texts = Array.from({ length: 8 }, text); // 200 tokens, windows of 32 every 32: 7 steps per text
  const s = { maxLength: 32, stride: 32, scoreLength: 64, gradClip: 1, resetWeights: true, seed: 0 };
  try {
    await testTimeTrain(model, optimizer, snapshot, scored, 0, texts, s); // warm-up: first-call costs would inflate the step time below
    const free = await testTimeTrain(model, optimizer, snapshot, scored, 0, texts, s);
    assert.equal(free.budgetStop, false);
    assert.equal(free.loglikelihoods.length, 9);
    const stepSeconds = [...free.trainSeconds].sort((x, y) => x - y)[Math.floor(free.trainSeconds.length / 2)]! / 7; // the median text's, per step
    // A budget of the first score plus about two and a half texts' training.
    const budget = free.initialEvalSeconds + 2.5 * 7 * stepSeconds;
    const started = performance.now();
    const cut = await testTimeTrain(model, optimizer, snapshot, scored, 0, texts, s, () => false, started + budget * 1000);
    const elapsed = (performance.now() - started) / 1000;
    assert.equal(cut.budgetStop, true);
    assert.ok(cut.loglikelihoods.length < 9, `${cut.loglikelihoods.length - 1} texts trained`);
    assert.equal(cut.loglikelihoods.length, cut.trainLosses.length + 1, 'every trained text, the last one partly, is scored');
    const lastScore = cut.evalSeconds.at(-1) ?? 0;
    // No step started after the budget: the time spent before the final score exceeds it by less than one step.
    assert.ok(elapsed - lastScore <= budget + 2 * stepSeconds + 0.05, `elapsed ${elapsed.toFixed(3)} s (final score ${lastScore.toFixed(3)} s), budget ${budget.toFixed(3)} s, one step ${stepSeconds.toFixed(3)} s`);
    assert.ok(elapsed >= budget, 'training went on until the budget');
  } finally {
    disposeAll(snapshot);
    model.dispose();
  }
});
