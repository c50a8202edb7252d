// Dynamic evaluation (eval_tttlm.py:202-203 with condor/eval_dynamic_eval.sub):
// no retrieval; the "neighbours" are num_neighbors copies of the query text,
// tokenized again (:229). With split text (the paper's run) the model trains
// on the first half of the document and is scored on the second.
import { at, type TrainingMethod } from './method.js';

export const dynamic: TrainingMethod<'dynamic'> = {
  name: 'dynamic',
  summary: 'train on the first half of the document, score the second',
  trains: true,
  retrieval: 'none',
  defaults: {
    numNeighbors: at(20, 'condor/eval_dynamic_eval.sub:16 (--num_neighbors 20)'),
    distanceThreshold: at(Infinity, 'no retrieval (eval_tttlm.py:202-203)'),
    splitText: at(true, 'condor/eval_dynamic_eval.sub:15 (--split_text)'),
  },
  // Scores only the second half of each document: its seconds are not comparable in the Pareto.
  report: { kind: 'neighbours', order: 4, verdict: { baseline: 'dynamic evaluation (second half after training on the first)' }, pareto: false },
  async score(input) {
    const { trainAndScore } = await import('../ttt.js');
    return trainAndScore(input, Array.from({ length: input.settings.numNeighbors }, () => input.split.queryText));
  },
};
