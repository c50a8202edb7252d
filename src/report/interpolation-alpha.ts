// Which alpha interpolation reports. The original (process_results_
// interpolation.py:65) takes, per task, the alpha with the lowest bits per
// byte, and pile_all as the weighted mean of those per-task minima: an
// oracle that picks alpha on the test documents themselves. Beside it the
// report shows one alpha for all tasks chosen the same way (still an
// oracle), and, given an interpolation run on validation documents
// (--interpolation-validation), the alpha that is best there, applied to
// the test documents: the only choice that does not look at the test set.
import { METHOD_REGISTRY } from '../eval/methods/index.js';
import type { DocumentResult } from '../eval/results.js';
import { bootstrapInterval, metricsCurve, pileAllBits, weightedMean, type BootstrapOptions, type Estimate, type LoadedResults } from './aggregate.js';
import { medianFilter } from './median-filter.js';

/** Index of the smallest value, the first on ties (Python's min / np.argmin); -1 when none is finite. */
export function argmin(values: readonly number[]): number {
  let best = -1;
  values.forEach((v, i) => {
    if (Number.isFinite(v) && (best < 0 || v < (values[best] as number))) best = i;
  });
  return best;
}

export interface AlphaChoice {
  alpha: number;
  step: number;
  /** pile_all bits per byte on the test documents at this alpha. */
  pileAll: Estimate;
}

export interface ValidationChoice extends AlphaChoice {
  /** The validation run's directory. */
  dir: string;
  /** pile_all bits per byte of the validation documents at the chosen alpha. */
  validationBitsPerByte: number;
}

export interface InterpolationChoices {
  /** Per task: its own best alpha (the headline, as the original). */
  perTask: Record<string, { alpha: number; step: number }>;
  /** Σ_task w·(per-task minimum) / Σ w, with an interval from resampling documents at those alphas. */
  oraclePerTask: Estimate;
  /** The single alpha that minimises pile_all on the test documents. */
  oracleGlobal: AlphaChoice;
  /** The alpha that minimises pile_all on the validation documents, reported on the test documents. */
  validation?: ValidationChoice;
}

/** The alpha chosen on a validation run: the one with the lowest pile_all bits per byte there. */
export interface ValidationAlpha {
  dir: string;
  alpha: number;
  bitsPerByte: number;
}

/** The method whose curve runs over alphas (interpolation): a validation run of it chooses the alpha. */
const ALPHAS_METHOD = METHOD_REGISTRY.find((m) => m.report.kind === 'alphas') as (typeof METHOD_REGISTRY)[number];

/** Picks alpha on `loaded`'s interpolation results (filtered as the test results are). */
export function chooseValidationAlpha(loaded: LoadedResults, weights: Record<string, number>, options: { medianFilter?: boolean } = {}): ValidationAlpha {
  const name = ALPHAS_METHOD.name;
  const byTask = loaded.byMethod.get(name);
  if (!byTask) throw new Error(`${loaded.dir}: no ${name} results (expected ${name}/<task>.rank<R>.jsonl)`);
  const failed = loaded.failedRetrievals.get(name);
  const docs = new Map([...byTask].map(([task, d]) => [task, (options.medianFilter ?? true) ? medianFilter(d, failed?.get(task) ?? 0).kept : d]));
  const alphas = [...docs.values()][0]?.[0]?.alphas;
  if (!alphas) throw new Error(`${loaded.dir}: interpolation results without alphas`);
  const curves = new Map([...docs].map(([task, d]) => [task, metricsCurve(d, alphas.length).map((m) => m.bits_per_byte)]));
  const pileAll = alphas.map((_, i) => weightedMean(new Map([...curves].map(([task, c]) => [task, c[i] as number])), weights));
  const best = argmin(pileAll);
  if (best < 0) throw new Error(`${loaded.dir}: no task of the validation run has a pile_all weight`);
  return { dir: loaded.dir, alpha: alphas[best] as number, bitsPerByte: pileAll[best] as number };
}

/** Index of `alpha` among `alphas` (they are written as decimal literals, so equal up to rounding). */
export function alphaStep(alphas: readonly number[], alpha: number): number {
  return alphas.findIndex((a) => Math.abs(a - alpha) < 1e-9);
}

/**
 * The three choices for one interpolation method. `taskCurves` are each
 * task's bits per byte per alpha, `pileCurve` pile_all's.
 */
export function interpolationChoices(
  byTask: Map<string, DocumentResult[]>,
  weights: Record<string, number>,
  alphas: readonly number[],
  taskCurves: Map<string, readonly number[]>,
  pileCurve: readonly number[],
  bootstrap: Required<BootstrapOptions>,
  validation: ValidationAlpha | undefined,
  warn: (line: string) => void,
): InterpolationChoices {
  const estimate = (stepOf: (task: string) => number): Estimate => {
    const [low, high] = bootstrapInterval(byTask, (sample) => pileAllBits(sample, weights, stepOf), bootstrap);
    return { value: pileAllBits(byTask, weights, stepOf), low, high };
  };
  const perTask: Record<string, { alpha: number; step: number }> = {};
  for (const [task, curve] of taskCurves) {
    const step = Math.max(0, argmin(curve));
    perTask[task] = { alpha: alphas[step] as number, step };
  }
  // process_results_interpolation.py:65: metrics_after[task] = min(plot_stats).
  const oraclePerTask = estimate((task) => perTask[task]?.step ?? 0);
  const globalStep = Math.max(0, argmin(pileCurve));
  const choices: InterpolationChoices = { perTask, oraclePerTask, oracleGlobal: { alpha: alphas[globalStep] as number, step: globalStep, pileAll: estimate(() => globalStep) } };
  if (validation) {
    const step = alphaStep(alphas, validation.alpha);
    if (step < 0) warn(`alpha ${validation.alpha} chosen on ${validation.dir} is not among this run's alphas (${alphas.join(', ')}): no validation-chosen result`);
    else choices.validation = { alpha: validation.alpha, step, dir: validation.dir, validationBitsPerByte: validation.bitsPerByte, pileAll: estimate(() => step) };
  }
  return choices;
}
