// The in-context baseline: the neighbours' tokens, concatenated (nearest
// last, next to the document), are put in front of the document's text;
// only the document's tokens are scored. To leave room for them, the
// document is scored in windows of half the maximum length, and each
// window's context is the neighbours followed by the window's usual context
// (end-of-text, or the document token before it), cut from the left so that
// everything fits the model. (The original computed the context length as
// max(room, len(neighbours)), which can overflow the model's context; here
// it never does.) With no neighbours this is the plain score with
// half-length windows, the point the curve starts from.
import type { CausalLM } from '../models/index.js';
import { windowLoglikelihood } from './loglikelihood.js';
import { rollingWindows } from './rolling-windows.js';

export function contextLoglikelihood(model: CausalLM, tokens: readonly number[], prefixToken: number, neighborTokens: readonly (readonly number[])[], maxLength: number): number {
  const neighbors = [...neighborTokens].reverse().flat(); // nearest neighbour last
  let total = 0;
  for (const window of rollingWindows(tokens, prefixToken, contextWindowLength(maxLength))) {
    // The model sees context + continuation minus its last token.
    const room = Math.min(model.contextLength, maxLength) + 1 - window.continuation.length;
    total += windowLoglikelihood(model, { context: [...neighbors, ...window.context].slice(-room), continuation: window.continuation });
  }
  return total;
}

/** The document's window length in the in-context baseline. */
export function contextWindowLength(maxLength: number): number {
  return Math.max(1, Math.floor(maxLength / 2));
}
