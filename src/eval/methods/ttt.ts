// TTT-NN (eval_tttlm.py): fine-tune on each retrieved neighbour, nearest
// first, one AdamW step per training window, and score the document after
// every neighbour (eval/ttt.ts).
import { at, type TrainingMethod } from './method.js';

export const ttt: TrainingMethod<'ttt'> = {
  name: 'ttt',
  summary: 'train on each neighbour',
  trains: true,
  retrieval: 'nearest',
  defaults: {
    numNeighbors: at(50, 'eval_tttlm.py:42'),
    distanceThreshold: at(4.0, 'eval_tttlm.py:48, applied to the plain L2 norm at :183'),
    splitText: at(false, 'eval_tttlm.py:51'),
  },
  report: { kind: 'neighbours', order: 0, verdict: 'subject', pareto: true },
  async score(input) {
    const { trainAndScore } = await import('../ttt.js');
    return trainAndScore(input, input.neighbors.map((n) => n.text));
  },
};
