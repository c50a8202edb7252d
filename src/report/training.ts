// Training loss and cost after each neighbour, as the original's
// process_results.py aggregates them: per task, for neighbour j, the mean over
// documents (ignoring NaN, np.nanmean, process_results.py:370-373) of each
// document's value for neighbour j; pile_all weights the tasks like bits per
// byte.
import type { DocumentResult } from '../eval/results.js';
import { weightedMean } from './aggregate.js';

/** numpy's nanmean: the mean of the finite values, NaN when there are none. */
export function nanmean(values: readonly number[]): number {
  let sum = 0;
  let n = 0;
  for (const v of values) {
    if (Number.isFinite(v)) {
      sum += v;
      n++;
    }
  }
  return n === 0 ? NaN : sum / n;
}

/**
 * A document's training loss for each of its training texts: the mean of the
 * text's window losses, as the original's tr_loss (eval_tttlm.py:250-252).
 * As there, a null window (no target, the original's NaN) makes the text's
 * loss NaN, which the mean over documents then skips; a text with no window
 * at all counts 0, as train_single returns (eval_tttlm.py:239-240).
 */
export function documentTrainingLosses(d: DocumentResult): number[] {
  return (d.train_losses ?? []).map((windows) => {
    if (windows.length === 0) return 0;
    return windows.reduce<number>((sum, w) => sum + (w ?? NaN), 0) / windows.length;
  });
}

/**
 * A document's seconds per training text: training plus the evaluation after
 * it, the original's cost, which stops its clock after evaluating
 * (eval_tttlm.py:296-301). Result lines written before eval_seconds existed
 * count their training seconds only.
 */
export function documentCosts(d: DocumentResult): number[] {
  return (d.train_seconds ?? []).map((train, j) => train + (d.eval_seconds?.[j] ?? 0));
}

/** Per step j, nanmean over the documents that have a value for j (all of them under --median-filter). */
export function meanCurve(perDocument: readonly (readonly number[])[]): number[] {
  const steps = perDocument.reduce((n, c) => Math.max(n, c.length), 0);
  return Array.from({ length: steps }, (_, j) => nanmean(perDocument.filter((c) => j < c.length).map((c) => c[j] as number)));
}

/** Mean training loss after neighbour 1..n over documents (process_results.py:370-371). */
export function trainingLossCurve(docs: readonly DocumentResult[]): number[] {
  return meanCurve(docs.map(documentTrainingLosses));
}

/** Mean seconds of neighbour 1..n over documents (process_results.py:372-373). */
export function costCurve(docs: readonly DocumentResult[]): number[] {
  return meanCurve(docs.map(documentCosts));
}

/**
 * pile_all of a per-task curve: at each step, the weighted mean of the tasks
 * that have a finite value there (a task whose documents all stopped earlier
 * is left out of that step rather than making it NaN).
 */
export function weightedCurve(curves: Map<string, readonly number[]>, weights: Record<string, number>): number[] {
  const steps = [...curves.values()].reduce((most, c) => Math.max(most, c.length), 0);
  return Array.from({ length: steps }, (_, j) => {
    const at = new Map<string, number>();
    for (const [task, c] of curves) {
      const v = c[j];
      if (v !== undefined && Number.isFinite(v)) at.set(task, v);
    }
    return weightedMean(at, weights);
  });
}
