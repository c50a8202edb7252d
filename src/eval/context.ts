// The in-context baseline: the neighbours' tokens, concatenated (nearest
// last, next to the document), become the context of the document's first
// window instead of the lone end-of-text token; only the document's tokens
// are scored. The context is cut from the left so that context plus window
// fits the model. (The original computed the context length as
// max(room, len(neighbours)), which can overflow the model's context; here
// it never does.) With no neighbours this is exactly the plain score.
import type { CausalLM } from '../models/index.js';
import { windowLoglikelihood } from './loglikelihood.js';
import { rollingWindows } from './rolling-windows.js';

export function contextLoglikelihood(model: CausalLM, tokens: readonly number[], prefixToken: number, neighborTokens: readonly (readonly number[])[], maxLength: number): number {
  const windows = rollingWindows(tokens, prefixToken, maxLength);
  if (windows.length === 0) return 0;
  const first = windows[0]!;
  // Input = context + continuation minus its last token; it must fit maxLength... and the model.
  const room = Math.max(1, Math.min(model.contextLength, maxLength + 1) - first.continuation.length);
  const neighbors = [...neighborTokens].reverse().flat(); // nearest neighbour last
  first.context = [...neighbors, prefixToken].slice(-room);
  let total = 0;
  for (const window of windows) total += windowLoglikelihood(model, window);
  return total;
}
