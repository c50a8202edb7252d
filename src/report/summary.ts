// The report's numbers, computed once from loaded result files and then
// rendered as tables, plots, HTML and Markdown: per run, method and task the
// metrics after 0..k neighbours with 10-90% bootstrap intervals before and
// after, pile_all (weighted by task), training cost and retrieval time.
import type { PerplexityMetrics } from '../eval/metrics.js';
import type { DocumentResult } from '../eval/results.js';
import { bootstrapInterval, curveLength, loglikelihoodAt, metricsCurve, weightedMean, type BootstrapOptions, type LoadedResults } from './aggregate.js';

/** A value with its 10%-90% bootstrap interval. */
export interface Estimate {
  value: number;
  low: number;
  high: number;
}

export interface TaskSummary {
  task: string;
  weight: number;
  documents: number;
  bytes: number;
  /** Metrics after 0..k neighbours (interpolation: at each alpha). */
  curve: PerplexityMetrics[];
  /** Bits per byte with no neighbour, and after the last one (interpolation: at the run's best alpha). */
  before: Estimate;
  after: Estimate;
  /** Per document: mean training seconds per neighbour (TTT and dynamic evaluation). */
  trainSecondsPerNeighbor: number[];
  /** Per document: seconds spent retrieving its neighbours. */
  retrievalSeconds: number[];
  /** Every neighbour's distance to its query. */
  distances: number[];
}

export interface MethodSummary {
  /** `method`, or `run/method` when several runs are compared. */
  label: string;
  run: string;
  method: string;
  /** Interpolation: the alphas of the curve points; others: undefined (points are 0..k neighbours). */
  alphas?: number[];
  /** Interpolation: the alpha with the lowest pile_all bits per byte (an oracle choice, as the original). */
  bestAlpha?: number;
  /** Index into the curve that "after" reports. */
  afterStep: number;
  tasks: TaskSummary[];
  pileAll: { curve: PerplexityMetrics[]; before: Estimate; after: Estimate };
  documents: number;
}

export interface RunInput {
  label: string;
  loaded: LoadedResults;
}

export interface ReportSummary {
  methods: MethodSummary[];
  weights: Record<string, number>;
  /** Per run: documents used and result lines skipped. */
  runs: { label: string; dir: string; documents: number; skippedLines: number; duplicateLines: number; warnings: string[] }[];
  bootstrap: Required<BootstrapOptions>;
}

const BITS = (m: PerplexityMetrics | undefined): number => m?.bits_per_byte ?? NaN;

/** pile_all of every metric at each step: the weighted mean of the tasks' values. */
function pileAllCurve(byTask: Map<string, DocumentResult[]>, weights: Record<string, number>, steps: number): PerplexityMetrics[] {
  const curves = new Map([...byTask].map(([task, docs]) => [task, metricsCurve(docs, steps)]));
  return Array.from({ length: steps }, (_, i) => {
    const of = (key: keyof PerplexityMetrics): number => weightedMean(new Map([...curves].map(([t, c]) => [t, (c[i] as PerplexityMetrics)[key]])), weights);
    return { bits_per_byte: of('bits_per_byte'), byte_perplexity: of('byte_perplexity'), word_perplexity: of('word_perplexity') };
  });
}

/** Bits per byte of `docs` at one step (the bootstrap's inner loop: O(documents)). */
function bitsAt(docs: readonly DocumentResult[], step: number): number {
  return -loglikelihoodAt(docs, step) / docs.reduce((s, d) => s + d.bytes, 0) / Math.LN2;
}

/** Bits per byte of pile_all at one step. */
function pileAllBits(byTask: Map<string, DocumentResult[]>, weights: Record<string, number>, step: number): number {
  return weightedMean(new Map([...byTask].map(([task, docs]) => [task, bitsAt(docs, step)])), weights);
}

function mean(values: readonly number[]): number {
  return values.length === 0 ? NaN : values.reduce((s, v) => s + v, 0) / values.length;
}

function summarizeMethod(run: string, label: string, method: string, byTask: Map<string, DocumentResult[]>, weights: Record<string, number>, bootstrap: Required<BootstrapOptions>): MethodSummary {
  const steps = Math.max(0, ...[...byTask.values()].map(curveLength));
  const pileCurve = pileAllCurve(byTask, weights, steps);
  const first = [...byTask.values()][0]?.[0];
  const alphas = first?.alpha_loglikelihoods ? first.alphas : undefined;
  // Interpolation reports its best alpha; the other methods their last neighbour.
  const afterStep = alphas ? pileCurve.reduce((best, m, i) => (m.bits_per_byte < BITS(pileCurve[best]) ? i : best), 0) : Math.max(0, steps - 1);
  const estimate = (docs: Map<string, DocumentResult[]>, step: number, value: number): Estimate => {
    const [low, high] = bootstrapInterval(docs, (sample) => pileAllBits(sample, weights, step), bootstrap);
    return { value, low, high };
  };
  const tasks = [...byTask].map(([task, docs]): TaskSummary => {
    const curve = metricsCurve(docs, steps);
    const one = new Map([[task, docs]]);
    const unit = { [task]: 1 };
    const interval = (step: number): Estimate => {
      const [low, high] = bootstrapInterval(one, (sample) => pileAllBits(sample, unit, step), bootstrap);
      return { value: BITS(curve[step]), low, high };
    };
    return {
      task,
      weight: weights[task] ?? 0,
      documents: docs.length,
      bytes: docs.reduce((s, d) => s + d.bytes, 0),
      curve,
      before: interval(0),
      after: interval(afterStep),
      trainSecondsPerNeighbor: docs.filter((d) => (d.train_seconds?.length ?? 0) > 0).map((d) => mean(d.train_seconds!)),
      retrievalSeconds: docs.filter((d) => d.neighbor_ids.length > 0).map((d) => d.retrieval_seconds),
      distances: docs.flatMap((d) => d.neighbor_distances),
    };
  });
  // Heaviest tasks first: the order of every table and plot.
  tasks.sort((a, b) => b.weight - a.weight || a.task.localeCompare(b.task));
  return {
    label,
    run,
    method,
    ...(alphas ? { alphas, bestAlpha: alphas[afterStep] } : {}),
    afterStep,
    tasks,
    pileAll: { curve: pileCurve, before: estimate(byTask, 0, BITS(pileCurve[0])), after: estimate(byTask, afterStep, BITS(pileCurve[afterStep])) },
    documents: tasks.reduce((n, t) => n + t.documents, 0),
  };
}

/** The conventional order of methods: TTT-NN first, then the baselines. */
const METHOD_ORDER = ['ttt', 'context', 'interpolation', 'dynamic'];

export function summarize(runs: readonly RunInput[], weights: Record<string, number>, bootstrap: BootstrapOptions = {}): ReportSummary {
  const settings = { resamples: bootstrap.resamples ?? 1000, seed: bootstrap.seed ?? 1216 };
  const methods: MethodSummary[] = [];
  for (const { label: run, loaded } of runs) {
    const names = [...loaded.byMethod.keys()].sort((a, b) => (METHOD_ORDER.indexOf(a) + 1 || 99) - (METHOD_ORDER.indexOf(b) + 1 || 99) || a.localeCompare(b));
    for (const method of names) {
      methods.push(summarizeMethod(run, runs.length > 1 ? `${run}/${method}` : method, method, loaded.byMethod.get(method)!, weights, settings));
    }
  }
  return {
    methods,
    weights,
    runs: runs.map(({ label, loaded }) => ({
      label,
      dir: loaded.dir,
      documents: [...loaded.byMethod.values()].reduce((n, byTask) => n + [...byTask.values()].reduce((m, d) => m + d.length, 0), 0),
      skippedLines: loaded.skippedLines,
      duplicateLines: loaded.duplicateLines,
      warnings: loaded.warnings,
    })),
    bootstrap: settings,
  };
}

/** Evaluated bytes per task over every run and method (for default weights). */
export function bytesPerTask(runs: readonly RunInput[]): Record<string, number> {
  const bytes: Record<string, number> = {};
  for (const { loaded } of runs) {
    for (const byTask of loaded.byMethod.values()) {
      for (const [task, docs] of byTask) bytes[task] = Math.max(bytes[task] ?? 0, docs.reduce((s, d) => s + d.bytes, 0));
    }
  }
  return bytes;
}
