// lm-evaluation-harness's rolling token windows (get_rolling_token_windows
// with context_len 1, then make_disjoint_window), for loglikelihood_rolling.
//
// Every token of the document is predicted exactly once. The first window
// predicts up to maxLength tokens after the prefix token (end-of-text). Each
// later window predicts the next up to maxLength tokens; a full window
// conditions on the one token before it, while the last, shorter window is
// moved back to fill maxLength inputs and so conditions on more history.
//
// A full window is the same whether or not more tokens follow, so windows
// can be cut from a stream of tokens as it comes (a document tokenized piece
// by piece, tokenizers/exact-cuts.ts), holding only the last maxLength + 1
// tokens and those not yet predicted.

export interface ScoringWindow {
  /** Tokens before the first predicted one (at least one). */
  context: number[];
  /** Tokens whose log-probabilities are summed. */
  continuation: number[];
}

function checkMaxLength(maxLength: number): void {
  if (!Number.isInteger(maxLength) || maxLength < 1) throw new RangeError(`maxLength must be a positive integer, got ${maxLength}`);
}

/** The windows of a stream of token pieces, each window as soon as the tokens it needs have come. */
export function* streamRollingWindows(pieces: Iterable<readonly number[]>, prefixToken: number, maxLength: number): Generator<ScoringWindow> {
  checkMaxLength(maxLength);
  let held: number[] = []; // tokens [base, base + held.length) of the document
  let base = 0;
  let predicted = 0; // tokens predicted by the windows yielded so far
  const slice = (from: number, to: number): number[] => held.slice(from - base, to - base);
  const windowEndingAt = (end: number): ScoringWindow =>
    predicted === 0 ? { context: [prefixToken], continuation: slice(0, end) } : { context: slice(end - maxLength - 1, predicted), continuation: slice(predicted, end) };
  for (const piece of pieces) {
    for (const id of piece) held.push(id);
    while (base + held.length - predicted >= maxLength) {
      yield windowEndingAt(predicted + maxLength);
      predicted += maxLength;
    }
    // The next window's context starts no earlier than predicted - maxLength - 1 (its end is past predicted).
    const keepFrom = Math.max(0, predicted - maxLength - 1);
    if (keepFrom - base > Math.max(held.length / 2, 4096)) {
      held = held.slice(keepFrom - base);
      base = keepFrom;
    }
  }
  const total = base + held.length;
  if (predicted < total) yield windowEndingAt(total);
}

export function rollingWindows(tokens: readonly number[], prefixToken: number, maxLength: number): ScoringWindow[] {
  return [...streamRollingWindows([tokens], prefixToken, maxLength)];
}
