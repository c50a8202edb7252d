// The in-context baseline (baseline_context.py with lm_eval/base.py): the
// neighbours' tokens in front of the document, only the document's tokens
// scored. `--context-mode single` is the original's (one window, [without,
// with neighbours]); `windows` is ours, a curve over 0..k
// (eval/context-loglikelihood.ts says how each works).
import { at, type ScoringMethod } from './method.js';

export const context: ScoringMethod<'context'> = {
  name: 'context',
  summary: 'neighbours in the context',
  trains: false,
  retrieval: 'nearest',
  defaults: {
    numNeighbors: at(20, 'baseline_context.py:161, condor/eval_baseline_context.sub:15'),
    distanceThreshold: at(2.3, 'baseline_context.py:38, applied to the plain L2 norm at :86'),
    splitText: at(false, 'baseline_context.py:144 (queries with the whole document)'),
  },
  report: { kind: 'context', order: 2, verdict: { baseline: 'in-context neighbours' }, pareto: true },
  async score({ settings: s, model, tokenizer, eos, split, neighbors }) {
    const { contextLoglikelihood, singleWindowContextLoglikelihood } = await import('../context-loglikelihood.js');
    const { rollingLoglikelihood } = await import('../loglikelihood.js');
    const neighborTokens = neighbors.map((n) => tokenizer.encode(n.text));
    if (s.contextMode === 'windows') {
      const loglikelihoods = Array.from({ length: neighborTokens.length + 1 }, (_, c) => contextLoglikelihood(model, split.scored, eos, neighborTokens.slice(0, c), s.scoreLength));
      return { loglikelihoods, context_neighbors: neighborTokens.length };
    }
    const plain = rollingLoglikelihood(model, split.scored, eos, s.scoreLength);
    const withContext = singleWindowContextLoglikelihood(model, split.scored, eos, neighborTokens, s.scoreLength, plain);
    return { loglikelihoods: [plain, withContext.loglikelihood], context_neighbors: withContext.neighbors };
  },
};
