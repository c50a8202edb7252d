// The interpolation baseline (kNN-LM style): a unigram distribution of each
// neighbour's tokens, weighted by softmax(-distance), mixed with the model's
// next-token distribution: p = alpha * p_knn + (1 - alpha) * p_lm at every
// position. Every alpha in 0, 0.01, ..., 0.19 is recorded; reports pick the
// best one (an oracle choice, as in the original).
import { inference } from '../engine/index.js';
import { continuationLogProbs } from './loglikelihood.js';
import type { CausalLM } from '../models/index.js';
import { rollingWindows } from './rolling-windows.js';

export const ALPHAS = Array.from({ length: 20 }, (_, i) => Number((i * 0.01).toFixed(2)));

/** p_knn(token) for the tokens that occur in the neighbours. */
export function neighborUnigram(neighborTokens: readonly (readonly number[])[], distances: readonly number[]): Map<number, number> {
  const p = new Map<number, number>();
  if (neighborTokens.length === 0) return p;
  const max = distances.reduce((most, d) => Math.max(most, -d), -Infinity);
  const raw = distances.map((d) => Math.exp(-d - max));
  const sum = raw.reduce((a, b) => a + b, 0);
  neighborTokens.forEach((tokens, i) => {
    if (tokens.length === 0) return;
    const weight = (raw[i] as number) / sum / tokens.length;
    for (const t of tokens) p.set(t, (p.get(t) ?? 0) + weight);
  });
  return p;
}

/** Log-likelihood of `tokens` at each alpha of ALPHAS (rolling windows as the plain score). */
export function interpolationLoglikelihoods(model: CausalLM, tokens: readonly number[], prefixToken: number, knn: Map<number, number>, maxLength: number): number[] {
  const totals = ALPHAS.map(() => 0);
  for (const window of rollingWindows(tokens, prefixToken, maxLength)) {
    const lmLogProbs = inference(() => continuationLogProbs(model, window).toNumbers());
    window.continuation.forEach((token, j) => {
      const pLm = Math.exp(lmLogProbs[j] as number);
      const pKnn = knn.get(token) ?? 0;
      ALPHAS.forEach((alpha, a) => {
        // At alpha 0 this is exactly the model's log-probability.
        totals[a] = (totals[a] as number) + (alpha === 0 ? (lmLogProbs[j] as number) : Math.log(alpha * pKnn + (1 - alpha) * pLm));
      });
    });
  }
  return totals;
}
