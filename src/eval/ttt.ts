// Test-time training on nearest neighbours, per document (eval_tttlm.py):
// evaluate; then for each neighbour, one AdamW step (gradient norm clipped
// to 1.0) per window of maxLength tokens every `stride` tokens of the
// neighbour's text, and evaluate again; finally restore the weights (and,
// unless told otherwise, the optimizer's moments: the original never reset
// them between documents, so one document's training leaked into the next).
// Dynamic evaluation is the same loop with the query text itself, repeated,
// in place of the neighbours.
import { clipGradNorm, manualSeed, restoreParameters, tensor, tidy, type AdamW, type Tensor } from '../engine/index.js';
import { causalLmLoss, type CausalLM } from '../models/index.js';
import { rollingLoglikelihood } from './loglikelihood.js';

export interface TttSettings {
  maxLength: number;
  stride: number;
  gradClip: number;
  /** Restore the weights after each document (the original's --reset_weights, default on). */
  resetWeights: boolean;
  /** Reset AdamW's moments after each document (default on; the original did not). */
  resetOptimizer: boolean;
  seed: number;
}

export interface TttCurve {
  /** Log-likelihood of the scored tokens after 0..n training texts. */
  loglikelihoods: number[];
  trainLosses: number[][];
  trainSeconds: number[];
}

/** One optimizer step per window of `text` tokens; returns the window losses. */
export function trainOnTokens(model: CausalLM, optimizer: AdamW, tokens: readonly number[], s: TttSettings): number[] {
  const losses: number[] = [];
  model.training = true;
  const device = model.parameters.device;
  for (let start = 0; start < tokens.length; start += s.stride) {
    const window = tokens.slice(start, start + s.maxLength);
    if (window.length < 2) break;
    losses.push(
      tidy(() => {
        optimizer.zeroGrad();
        const ids: Tensor = tensor(window, { dtype: 'int64', shape: [1, window.length], device });
        const loss = causalLmLoss(model, ids);
        loss.backward();
        clipGradNorm(model.parameters.list(), s.gradClip);
        optimizer.step();
        return loss.item();
      }),
    );
  }
  model.training = false;
  return losses;
}

/**
 * Scores `scored` before training and after training on each of `trainTexts`
 * (token lists), then restores the model from `snapshot`.
 */
export function testTimeTrain(
  model: CausalLM,
  optimizer: AdamW,
  snapshot: readonly Tensor[],
  scored: readonly number[],
  prefixToken: number,
  trainTexts: readonly (readonly number[])[],
  s: TttSettings,
): TttCurve {
  const curve: TttCurve = { loglikelihoods: [], trainLosses: [], trainSeconds: [] };
  const score = (): number => rollingLoglikelihood(model, scored, prefixToken, s.maxLength);
  try {
    manualSeed(s.seed); // dropout during the training steps
    curve.loglikelihoods.push(score());
    for (const tokens of trainTexts) {
      const start = performance.now();
      curve.trainLosses.push(trainOnTokens(model, optimizer, tokens, s));
      curve.trainSeconds.push((performance.now() - start) / 1000);
      curve.loglikelihoods.push(score());
    }
  } finally {
    if (s.resetWeights) restoreParameters(model.parameters.list(), snapshot);
    optimizer.zeroGrad();
    if (s.resetOptimizer) optimizer.reset();
    model.training = false;
  }
  return curve;
}
