// The report's numbers, computed once from loaded result files and then
// rendered as tables, plots, HTML and Markdown: per run, method and task the
// metrics after 0..k neighbours with 10-90% bootstrap intervals before and
// after, pile_all (weighted by task), training loss and cost per neighbour,
// retrieval time, failed retrievals and the leakage audit.
import type { PerplexityMetrics } from '../eval/metrics.js';
import type { DocumentResult } from '../eval/results.js';
import { findMethod, type CurveKind, type EvalMethod } from '../eval/methods/index.js';
import { bootstrapInterval, curveLength, metricsCurve, pileAllBits, weightedMean, type BootstrapOptions, type Estimate, type LoadedResults } from './aggregate.js';
import { interpolationChoices, type InterpolationChoices, type ValidationAlpha } from './interpolation-alpha.js';
import { medianFilter } from './median-filter.js';
import type { PublishedSource } from './published.js';
import { secondsCurve, selectionSummary, type SelectionSummary } from './selection-cost.js';
import { costCurve, documentCosts, trainingLossCurve, weightedCurve } from './training.js';

export type { Estimate } from './aggregate.js';

/** Leakage audit: neighbours identical to the document they were retrieved for. */
export interface Leakage {
  /** Documents whose line says how many of their neighbours were duplicates (lines from before the audit do not). */
  audited: number;
  /** Documents with at least one duplicate neighbour. */
  withDuplicates: number;
  /** Duplicate neighbours retrieved, summed over documents (duplicate_neighbors). */
  duplicates: number;
  /** Of those, dropped before training (excluded_duplicates, --exclude-duplicates). */
  excluded: number;
}

export interface TaskSummary {
  task: string;
  weight: number;
  /** Documents in the aggregates (after the median filter when it is on). */
  documents: number;
  bytes: number;
  /** Documents whose retrieval failed: no curve, left out, counted. */
  failedRetrievals: number;
  /** Documents dropped by the median filter (0 with --no-median-filter). */
  droppedByMedianFilter: number;
  /** Metrics after 0..k neighbours (interpolation: at each alpha; context: without and with neighbours). */
  curve: PerplexityMetrics[];
  /** Bits per byte with no neighbour, and at `afterStep`. */
  before: Estimate;
  after: Estimate;
  /** The last neighbour; interpolation: this task's own best alpha (an oracle, as the original). */
  afterStep: number;
  afterAlpha?: number;
  /** Mean training loss after neighbour 1..n (NaN where no document has one). */
  trainingLoss: number[];
  /** Mean seconds (training + evaluation) of neighbour 1..n. */
  cost: number[];
  /** Per document: mean seconds per neighbour of training, of the evaluation after it (documents that record it), and of both. */
  trainSecondsPerNeighbor: number[];
  evalSecondsPerNeighbor: number[];
  costSecondsPerNeighbor: number[];
  /** Per document: seconds spent retrieving its neighbours. */
  retrievalSeconds: number[];
  /** Every neighbour's distance to its query. */
  distances: number[];
  leakage: Leakage;
}

export type { CurveKind } from '../eval/methods/index.js';

export interface MethodSummary {
  /** `method`, or `run/method` when several runs are compared. */
  label: string;
  run: string;
  /** The results directory (the method, or `<method>+<selection>...`). */
  method: string;
  /** The registry's method its lines name (undefined for a method this version does not know). */
  declared: EvalMethod | undefined;
  kind: CurveKind;
  /** Interpolation: the alphas of the curve points. */
  alphas?: number[];
  /** Interpolation: per-task oracle (the headline), global oracle and validation-chosen alpha. */
  interpolation?: InterpolationChoices;
  /** The curve point "after" reports for pile_all's curve: the last one; interpolation: the global oracle alpha. */
  afterStep: number;
  tasks: TaskSummary[];
  /** Failed retrievals per task, including tasks where every retrieval failed (which have no TaskSummary). */
  failedByTask: Record<string, number>;
  pileAll: { curve: PerplexityMetrics[]; before: Estimate; after: Estimate; trainingLoss: number[]; cost: number[] };
  documents: number;
  failedRetrievals: number;
  droppedByMedianFilter: number;
  leakage: Leakage;
  /** Context: mean neighbours in the context per document. */
  contextNeighbors?: number;
  /** How the neighbours were chosen and used: selection, redundancy, stops, seconds per document. */
  selection: SelectionSummary;
  /** Mean seconds per document to reach each point of pileAll.curve (training methods; empty otherwise). */
  secondsCurve: number[];
  /** Curves cut short on purpose (a budget, adaptive SIFT): the median filter was not applied. */
  medianFilterSkipped?: boolean;
}

export interface RunInput {
  label: string;
  loaded: LoadedResults;
}

export interface SummaryOptions extends BootstrapOptions {
  /** Drop documents whose curve length is not the median of their method and task (the original's filter; default on). */
  medianFilter?: boolean;
  /** The alpha chosen on an interpolation run on validation documents. */
  interpolationValidation?: ValidationAlpha;
  /** The original's published results, overlaid on tables and plots. */
  published?: PublishedSource[];
  warn?: (line: string) => void;
}

export interface ReportSummary {
  methods: MethodSummary[];
  weights: Record<string, number>;
  /** Per run: documents used, failed retrievals, dropped documents and result lines skipped. */
  runs: { label: string; dir: string; documents: number; failedRetrievals: number; droppedByMedianFilter: number; skippedLines: number; duplicateLines: number; warnings: string[] }[];
  bootstrap: Required<BootstrapOptions>;
  medianFilter: boolean;
  interpolationValidation?: ValidationAlpha;
  published: PublishedSource[];
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

function mean(values: readonly number[]): number {
  return values.length === 0 ? NaN : values.reduce((s, v) => s + v, 0) / values.length;
}

function leakageOf(docs: readonly DocumentResult[]): Leakage {
  const audited = docs.filter((d) => typeof d.duplicate_neighbors === 'number');
  return {
    audited: audited.length,
    withDuplicates: audited.filter((d) => (d.duplicate_neighbors as number) > 0).length,
    duplicates: audited.reduce((n, d) => n + (d.duplicate_neighbors as number), 0),
    excluded: docs.reduce((n, d) => n + (d.excluded_duplicates ?? 0), 0),
  };
}

function sumLeakage(parts: readonly Leakage[]): Leakage {
  return parts.reduce((a, b) => ({ audited: a.audited + b.audited, withDuplicates: a.withDuplicates + b.withDuplicates, duplicates: a.duplicates + b.duplicates, excluded: a.excluded + b.excluded }), { audited: 0, withDuplicates: 0, duplicates: 0, excluded: 0 });
}

/**
 * What a method's curve runs over: as its lines record it, or, for lines
 * written before they did, read from their fields (alphas; a context line's
 * neighbour count — older context lines had a curve over 1..k neighbours).
 */
function kindOf(docs: readonly DocumentResult[]): CurveKind {
  const recorded = docs.find((d) => d.kind !== undefined)?.kind;
  if (recorded) return recorded;
  if (docs.some((d) => d.alpha_loglikelihoods !== undefined)) return 'alphas';
  if (docs.some((d) => d.context_neighbors !== undefined)) return 'context';
  return 'neighbours';
}

/** One results directory of one run, as loaded. */
interface MethodResults {
  run: string;
  /** `directory`, or `run/directory` when several runs are compared. */
  label: string;
  /** The results directory's name (the method, or `<method>+<selection>...`). */
  directory: string;
  declared: EvalMethod | undefined;
  /** task -> documents scored; task -> failed retrievals. */
  loaded: Map<string, DocumentResult[]>;
  failed: Map<string, number>;
}

type SummarizeOptions = SummaryOptions & { bootstrap: Required<BootstrapOptions> };

/**
 * The original's median filter drops curves shorter than usual (neighbours
 * beyond the distance threshold); a budget or adaptive SIFT shortens curves
 * on purpose, so there it is not applied.
 */
export function filterCurves(r: Pick<MethodResults, 'loaded' | 'failed'>, medianFilterOn: boolean): { byTask: Map<string, DocumentResult[]>; dropped: Map<string, number>; cutOnPurpose: boolean } {
  const cutOnPurpose = [...r.loaded.values()].some((docs) => docs.some((d) => d.budget_seconds !== undefined || d.selection_stop === 'alpha'));
  const filter = medianFilterOn && !cutOnPurpose;
  const dropped = new Map<string, number>();
  const byTask = new Map<string, DocumentResult[]>();
  for (const [task, docs] of r.loaded) {
    const kept = filter ? medianFilter(docs, r.failed.get(task) ?? 0) : { kept: docs, dropped: 0 };
    dropped.set(task, kept.dropped);
    if (kept.kept.length > 0) byTask.set(task, kept.kept);
  }
  return { byTask, dropped, cutOnPurpose };
}

/** The pile_all bits per byte of `byTask` at each task's step, with its bootstrap interval. */
function pileAllEstimate(byTask: Map<string, DocumentResult[]>, weights: Record<string, number>, step: (task: string) => number, bootstrap: Required<BootstrapOptions>): Estimate {
  const [low, high] = bootstrapInterval(byTask, (sample) => pileAllBits(sample, weights, step), bootstrap);
  return { value: pileAllBits(byTask, weights, step), low, high };
}

/** One task of one method: its curve, before and after with intervals, training loss, cost, retrieval and the leakage audit. */
function summarizeTask(task: string, docs: DocumentResult[], curve: PerplexityMetrics[], afterStep: number, context: { r: MethodResults; weights: Record<string, number>; dropped: Map<string, number>; alphas?: number[]; bootstrap: Required<BootstrapOptions> }): TaskSummary {
  const { r, weights, dropped, alphas, bootstrap } = context;
  const one = new Map([[task, docs]]);
  const interval = (step: number): Estimate => ({ ...pileAllEstimate(one, { [task]: 1 }, () => step, bootstrap), value: BITS(curve[step]) });
  const trained = docs.filter((d) => (d.train_seconds?.length ?? 0) > 0);
  return {
    task,
    weight: weights[task] ?? 0,
    documents: docs.length,
    bytes: docs.reduce((s, d) => s + d.bytes, 0),
    failedRetrievals: r.failed.get(task) ?? 0,
    droppedByMedianFilter: dropped.get(task) ?? 0,
    curve,
    before: interval(0),
    after: interval(afterStep),
    afterStep,
    ...(alphas ? { afterAlpha: alphas[afterStep] } : {}),
    trainingLoss: trainingLossCurve(docs),
    cost: costCurve(docs),
    trainSecondsPerNeighbor: trained.map((d) => mean(d.train_seconds!)),
    evalSecondsPerNeighbor: trained.filter((d) => (d.eval_seconds?.length ?? 0) > 0).map((d) => mean(d.eval_seconds!)),
    costSecondsPerNeighbor: trained.map((d) => mean(documentCosts(d))),
    retrievalSeconds: docs.filter((d) => d.neighbor_ids.length > 0).map((d) => d.retrieval_seconds),
    distances: docs.flatMap((d) => d.neighbor_distances),
    // The leakage audit is about retrieval: every scored document counts, before the median filter.
    leakage: leakageOf(r.loaded.get(task) ?? docs),
  };
}

function summarizeMethod(r: MethodResults, weights: Record<string, number>, options: SummarizeOptions): MethodSummary {
  const { bootstrap } = options;
  const medianFilterOn = options.medianFilter ?? true;
  const { byTask, dropped, cutOnPurpose } = filterCurves(r, medianFilterOn);
  const all = [...byTask.values()].flat();
  const kind = kindOf(all);
  const steps = [...byTask.values()].reduce((most, curve) => Math.max(most, curveLength(curve)), 0);
  const pileCurve = pileAllCurve(byTask, weights, steps);
  const alphas = kind === 'alphas' ? all.find((d) => d.alphas)?.alphas : undefined;
  const taskCurves = new Map([...byTask].map(([task, docs]) => [task, metricsCurve(docs, steps)]));
  const interpolation = alphas
    ? interpolationChoices(byTask, weights, alphas, new Map([...taskCurves].map(([t, c]) => [t, c.map(BITS)])), pileCurve.map(BITS), bootstrap, options.interpolationValidation, options.warn ?? (() => {}))
    : undefined;
  const lastStep = Math.max(0, steps - 1);
  // "After": the last neighbour; interpolation: each task's own best alpha (an oracle, as the original).
  const stepOf = (task: string): number => (interpolation ? (interpolation.perTask[task]?.step ?? 0) : lastStep);
  const tasks = [...byTask].map(([task, docs]) => summarizeTask(task, docs, taskCurves.get(task) as PerplexityMetrics[], stepOf(task), { r, weights, dropped, alphas, bootstrap }));
  // Heaviest tasks first: the order of every table and plot.
  tasks.sort((a, b) => b.weight - a.weight || a.task.localeCompare(b.task));
  const contextCounts = all.filter((d) => typeof d.context_neighbors === 'number').map((d) => d.context_neighbors as number);
  return {
    label: r.label,
    run: r.run,
    method: r.directory,
    declared: r.declared,
    kind,
    ...(alphas && interpolation ? { alphas, interpolation } : {}),
    afterStep: interpolation ? interpolation.oracleGlobal.step : lastStep,
    tasks,
    failedByTask: Object.fromEntries(r.failed),
    pileAll: {
      curve: pileCurve,
      before: pileAllEstimate(byTask, weights, () => 0, bootstrap),
      // Interpolation's headline: each task at its own best alpha (process_results_interpolation.py:65).
      after: interpolation ? interpolation.oraclePerTask : pileAllEstimate(byTask, weights, () => lastStep, bootstrap),
      trainingLoss: weightedCurve(new Map(tasks.map((t) => [t.task, t.trainingLoss])), weights),
      cost: weightedCurve(new Map(tasks.map((t) => [t.task, t.cost])), weights),
    },
    documents: tasks.reduce((n, t) => n + t.documents, 0),
    failedRetrievals: [...r.failed.values()].reduce((n, f) => n + f, 0),
    droppedByMedianFilter: [...dropped.values()].reduce((n, f) => n + f, 0),
    leakage: sumLeakage([...r.loaded.values()].map(leakageOf)),
    ...(contextCounts.length > 0 ? { contextNeighbors: mean(contextCounts) } : {}),
    selection: selectionSummary(r.declared, all),
    secondsCurve: kind === 'neighbours' ? secondsCurve(all, steps) : [],
    ...(cutOnPurpose && medianFilterOn ? { medianFilterSkipped: true } : {}),
  };
}

export function summarize(runs: readonly RunInput[], weights: Record<string, number>, options: SummaryOptions = {}): ReportSummary {
  const settings = { resamples: options.resamples ?? 1000, seed: options.seed ?? 1216 };
  const methods: MethodSummary[] = [];
  for (const { label: run, loaded } of runs) {
    const methodOf = (directory: string): string => loaded.configurations.get(directory)?.method ?? directory;
    const declaredOf = (directory: string): EvalMethod | undefined => findMethod(methodOf(directory));
    // The registry's order (TTT-NN first, then its control and the baselines), each method's own
    // directory before its selections and budgets; directories of unknown methods last.
    const rank = (directory: string): number => declaredOf(directory)?.report.order ?? Number.MAX_SAFE_INTEGER;
    const variant = (directory: string): number => (directory === methodOf(directory) ? 0 : 1);
    // A method whose every retrieval failed still gets its (empty) summary, so its failures are reported.
    const directories = [...new Set([...loaded.byMethod.keys(), ...loaded.failedRetrievals.keys()])].sort((a, b) => rank(a) - rank(b) || variant(a) - variant(b) || a.localeCompare(b));
    for (const directory of directories) {
      const r: MethodResults = {
        run, directory, label: runs.length > 1 ? `${run}/${directory}` : directory, declared: declaredOf(directory),
        loaded: loaded.byMethod.get(directory) ?? new Map<string, DocumentResult[]>(), failed: loaded.failedRetrievals.get(directory) ?? new Map<string, number>(),
      };
      methods.push(summarizeMethod(r, weights, { ...options, bootstrap: settings }));
    }
  }
  return {
    methods,
    weights,
    runs: runs.map(({ label, loaded }) => {
      const own = methods.filter((m) => m.run === label);
      return {
        label,
        dir: loaded.dir,
        documents: own.reduce((n, m) => n + m.documents, 0),
        failedRetrievals: own.reduce((n, m) => n + m.failedRetrievals, 0),
        droppedByMedianFilter: own.reduce((n, m) => n + m.droppedByMedianFilter, 0),
        skippedLines: loaded.skippedLines,
        duplicateLines: loaded.duplicateLines,
        warnings: loaded.warnings,
      };
    }),
    bootstrap: settings,
    medianFilter: options.medianFilter ?? true,
    ...(options.interpolationValidation ? { interpolationValidation: options.interpolationValidation } : {}),
    published: options.published ?? [],
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
