// The random-documents control (ours, not in the original): TTT on k
// documents drawn uniformly from the index instead of the nearest ones, so
// that a gain of TTT-NN over it is a gain of the neighbours, not of training.
import { at, type TrainingMethod } from './method.js';

export const random: TrainingMethod<'random'> = {
  name: 'random',
  summary: 'train on random documents of the index (a control)',
  trains: true,
  retrieval: 'random-documents',
  defaults: {
    numNeighbors: at(50, 'as ttt (eval_tttlm.py:42); a control of ours, not in the original'),
    distanceThreshold: at(Infinity, 'random documents are not filtered by distance'),
    splitText: at(false, 'as ttt (eval_tttlm.py:51)'),
  },
  report: { kind: 'neighbours', order: 1, verdict: { baseline: 'TTT on random documents (control)' }, pareto: true },
  async score(input) {
    const { trainAndScore } = await import('../ttt.js');
    return trainAndScore(input, input.neighbors.map((n) => n.text));
  },
};
