// The original's median-length filter (process_results.py:345-346), on by
// default in the report: per method and task, documents whose curve length
// differs from int(np.median(lengths)) are dropped. In the original this
// removed the documents with fewer neighbours under the distance threshold
// (and the failed retrievals, whose curve had one point). --no-median-filter
// keeps those documents, a shorter curve keeping its last value.
import type { DocumentResult } from '../eval/results.js';
import { curveOf } from './aggregate.js';

/** int(np.median(lengths)): numpy averages the middle two of an even count, int() truncates. */
export function medianLength(lengths: readonly number[]): number {
  if (lengths.length === 0) return 0;
  const sorted = [...lengths].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  return Math.trunc(median);
}

export interface MedianFiltered {
  kept: DocumentResult[];
  dropped: number;
  /** The curve length kept. */
  length: number;
}

/**
 * Keeps the documents whose curve has the median length. As the original,
 * the median also counts the task's failed retrievals, whose curve had one
 * point there (`failed`); they are already out of the aggregates here.
 */
export function medianFilter(docs: readonly DocumentResult[], failed = 0): MedianFiltered {
  const length = medianLength([...docs.map((d) => curveOf(d).length), ...Array.from({ length: failed }, () => 1)]);
  const kept = docs.filter((d) => curveOf(d).length === length);
  return { kept, dropped: docs.length - kept.length, length };
}
