// The in-context baseline: neighbours' tokens put in front of the document,
// only the document's tokens scored. Two modes.
//
// single (the original, lm_eval/base.py:187-234 with baseline_context.py):
// only a document that fits ONE scoring window gets neighbours; a longer one
// is scored without (the code prints "MULTIPLE"). The neighbours' tokens are
// concatenated nearest first with no separator and replace the end-of-text
// prefix; since context_len = max(room, len(neighbours)) keeps the whole
// concatenation, the harness's left truncation ((context + continuation)
// [-(max_length + 1):][:-1], base.py:280-283) leaves the model the TAIL of
// it: the farthest neighbours' text, next to the document.
//
// windows (ours, --context-mode windows): the document is scored in windows
// of half the maximum length, and each window's context is the neighbours
// (nearest last, next to the document) followed by the window's usual
// context, cut from the left to fit; a curve over 0..k neighbours.
import type { CausalLM } from '../models/index.js';
import { windowLoglikelihood } from './loglikelihood.js';
import { rollingWindows } from './rolling-windows.js';

export interface SingleWindowContext {
  /** Log-likelihood of the document with the neighbours in its context. */
  loglikelihood: number;
  /** Neighbours whose tokens were put in the context (0: the document needed more than one window, or none was kept). */
  neighbors: number;
}

/** The original's in-context score (mode single); `plain` is the document's score without neighbours. */
export function singleWindowContextLoglikelihood(model: CausalLM, tokens: readonly number[], prefixToken: number, neighborTokens: readonly (readonly number[])[], scoreLength: number, plain: number): SingleWindowContext {
  const windows = rollingWindows(tokens, prefixToken, scoreLength);
  const neighbors = neighborTokens.flat(); // nearest first
  if (windows.length !== 1 || neighbors.length === 0) return { loglikelihood: plain, neighbors: 0 };
  const continuation = windows[0]!.continuation;
  // What survives the left truncation: scoreLength + 1 tokens of context + continuation, minus the last.
  const room = scoreLength + 1 - continuation.length;
  return { loglikelihood: windowLoglikelihood(model, { context: neighbors.slice(-room), continuation }), neighbors: neighborTokens.length };
}

/** Our variant (mode windows): the score with the first `neighborTokens.length` neighbours in every half-length window's context. */
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

/** The document's window length in the windows variant. */
export function contextWindowLength(maxLength: number): number {
  return Math.max(1, Math.floor(maxLength / 2));
}
