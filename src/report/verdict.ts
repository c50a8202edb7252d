// Does TTT-NN win? For each baseline, the difference between TTT-NN's
// relative change in pile_all bits per byte and the baseline's, on the
// documents both scored, with a paired bootstrap interval (each resample
// draws documents, and both methods are scored on the same draw). Relative
// changes, because dynamic evaluation scores only each document's second
// half (its own "before"); for the other methods, whose "before" is TTT-NN's,
// this is the difference of their "after" values.
// A baseline is beaten only when the whole 10%-90% interval says so.
import type { DocumentResult } from '../eval/results.js';
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

function contenders(summary: ReportSummary): Contender[] {
  const out: Contender[] = [{ baseline: 'TTT on random documents (control)', method: 'random', stepOf: () => LAST }];
  out.push({ baseline: 'in-context neighbours', method: 'context', stepOf: () => LAST });
  const interpolation = summary.methods.find((m) => m.method === 'interpolation' && m.run === summary.methods[0]?.run)?.interpolation;
  if (interpolation?.validation) {
    const step = interpolation.validation.step;
    out.push({ baseline: `interpolation, alpha ${interpolation.validation.alpha} chosen on validation documents`, method: 'interpolation', stepOf: () => step });
  }
  if (interpolation) {
    out.push({ baseline: 'interpolation, best alpha per task on the test documents (oracle)', method: 'interpolation', stepOf: (task) => interpolation.perTask[task]?.step ?? 0 });
  }
  out.push({ baseline: 'dynamic evaluation (second half after training on the first)', method: 'dynamic', stepOf: () => LAST });
  return out;
}

/** TTT-NN against each baseline present in `loaded` (one run's results, filtered as the summary's). */
export function compareWithBaselines(loaded: LoadedResults, summary: ReportSummary, options: BootstrapOptions = {}): BaselineComparison[] {
  const ttt = loaded.byMethod.get('ttt');
  if (!ttt) return [];
  const weights = summary.weights;
  const out: BaselineComparison[] = [];
  for (const c of contenders(summary)) {
    const other = loaded.byMethod.get(c.method);
    if (!other) continue;
    // Pairs of the same document, grouped by task; the bootstrap resamples pairs.
    const partner = new Map<DocumentResult, DocumentResult>();
    const paired = new Map<string, DocumentResult[]>();
    for (const [task, docs] of ttt) {
      const byId = new Map((other.get(task) ?? []).map((d) => [d.doc_id, d]));
      for (const d of docs) {
        const o = byId.get(d.doc_id);
        if (!o) continue;
        partner.set(d, o);
        (paired.get(task) ?? paired.set(task, []).get(task)!).push(d);
      }
    }
    const documents = [...paired.values()].reduce((n, d) => n + d.length, 0);
    if (documents === 0) continue;
    const change = (sample: Map<string, DocumentResult[]>, stepOf: (task: string) => number): number => pileAllBits(sample, weights, stepOf) / pileAllBits(sample, weights, () => 0) - 1;
    const partners = (sample: Map<string, DocumentResult[]>): Map<string, DocumentResult[]> => new Map([...sample].map(([t, docs]) => [t, docs.map((d) => partner.get(d)!)]));
    const tttChange = (s: Map<string, DocumentResult[]>): number => change(s, () => LAST);
    const otherChange = (s: Map<string, DocumentResult[]>): number => change(partners(s), c.stepOf);
    const estimate = (statistic: (s: Map<string, DocumentResult[]>) => number): Estimate => {
      const [low, high] = bootstrapInterval(paired, statistic, options);
      return { value: statistic(paired), low, high };
    };
    const difference = estimate((s) => tttChange(s) - otherChange(s));
    out.push({
      baseline: c.baseline,
      documents,
      ttt: estimate(tttChange),
      other: estimate(otherChange),
      difference,
      verdict: difference.high < 0 ? 'TTT-NN better' : difference.low > 0 ? 'TTT-NN worse' : 'no clear difference',
    });
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
