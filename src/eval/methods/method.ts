// What an evaluation method is: one declaration per method (one file under
// methods/, listed once in methods/index.ts), in the spirit of
// lm-evaluation-harness's task registry. The runner loops over documents,
// retrieves what `retrieval` asks for and hands the method the document and
// its neighbours; the flags, `--preset paper`, the report's order and kinds
// and the verdict's contenders all read these declarations.
//
// A method's `score` loads the modules that compute with `await import()`:
// the declarations are read by `tttnn eval --help` and `tttnn report`, which
// must work without loading the native addon (docs/DESIGN.md, Layers).
import type { AdamW, Tensor } from '../../engine/index.js';
import type { CausalLM } from '../../models/index.js';
import type { BpeTokenizer } from '../../tokenizers/index.js';
import type { DocumentResult } from '../results.js';
import type { RetrievedNeighbor } from '../retriever.js';
import type { EvalSettings } from '../settings.js';
import type { SplitDocument } from '../split-document.js';

/** A default and where the original set it (socialfoundations/tttlm file:line, or why it is ours). */
export interface Sourced<T> {
  value: T;
  source: string;
}
export const at = <T>(value: T, source: string): Sourced<T> => ({ value, source });

/** What a method's curve runs over, and so how the report reads it: neighbours (0..k), alphas (interpolation), or without/with neighbours (context). */
export type CurveKind = 'neighbours' | 'alphas' | 'context';

/** What the runner retrieves for a method before scoring: the k nearest (then threshold and selection), random documents of the index, or nothing. */
export type RetrievalKind = 'nearest' | 'random-documents' | 'none';

/** The defaults that differ between methods; every other setting's default is in settings.ts. */
export interface MethodDefaults {
  numNeighbors: Sourced<number>;
  distanceThreshold: Sourced<number>;
  splitText: Sourced<boolean>;
}

/** How the report shows a method. */
export interface MethodReport {
  kind: CurveKind;
  /** Place in every table and plot (TTT-NN first, then its control and the baselines). */
  order: number;
  /**
   * Its part in "Does TTT-NN win?": the subject (TTT-NN itself), or a
   * baseline named in words. An `alphas` baseline is compared at the alpha
   * chosen on validation documents and at each task's best alpha (oracle).
   */
  verdict: 'subject' | { baseline: string };
  /** Whether its cost curve belongs in the bits-per-byte-vs-seconds Pareto (false for a method that scores only part of each document). */
  pareto: boolean;
}

/** Everything a method may use to score one document. */
export interface ScoringInput {
  settings: EvalSettings;
  model: CausalLM;
  tokenizer: BpeTokenizer;
  /** The end-of-text id that prefixes the first scoring window. */
  eos: number;
  split: SplitDocument;
  /** The neighbours kept (after duplicates, threshold and selection), in the order to use them; empty for retrieval 'none'. */
  neighbors: readonly RetrievedNeighbor[];
}

/** What a training method also gets: the optimizer (its scope decides when moments reset) and the weights every document starts from. */
export interface TrainingInput extends ScoringInput {
  optimizer: AdamW;
  snapshot: readonly Tensor[];
  /** Asked between training texts; true stops the run. */
  shouldStop: () => boolean;
  /** performance.now() milliseconds after which no training step starts (a per-document budget); Infinity: none. */
  deadline: number;
}

/** The method's own fields of a result line (the runner adds the document, retrieval and kind). */
export type MethodScore = Partial<DocumentResult>;

interface MethodCommon<N extends string> {
  name: N;
  /** One sentence for `--method`'s help. */
  summary: string;
  retrieval: RetrievalKind;
  defaults: MethodDefaults;
  report: MethodReport;
}

/** A method that fine-tunes the model: the runner keeps a weight snapshot and a scoped AdamW for it. */
export interface TrainingMethod<N extends string = string> extends MethodCommon<N> {
  trains: true;
  score(input: TrainingInput): Promise<MethodScore>;
}

/** A method that only scores. */
export interface ScoringMethod<N extends string = string> extends MethodCommon<N> {
  trains: false;
  score(input: ScoringInput): Promise<MethodScore>;
}

export type EvalMethod<N extends string = string> = TrainingMethod<N> | ScoringMethod<N>;
