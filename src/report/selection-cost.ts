// What a method spends per document and what its neighbours look like:
// the seconds to reach each point of its curve (for bits per byte vs
// seconds, and the Pareto frontier across methods), and the redundancy and
// stopping of the neighbours it used (informative selection, budgets).
import type { DocumentResult } from '../eval/results.js';
import type { EvalMethod } from '../eval/methods/index.js';

/**
 * Seconds a document took to reach curve point j (j neighbours): retrieval,
 * selection, training on the first j texts, and one scoring of the model
 * then (the score before training for j = 0, the one after text j
 * otherwise). The curve's other scorings are measurement, not cost. A
 * document with a shorter curve keeps its last point, as in the bits per
 * byte it contributes (aggregate.ts). Undefined for lines without timings
 * (methods that do not train, results from before timings existed).
 */
export function secondsToPoint(d: DocumentResult, j: number): number | undefined {
  if (d.train_seconds === undefined || d.score_seconds_before === undefined) return undefined;
  const n = Math.min(j, d.train_seconds.length);
  let seconds = d.retrieval_seconds + (d.selection_seconds ?? 0);
  for (let i = 0; i < n; i++) seconds += d.train_seconds[i]!;
  return seconds + (n === 0 ? d.score_seconds_before : (d.eval_seconds?.[n - 1] ?? 0));
}

/** Mean seconds per document to reach each of `steps` curve points; empty when the lines have no timings. */
export function secondsCurve(docs: readonly DocumentResult[], steps: number): number[] {
  const timed = docs.filter((d) => secondsToPoint(d, 0) !== undefined);
  if (timed.length === 0) return [];
  return Array.from({ length: steps }, (_, j) => timed.reduce((s, d) => s + secondsToPoint(d, j)!, 0) / timed.length);
}

/** How a method chose and used its neighbours, averaged per document. */
export interface SelectionSummary {
  /** sift / random, or knn when the lines carry no selection (the random-documents control: `random documents`; dynamic evaluation: `none`). */
  selection: string;
  documents: number;
  /** Neighbours trained on (training methods) or used (the others). */
  neighbours: number;
  /** Candidates selected from (sift / random). */
  candidates?: number;
  selectionSeconds?: number;
  /** Mean L2 distance between two of a document's neighbours (documents with two or more). */
  meanPairwiseDistance?: number;
  /** Pairs of a document's neighbours with the same text (a repeated pick included). */
  duplicatePairs?: number;
  /** Documents by why selection stopped (count, alpha, candidates), and how many a budget cut short. */
  stops: Record<string, number>;
  budgetStops: number;
  /** Mean seconds per document, everything the line records (the curve's every scoring included). */
  secondsPerDocument?: number;
}

const mean = (values: readonly number[]): number | undefined => (values.length === 0 ? undefined : values.reduce((s, v) => s + v, 0) / values.length);

export function selectionSummary(method: EvalMethod | undefined, docs: readonly DocumentResult[]): SelectionSummary {
  const stops: Record<string, number> = {};
  for (const d of docs) if (d.selection_stop) stops[d.selection_stop] = (stops[d.selection_stop] ?? 0) + 1;
  const total = (d: DocumentResult): number | undefined =>
    d.train_seconds === undefined ? undefined : d.retrieval_seconds + (d.selection_seconds ?? 0) + (d.score_seconds_before ?? 0) + [...d.train_seconds, ...(d.eval_seconds ?? [])].reduce((s, v) => s + v, 0);
  const defined = (values: (number | undefined)[]): number[] => values.filter((v): v is number => v !== undefined);
  return {
    selection: docs.find((d) => d.selection)?.selection ?? (method?.retrieval === 'random-documents' ? 'random documents' : method?.retrieval === 'none' ? 'none' : 'knn'),
    documents: docs.length,
    // Training methods: the neighbours trained on (a budget may stop before the last ones); others: those used.
    neighbours: mean(docs.map((d) => d.train_seconds?.length ?? d.neighbor_ids.length)) ?? 0,
    candidates: mean(defined(docs.map((d) => d.candidate_count))),
    selectionSeconds: mean(defined(docs.map((d) => d.selection_seconds))),
    meanPairwiseDistance: mean(defined(docs.map((d) => d.neighbor_mean_pairwise_distance))),
    duplicatePairs: mean(defined(docs.map((d) => d.duplicate_neighbor_pairs))),
    stops,
    budgetStops: docs.filter((d) => d.budget_stop).length,
    secondsPerDocument: mean(defined(docs.map(total))),
  };
}

/** A point of a method's bits-per-byte-vs-seconds curve. */
export interface CostPoint {
  label: string;
  neighbours: number;
  seconds: number;
  bitsPerByte: number;
}

/**
 * The points no other point beats: none reaches lower bits per byte in at
 * most as many seconds. Sorted by seconds.
 */
export function paretoFrontier(points: readonly CostPoint[]): CostPoint[] {
  const finite = points.filter((p) => Number.isFinite(p.seconds) && Number.isFinite(p.bitsPerByte));
  const sorted = [...finite].sort((a, b) => a.seconds - b.seconds || a.bitsPerByte - b.bitsPerByte);
  const frontier: CostPoint[] = [];
  for (const p of sorted) if (frontier.length === 0 || p.bitsPerByte < frontier[frontier.length - 1]!.bitsPerByte) frontier.push(p);
  return frontier;
}

/**
 * Every (method, neighbours) point: its mean seconds per document and
 * pile_all bits per byte. Methods whose report says `pareto: false` are left
 * out: dynamic evaluation scores each document's second half only, so its
 * bits per byte are not of the same text.
 */
export function costPoints(summary: { methods: readonly { label: string; declared: EvalMethod | undefined; secondsCurve: readonly number[]; pileAll: { curve: readonly { bits_per_byte: number }[] } }[] }): CostPoint[] {
  return summary.methods.filter((m) => m.declared?.report.pareto !== false).flatMap((m) => m.secondsCurve.map((seconds, k) => ({ label: m.label, neighbours: k, seconds, bitsPerByte: m.pileAll.curve[k]?.bits_per_byte ?? NaN })));
}
