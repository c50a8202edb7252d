// Evaluation settings, resolved once: every default in one place, each with
// the original's file and line (socialfoundations/tttlm), like nanoGPT's
// GPTConfig. The CLI shows these values in --help and passes only what the
// user set; runner.ts and the methods read the resolved EvalSettings and
// never default anything themselves.

import { LIMITS } from '../retrieval/protocol.js';
import type { Selection, SiftKernel } from './selection.js';

export type Method = 'ttt' | 'context' | 'interpolation' | 'dynamic' | 'random';
export const METHODS: readonly Method[] = ['ttt', 'context', 'interpolation', 'dynamic', 'random'];

/** Who owns AdamW's moments: one AdamW per task (the original), per document, or one for the whole run. */
export type OptimizerScope = 'task' | 'document' | 'run';
/** In-context baseline: the original's single window, or ours (half-length windows, the nearest neighbour kept). */
export type ContextMode = 'single' | 'windows';

export interface EvalSettings {
  method: Method;
  /** Neighbours retrieved per document (dynamic evaluation: copies of the query text). */
  numNeighbors: number;
  /** Keep a neighbour when the plain Euclidean distance to the query embedding is below this (Infinity: keep all). */
  distanceThreshold: number;
  learningRate: number;
  adamEpsilon: number;
  adamBetas: [number, number];
  weightDecay: number;
  gradClip: number;
  /** Training window length and stride, in tokens. */
  maxLength: number;
  stride: number;
  /** Scoring window: the model's context, always (lm_eval/gpt2.py:56-62, HFLM.max_length = n_ctx). */
  scoreLength: number;
  resetWeights: boolean;
  optimizerScope: OptimizerScope;
  splitText: boolean;
  /** Dynamic evaluation without --split-text trains on the text it scores: allowed only when named. */
  trainOnScoredText: boolean;
  contextMode: ContextMode;
  valPortion: number;
  seed: number;
  excludeDuplicates: boolean;
  docsPerTask?: number;
  rank: number;
  worldSize: number;
  /** Which retrieved candidates are used, in which order (selection.ts): knn (the original), sift or random. */
  selection: Selection;
  /** sift / random: candidates retrieved to select from. */
  candidates: number;
  siftLambda: number;
  /** Adaptive SIFT's alpha; undefined: always select numNeighbors. */
  siftAlpha?: number;
  siftKernel: SiftKernel;
  /** Wall seconds per document (retrieval, selection, training, evaluation); undefined: no budget. */
  budgetSeconds?: number;
}

/** A default and where the original set it. */
interface Sourced<T> {
  value: T;
  source: string;
}
const at = <T>(value: T, source: string): Sourced<T> => ({ value, source });

/** The original's learning rates by model type (eval_tttlm.py:41; condor/eval_pile_all.sub:3-5). */
export const LEARNING_RATES: Record<string, Sourced<number>> = {
  gpt2: at(2e-5, 'condor/eval_pile_all.sub:5, condor/eval_dynamic_eval.sub:10'),
  gpt_neo: at(5e-6, 'eval_tttlm.py:41, condor/eval_pile_all.sub:4'),
};

/** Per-method defaults that differ between methods. */
export const METHOD_DEFAULTS: Record<Method, { numNeighbors: Sourced<number>; distanceThreshold: Sourced<number>; splitText: Sourced<boolean> }> = {
  ttt: {
    numNeighbors: at(50, 'eval_tttlm.py:42'),
    distanceThreshold: at(4.0, 'eval_tttlm.py:48, applied to the plain L2 norm at :183'),
    splitText: at(false, 'eval_tttlm.py:51'),
  },
  dynamic: {
    numNeighbors: at(20, 'condor/eval_dynamic_eval.sub:16 (--num_neighbors 20)'),
    distanceThreshold: at(Infinity, 'no retrieval (eval_tttlm.py:202-203)'),
    splitText: at(true, 'condor/eval_dynamic_eval.sub:15 (--split_text)'),
  },
  context: {
    numNeighbors: at(20, 'baseline_context.py:161, condor/eval_baseline_context.sub:15'),
    distanceThreshold: at(2.3, 'baseline_context.py:38, applied to the plain L2 norm at :86'),
    splitText: at(false, 'baseline_context.py:144 (queries with the whole document)'),
  },
  interpolation: {
    numNeighbors: at(20, 'baseline_interpolation.py:167, condor/eval_baseline_interpolation.sub:15'),
    distanceThreshold: at(Infinity, 'baseline_interpolation.py:92-94 (the filter is commented out)'),
    splitText: at(false, 'baseline_interpolation.py:150'),
  },
  random: {
    numNeighbors: at(50, 'as ttt (eval_tttlm.py:42); a control of ours, not in the original'),
    distanceThreshold: at(Infinity, 'random documents are not filtered by distance'),
    splitText: at(false, 'as ttt (eval_tttlm.py:51)'),
  },
};

/** Defaults shared by every method. */
export const SHARED_DEFAULTS = {
  adamEpsilon: at(1e-8, 'eval_tttlm.py:40'),
  adamBetas: at<[number, number]>([0.9, 0.999], "torch.optim.AdamW's default (eval_tttlm.py:82-84 passes only lr and eps)"),
  weightDecay: at(0.01, "torch.optim.AdamW's default (eval_tttlm.py:82-84)"),
  gradClip: at(1.0, 'eval_tttlm.py:248'),
  optimizerScope: at<OptimizerScope>('task', 'eval_tttlm.py:82 (one AdamW per TTTLM) and :466 (one TTTLM per task)'),
  resetWeights: at(true, 'eval_tttlm.py:45, :305-306'),
  valPortion: at(0.2, 'eval_tttlm.py:39; condor/eval_baseline_*.sub:14 (the baselines\' own default is 1.0)'),
  seed: at(1216, 'eval_tttlm.py:376'),
  contextMode: at<ContextMode>('single', 'lm_eval/base.py:206-218'),
  maxLength: at('the model context', "eval_tttlm.py:43-44 (2048 for GPT-Neo); condor/eval_*.sub pass 1024 for GPT-2: the model's context either way"),
  selection: at<Selection>('knn', 'the k nearest, nearest first (eval_tttlm.py:180-186); sift and random are ours'),
  candidates: at(200, "ours: SIFT's K candidates (activeft sift.py takes K from its caller)"),
  siftLambda: at(0.01, 'activeft sift.py Retriever(lambda_=0.01)'),
  siftKernel: at<SiftKernel>('cosine', 'activeft computes inner products of the embeddings it searched; its experiments use unit-normalized ones'),
};

/** What the user set (undefined: the default). */
export type EvalOverrides = Partial<Omit<EvalSettings, 'method' | 'scoreLength'>>;

export interface ModelFacts {
  modelType: string;
  contextLength: number;
}

/** Resolves every setting for `method` on `model`, checking the combination. */
export function resolveSettings(method: Method, model: ModelFacts, o: EvalOverrides = {}): EvalSettings {
  const m = METHOD_DEFAULTS[method];
  const maxLength = o.maxLength ?? model.contextLength;
  const learningRate = o.learningRate ?? LEARNING_RATES[model.modelType]?.value;
  if (learningRate === undefined) throw new Error(`no default learning rate for model type ${model.modelType}: pass --learning-rate`);
  const s: EvalSettings = {
    method,
    numNeighbors: o.numNeighbors ?? m.numNeighbors.value,
    distanceThreshold: o.distanceThreshold ?? m.distanceThreshold.value,
    learningRate,
    adamEpsilon: o.adamEpsilon ?? SHARED_DEFAULTS.adamEpsilon.value,
    adamBetas: o.adamBetas ?? SHARED_DEFAULTS.adamBetas.value,
    weightDecay: o.weightDecay ?? SHARED_DEFAULTS.weightDecay.value,
    gradClip: o.gradClip ?? SHARED_DEFAULTS.gradClip.value,
    maxLength,
    stride: o.stride ?? maxLength,
    scoreLength: model.contextLength,
    resetWeights: o.resetWeights ?? SHARED_DEFAULTS.resetWeights.value,
    optimizerScope: o.optimizerScope ?? SHARED_DEFAULTS.optimizerScope.value,
    splitText: o.splitText ?? m.splitText.value,
    trainOnScoredText: o.trainOnScoredText ?? false,
    contextMode: o.contextMode ?? SHARED_DEFAULTS.contextMode.value,
    valPortion: o.valPortion ?? SHARED_DEFAULTS.valPortion.value,
    seed: o.seed ?? SHARED_DEFAULTS.seed.value,
    excludeDuplicates: o.excludeDuplicates ?? false,
    docsPerTask: o.docsPerTask,
    rank: o.rank ?? 0,
    worldSize: o.worldSize ?? 1,
    selection: o.selection ?? SHARED_DEFAULTS.selection.value,
    candidates: o.candidates ?? SHARED_DEFAULTS.candidates.value,
    siftLambda: o.siftLambda ?? SHARED_DEFAULTS.siftLambda.value,
    siftAlpha: o.siftAlpha,
    siftKernel: o.siftKernel ?? SHARED_DEFAULTS.siftKernel.value,
    budgetSeconds: o.budgetSeconds,
  };
  checkSettings(s, model);
  return s;
}

function checkSettings(s: EvalSettings, model: ModelFacts): void {
  const positiveInteger = (name: string, v: number): void => {
    if (!Number.isInteger(v) || v < 1) throw new Error(`${name} must be a positive integer, got ${v}`);
  };
  positiveInteger('--num-neighbors', s.numNeighbors);
  // The shard servers answer at most LIMITS.maxK neighbours a query: refuse now, not at the first document.
  if (s.method !== 'dynamic' && s.numNeighbors > LIMITS.maxK) throw new Error(`--num-neighbors ${s.numNeighbors} is above the ${LIMITS.maxK} neighbours a shard server returns per query`);
  positiveInteger('--max-length', s.maxLength);
  positiveInteger('--stride', s.stride);
  if (s.maxLength > model.contextLength) throw new Error(`--max-length ${s.maxLength} is longer than the model's context (${model.contextLength})`);
  if (!(s.learningRate > 0)) throw new Error(`--learning-rate must be positive, got ${s.learningRate}`);
  if (!(s.distanceThreshold > 0)) throw new Error(`--distance-threshold must be positive, got ${s.distanceThreshold}`);
  if (!(s.valPortion > 0)) throw new Error(`--val-portion must be positive, got ${s.valPortion}`);
  if (!Number.isInteger(s.worldSize) || s.worldSize < 1 || !Number.isInteger(s.rank) || s.rank < 0 || s.rank >= s.worldSize) {
    throw new Error(`--rank ${s.rank} must be in [0, --world-size ${s.worldSize})`);
  }
  if (s.selection !== 'knn' && (s.method === 'dynamic' || s.method === 'random')) {
    throw new Error(`--selection ${s.selection} chooses among retrieved neighbours; --method ${s.method} retrieves none`);
  }
  positiveInteger('--candidates', s.candidates);
  if (s.selection !== 'knn' && s.candidates > LIMITS.maxK) throw new Error(`--candidates ${s.candidates} is above the ${LIMITS.maxK} neighbours a shard server returns per query`);
  if (!(s.siftLambda > 0)) throw new Error(`--sift-lambda must be positive, got ${s.siftLambda}`);
  if (s.siftAlpha !== undefined && !(s.siftAlpha > 0)) throw new Error(`--sift-alpha must be positive, got ${s.siftAlpha}`);
  if (s.siftAlpha !== undefined && s.selection !== 'sift') throw new Error('--sift-alpha is adaptive SIFT: it needs --selection sift');
  if (s.budgetSeconds !== undefined && !(s.budgetSeconds > 0)) throw new Error(`--budget-seconds must be positive, got ${s.budgetSeconds}`);
  if (s.budgetSeconds !== undefined && (s.method === 'context' || s.method === 'interpolation')) throw new Error(`--budget-seconds stops test-time training; --method ${s.method} does not train`);
  if (s.method === 'dynamic' && !s.splitText && !s.trainOnScoredText) {
    throw new Error(
      'dynamic evaluation without --split-text trains on the very text it scores (a leak: the paper ran --split_text, condor/eval_dynamic_eval.sub:15); ' +
        'keep --split-text, or pass --train-on-scored-text to measure it anyway',
    );
  }
}

/**
 * The results subdirectory of a configuration: the method for the
 * original's selection, and `<method>+<selection>` (with `-alpha<a>` for
 * adaptive SIFT, `@<S>s` for a budget) otherwise, so that a report compares
 * them side by side.
 */
export function resultsLabel(s: Pick<EvalSettings, 'method' | 'selection' | 'siftAlpha' | 'budgetSeconds'>): string {
  let label = s.method;
  if (s.selection !== 'knn') label += `+${s.selection}`;
  if (s.siftAlpha !== undefined) label += `-alpha${s.siftAlpha}`;
  if (s.budgetSeconds !== undefined) label += `@${s.budgetSeconds}s`;
  return label;
}

/** A results label read back: method, `+selection[-alpha<a>]`, `@<S>s` (what resultsLabel writes). */
const LABEL = /^([^+@]*)(\+[^@]*)?(@.*)?$/;

/** The method of a results subdirectory: `ttt` for `ttt+sift-alpha2@30s`. */
export function baseMethod(label: string): string {
  return (LABEL.exec(label) as RegExpExecArray)[1] as string;
}

/**
 * The label of the same method and budget with the original's selection (the
 * k nearest): `ttt@2s` for `ttt+sift@2s`; undefined for a label without a
 * selection of its own.
 */
export function knnLabel(label: string): string | undefined {
  const [, method, selection, budget] = LABEL.exec(label) as RegExpExecArray;
  return selection === undefined ? undefined : `${method}${budget ?? ''}`;
}

/** One line per setting and where its default comes from, for --help and result directories. */
export function describeDefaults(): string {
  const lines = ['Defaults (the original\'s, socialfoundations/tttlm):'];
  for (const method of METHODS) {
    const m = METHOD_DEFAULTS[method];
    lines.push(`  ${method}: ${m.numNeighbors.value} neighbours (${m.numNeighbors.source}); distance threshold ${m.distanceThreshold.value} (${m.distanceThreshold.source}); split text ${m.splitText.value ? 'on' : 'off'} (${m.splitText.source})`);
  }
  for (const [type, lr] of Object.entries(LEARNING_RATES)) lines.push(`  learning rate, ${type}: ${lr.value} (${lr.source})`);
  for (const [name, d] of Object.entries(SHARED_DEFAULTS)) lines.push(`  ${name}: ${Array.isArray(d.value) ? d.value.join(', ') : String(d.value)} (${d.source})`);
  return lines.join('\n');
}
