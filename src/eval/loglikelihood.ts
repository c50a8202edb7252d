// Log-likelihood of a token sequence under a causal LM, scored in rolling
// windows (see rolling-windows.ts). Evaluation mode, no gradients.
import { inference, logSoftmax, tensor } from '../engine/index.js';
import type { CausalLM } from '../models/index.js';
import { rollingWindows, type ScoringWindow } from './rolling-windows.js';

/** Sum of log p(continuation | context) for one window. */
export function windowLoglikelihood(model: CausalLM, window: ScoringWindow): number {
  const device = model.parameters.device;
  const input = [...window.context, ...window.continuation].slice(0, -1);
  return inference(() => {
    const ids = tensor(input, { dtype: 'int64', shape: [1, input.length], device });
    const n = window.continuation.length;
    const logProbs = logSoftmax(model.logits(ids).narrow(1, input.length - n, n), -1); // [1, n, V]
    const targets = tensor(window.continuation, { dtype: 'int64', shape: [1, n, 1], device });
    return logProbs.gather(2, targets).sum().item();
  });
}

/**
 * The document's log-likelihood (natural log) with lm-evaluation-harness
 * rolling windows of `maxLength` (default: the model's context), the first
 * window conditioned on `prefixToken` (the end-of-text token).
 */
export function rollingLoglikelihood(model: CausalLM, tokens: readonly number[], prefixToken: number, maxLength = model.contextLength): number {
  if (maxLength > model.contextLength) {
    throw new RangeError(`max length ${maxLength} is longer than the model's context (${model.contextLength})`);
  }
  const wasTraining = model.training;
  model.training = false;
  try {
    let total = 0;
    for (const window of rollingWindows(tokens, prefixToken, maxLength)) total += windowLoglikelihood(model, window);
    return total;
  } finally {
    model.training = wasTraining;
  }
}
