// Log-likelihood of a token sequence under a causal LM, scored in rolling
// windows (see rolling-windows.ts). Evaluation mode, no gradients.
import { inference, logSoftmax, tensor, type Tensor } from '../engine/index.js';
import { checkTokenIds, fusedOutputLoss, fusedOutputLossApplies, outputLogits, type CausalLM } from '../models/index.js';
import { streamRollingWindows, type ScoringWindow } from './rolling-windows.js';

/**
 * log p(token | everything before it) for each continuation token of one
 * window: [1, n, 1]. Call inside inference(); the one forward pass that the
 * plain score and the interpolation baseline share.
 */
export function continuationLogProbs(model: CausalLM, window: ScoringWindow): Tensor {
  const device = model.parameters.device;
  const input = [...window.context, ...window.continuation].slice(0, -1);
  checkTokenIds(window.context, model, 'scoring');
  checkTokenIds(window.continuation, model, 'scoring');
  const ids = tensor(input, { dtype: 'int64', shape: [1, input.length], device });
  const n = window.continuation.length;
  const output = model.outputLayerInput(ids); // hidden [1, T, C]
  const hidden = output.hidden.narrow(1, input.length - n, n); // the continuation's positions only
  if (fusedOutputLossApplies(output)) {
    // log p = -(cross entropy), row by row, without the [n, V] log-softmax.
    const targets = tensor(window.continuation, { dtype: 'int64', shape: [n], device });
    return fusedOutputLoss(hidden.reshape([n, hidden.size(2)]), output.weight, targets, 'none').neg().view([1, n, 1]);
  }
  const logProbs = logSoftmax(outputLogits({ hidden, weight: output.weight }), -1); // [1, n, V]
  const targets = tensor(window.continuation, { dtype: 'int64', shape: [1, n, 1], device });
  return logProbs.gather(2, targets);
}

/** Sum of log p(continuation | context) for one window. */
export function windowLoglikelihood(model: CausalLM, window: ScoringWindow): number {
  return inference(() => continuationLogProbs(model, window).sum().item());
}

/**
 * The document's log-likelihood (natural log) with lm-evaluation-harness
 * rolling windows of `maxLength` (default: the model's context), the first
 * window conditioned on `prefixToken` (the end-of-text token).
 */
export function rollingLoglikelihood(model: CausalLM, tokens: readonly number[], prefixToken: number, maxLength = model.contextLength): number {
  return streamedRollingLoglikelihood(model, [tokens], prefixToken, maxLength).loglikelihood;
}

/**
 * rollingLoglikelihood over a document given as consecutive pieces of its
 * tokens (BpeTokenizer.encodePieces): each window is scored as soon as its
 * tokens have come, so a long text is never held as one token array.
 * Returns the log-likelihood and the number of tokens scored.
 */
export function streamedRollingLoglikelihood(model: CausalLM, pieces: Iterable<readonly number[]>, prefixToken: number, maxLength = model.contextLength): { loglikelihood: number; tokens: number } {
  if (maxLength > model.contextLength) {
    throw new RangeError(`max length ${maxLength} is longer than the model's context (${model.contextLength})`);
  }
  const wasTraining = model.training;
  model.training = false;
  try {
    let loglikelihood = 0;
    let tokens = 0;
    for (const window of streamRollingWindows(pieces, prefixToken, maxLength)) {
      loglikelihood += windowLoglikelihood(model, window);
      tokens += window.continuation.length;
    }
    return { loglikelihood, tokens };
  } finally {
    model.training = wasTraining;
  }
}
