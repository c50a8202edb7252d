// lm-evaluation-harness's rolling token windows (get_rolling_token_windows
// with context_len 1, then make_disjoint_window), for loglikelihood_rolling.
//
// Every token of the document is predicted exactly once. The first window
// predicts up to maxLength tokens after the prefix token (end-of-text). Each
// later window predicts the next up to maxLength tokens; a full window
// conditions on the one token before it, while the last, shorter window is
// moved back to fill maxLength inputs and so conditions on more history.

export interface ScoringWindow {
  /** Tokens before the first predicted one (at least one). */
  context: number[];
  /** Tokens whose log-probabilities are summed. */
  continuation: number[];
}

export function rollingWindows(tokens: readonly number[], prefixToken: number, maxLength: number): ScoringWindow[] {
  if (!Number.isInteger(maxLength) || maxLength < 1) throw new RangeError(`maxLength must be a positive integer, got ${maxLength}`);
  const windows: ScoringWindow[] = [];
  if (tokens.length === 0) return windows;
  const firstLength = Math.min(maxLength, tokens.length);
  windows.push({ context: [prefixToken], continuation: tokens.slice(0, firstLength) });
  let predicted = firstLength;
  while (predicted < tokens.length) {
    const predictLength = Math.min(tokens.length - predicted, maxLength);
    const end = predicted + predictLength;
    // input window tokens[end - maxLength - 1, end - 1), minus the predicted overlap
    windows.push({ context: tokens.slice(end - maxLength - 1, predicted), continuation: tokens.slice(predicted, end) });
    predicted = end;
  }
  return windows;
}
