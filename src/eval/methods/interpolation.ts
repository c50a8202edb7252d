// The interpolation baseline (baseline_interpolation.py, kNN-LM style): the
// model's next-token distribution mixed with the neighbours' unigram
// distribution at each alpha of 0, 0.01, ..., 0.19
// (eval/interpolated-loglikelihood.ts); the report chooses the alpha.
import { at, type ScoringMethod } from './method.js';

export const interpolation: ScoringMethod<'interpolation'> = {
  name: 'interpolation',
  summary: "mix with the neighbours' unigram distribution",
  trains: false,
  retrieval: 'nearest',
  defaults: {
    numNeighbors: at(20, 'baseline_interpolation.py:167, condor/eval_baseline_interpolation.sub:15'),
    distanceThreshold: at(Infinity, 'baseline_interpolation.py:92-94 (the filter is commented out)'),
    splitText: at(false, 'baseline_interpolation.py:150'),
  },
  report: { kind: 'alphas', order: 3, verdict: { baseline: 'interpolation' }, pareto: true },
  async score({ settings: s, model, tokenizer, eos, split, neighbors }) {
    const { ALPHAS, interpolationLoglikelihoods, neighborUnigram } = await import('../interpolated-loglikelihood.js');
    const knn = neighborUnigram(neighbors.map((n) => tokenizer.encode(n.text)), neighbors.map((n) => n.distance));
    return { alphas: ALPHAS, alpha_loglikelihoods: interpolationLoglikelihoods(model, split.scored, eos, knn, s.scoreLength) };
  },
};
