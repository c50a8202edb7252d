// Does TTT-NN win? For each baseline, the difference between TTT-NN's
// relative change in pile_all bits per byte and the baseline's, on the
// documents both scored, with a paired bootstrap interval (each resample
// draws documents, and both methods are scored on the same draw). Relative
// changes, because dynamic evaluation scores only each document's second
// half (its own "before"); for the other methods, whose "before" is TTT-NN's,
// this is the difference of their "after" values.
// A baseline is beaten only when the whole 10%-90% interval says so.
import type { DocumentResult } from '../eval/results.js';
import { METHOD_REGISTRY, SUBJECT } from '../eval/methods/index.js';
import { resultsLabel } from '../eval/results-label.js';
import { bootstrapInterval, pileAllBits, type BootstrapOptions, type Estimate, type LoadedResults } from './aggregate.js';
import type { ReportSummary } from './summary.js';
import type { Table } from './tables.js';

export interface BaselineComparison {
  /** What TTT-NN is compared with, in words. */
  baseline: string;
  documents: number;
  /** Relative change of pile_all bits per byte (after / before - 1). */
  ttt: Estimate;
  other: Estimate;
  /** ttt - other: negative when TTT-NN lowers bits per byte more. */
  difference: Estimate;
  verdict: 'TTT-NN better' | 'TTT-NN worse' | 'no clear difference';
}

/** Each document's last curve point: after all its neighbours. */
const LAST = Number.MAX_SAFE_INTEGER;

interface Contender {
  baseline: string;
  method: string;
  stepOf: (task: string) => number;
}

/**
 * The baselines of the method registry, in its order, each compared after
 * all its neighbours; a baseline over alphas (interpolation) at the alpha
 * chosen on validation documents, when a validation run was given, and at
 * each task's best alpha on the test documents (the original's oracle).
 */
function contenders(summary: ReportSummary): Contender[] {
  const out: Contender[] = [];
  for (const method of METHOD_REGISTRY) {
    const verdict = method.report.verdict;
    if (verdict === 'subject') continue;
    if (method.report.kind !== 'alphas') {
      out.push({ baseline: verdict.baseline, method: method.name, stepOf: () => LAST });
      continue;
    }
    const choices = summary.methods.find((m) => m.method === method.name && m.run === summary.methods[0]?.run)?.interpolation;
    if (choices?.validation) {
      const step = choices.validation.step;
      out.push({ baseline: `${verdict.baseline}, alpha ${choices.validation.alpha} chosen on validation documents`, method: method.name, stepOf: () => step });
    }
    if (choices) {
      out.push({ baseline: `${verdict.baseline}, best alpha per task on the test documents (oracle)`, method: method.name, stepOf: (task) => choices.perTask[task]?.step ?? 0 });
    }
  }
  return out;
}

/** Two methods' relative changes on the documents both scored, and their difference, with paired bootstrap intervals. */
export interface PairedComparison {
  documents: number;
  /** Relative change of pile_all bits per byte (after / before - 1) of the first method, and of the second. */
  first: Estimate;
  second: Estimate;
  /** first - second: negative when the first lowers bits per byte more. */
  difference: Estimate;
}

/**
 * Pairs each document of `first` with the same document of `second` (by task
 * and doc_id) and compares their relative changes at `stepFirst` /
 * `stepSecond` (per task; LAST: each document's last point); undefined when
 * no document is in both.
 */
export function pairedComparison(
  first: Map<string, DocumentResult[]>,
  second: Map<string, DocumentResult[]>,
  weights: Record<string, number>,
  stepFirst: (task: string) => number,
  stepSecond: (task: string) => number,
  options: BootstrapOptions = {},
): PairedComparison | undefined {
  // Pairs of the same document, grouped by task; the bootstrap resamples pairs.
  const partner = new Map<DocumentResult, DocumentResult>();
  const paired = new Map<string, DocumentResult[]>();
  for (const [task, docs] of first) {
    const byId = new Map((second.get(task) ?? []).map((d) => [d.doc_id, d]));
    for (const d of docs) {
      const o = byId.get(d.doc_id);
      if (!o) continue;
      partner.set(d, o);
      (paired.get(task) ?? paired.set(task, []).get(task)!).push(d);
    }
  }
  const documents = [...paired.values()].reduce((n, d) => n + d.length, 0);
  if (documents === 0) return undefined;
  const change = (sample: Map<string, DocumentResult[]>, stepOf: (task: string) => number): number => pileAllBits(sample, weights, stepOf) / pileAllBits(sample, weights, () => 0) - 1;
  const partners = (sample: Map<string, DocumentResult[]>): Map<string, DocumentResult[]> => new Map([...sample].map(([t, docs]) => [t, docs.map((d) => partner.get(d)!)]));
  const firstChange = (s: Map<string, DocumentResult[]>): number => change(s, stepFirst);
  const secondChange = (s: Map<string, DocumentResult[]>): number => change(partners(s), stepSecond);
  const estimate = (statistic: (s: Map<string, DocumentResult[]>) => number): Estimate => {
    const [low, high] = bootstrapInterval(paired, statistic, options);
    return { value: statistic(paired), low, high };
  };
  return { documents, first: estimate(firstChange), second: estimate(secondChange), difference: estimate((s) => firstChange(s) - secondChange(s)) };
}

/** A difference (first - second) is "better" only when its whole 10%-90% interval is below zero. */
function sideOf(difference: Estimate): 'better' | 'worse' | 'no clear difference' {
  return difference.high < 0 ? 'better' : difference.low > 0 ? 'worse' : 'no clear difference';
}

/** TTT-NN against each baseline present in `loaded` (one run's results, filtered as the summary's). */
export function compareWithBaselines(loaded: LoadedResults, summary: ReportSummary, options: BootstrapOptions = {}): BaselineComparison[] {
  // The original's protocol of each method: its results directory is named after the method.
  const ttt = loaded.byMethod.get(SUBJECT.name);
  if (!ttt) return [];
  const out: BaselineComparison[] = [];
  for (const c of contenders(summary)) {
    const other = loaded.byMethod.get(c.method);
    if (!other) continue;
    const p = pairedComparison(ttt, other, summary.weights, () => LAST, c.stepOf, options);
    if (!p) continue;
    const side = sideOf(p.difference);
    out.push({
      baseline: c.baseline,
      documents: p.documents,
      ttt: p.first,
      other: p.second,
      difference: p.difference,
      verdict: side === 'no clear difference' ? side : `TTT-NN ${side}`,
    });
  }
  return out;
}

/** A selection (or a budgeted run) against the k nearest at the same budget: `ttt+sift` vs `ttt`, `ttt+sift@2s` vs `ttt@2s`. */
export interface SelectionComparison extends PairedComparison {
  variant: string;
  reference: string;
  verdict: 'better' | 'worse' | 'no clear difference';
}

/** Every `<method>+<selection>...` results directory against its method's k nearest with the same budget (from what their lines record), after all neighbours. */
export function compareSelections(loaded: LoadedResults, summary: ReportSummary, options: BootstrapOptions = {}): SelectionComparison[] {
  const out: SelectionComparison[] = [];
  for (const [variant, docs] of loaded.byMethod) {
    const made = loaded.configurations.get(variant);
    if (made?.selection === undefined) continue;
    const reference = resultsLabel({ method: made.method, selection: 'knn', siftAlpha: undefined, budgetSeconds: made.budgetSeconds });
    const knn = loaded.byMethod.get(reference);
    if (!knn) continue;
    const p = pairedComparison(docs, knn, summary.weights, () => LAST, () => LAST, options);
    if (!p) continue;
    out.push({ variant, reference, ...p, verdict: sideOf(p.difference) });
  }
  return out;
}

const percent = (x: number): string => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}%`;
const interval = (e: Estimate): string => `${percent(e.value)} [${percent(e.low)}, ${percent(e.high)}]`;

export function verdictTable(comparisons: readonly BaselineComparison[]): Table {
  return {
    title: 'Does TTT-NN win? (pile_all, paired)',
    note: `Relative change of bits per byte after all neighbours, TTT-NN and the baseline on the same documents; the difference with its 10%-90% paired bootstrap interval. TTT-NN is better only when the whole interval is below zero. ${verdictSentence(comparisons)}`,
    header: ['TTT-NN vs', 'documents', 'TTT-NN change', 'baseline change', 'difference (points)', 'verdict'],
    rows: comparisons.map((c) => [c.baseline, String(c.documents), percent(c.ttt.value), percent(c.other.value), interval(c.difference), c.verdict]),
  };
}

/** One plain sentence: where TTT-NN wins and where it does not. */
export function verdictSentence(comparisons: readonly BaselineComparison[]): string {
  if (comparisons.length === 0) return 'No TTT-NN results to compare.';
  const by = (v: BaselineComparison['verdict']): string[] => comparisons.filter((c) => c.verdict === v).map((c) => c.baseline);
  const parts: string[] = [];
  if (by('TTT-NN better').length) parts.push(`TTT-NN beats ${by('TTT-NN better').join('; ')}`);
  if (by('no clear difference').length) parts.push(`it is not clearly better than ${by('no clear difference').join('; ')}`);
  if (by('TTT-NN worse').length) parts.push(`it LOSES to ${by('TTT-NN worse').join('; ')}`);
  return `${parts.join('; ')}.`;
}

/** The selections against the k nearest, paired. */
export function selectionVerdictTable(comparisons: readonly SelectionComparison[]): Table | undefined {
  if (comparisons.length === 0) return undefined;
  return {
    title: 'Selection against the k nearest (pile_all, paired)',
    note:
      'Relative change of bits per byte after all neighbours, each selection and the k nearest (the same method and budget) on the same documents; the difference with its 10%-90% paired bootstrap interval. ' +
      'Without a budget this compares at equal neighbours; with the same --budget-seconds, at equal seconds.',
    header: ['variant', 'against', 'documents', 'variant\'s change', 'k nearest\'s change', 'difference [10%, 90%]', 'verdict'],
    rows: comparisons.map((c) => [c.variant, c.reference, String(c.documents), percent(c.first.value), percent(c.second.value), interval(c.difference), c.verdict]),
  };
}
