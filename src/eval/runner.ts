// An evaluation process: one method over this rank's share of the test
// documents, task by task, one result line per document, resumable.
// Settings are resolved once (settings.ts); the method (methods/) scores
// each document from its neighbours, and this file does what every method
// shares: choosing documents, retrieving and selecting neighbours, the
// weight snapshot and optimizer of training methods, result lines, resume.
import { currentPrecision } from '../engine/index.js';
import type { CausalLM } from '../models/index.js';
import type { BpeTokenizer } from '../tokenizers/index.js';
import { join } from 'node:path';
import { seededRandom } from '../data/seeded-random.js';
import { squaredL2 } from '../index/distance.js';
import { selectDocuments, type EvalDocument } from './documents.js';
import { isDuplicate } from './duplicates.js';
import { countBytes, countWords } from './metrics.js';
import { methodNamed, type EvalMethod, type ScoringMethod, type TrainingMethod } from './methods/index.js';
import { documentKey, ScopedOptimizer, type DocumentKey } from './optimizer-scope.js';
import { appendResult, finishedDocuments, resultPath, type DocumentResult } from './results.js';
import { resultsLabel } from './results-label.js';
import { lockResults } from './results-lock.js';
import { claimResultsDirectory, type RunRecord } from './run-record.js';
import { dataFingerprint, modelFingerprint, tokenizerFingerprint } from './fingerprints.js';
import type { Retrieval, RetrievedNeighbor, Retriever } from './retriever.js';
import { resolveSettings, type EvalOverrides, type EvalSettings, type Method } from './settings.js';
import { selectNeighbors } from './selection.js';
import { splitDocument, type SplitDocument } from './split-document.js';
import { trainableWeights, type TrainableWeights } from './trainable.js';
import { EvaluationInterrupted } from './ttt.js';

export type { Method } from './settings.js';

export interface EvalOptions extends EvalOverrides {
  method: Method;
  model: CausalLM;
  tokenizer: BpeTokenizer;
  /** Needed by every method that retrieves (all but dynamic evaluation). */
  retriever?: Retriever;
  data: string;
  tasks: string[] | 'pile_all';
  resultsDir: string;
  progress?: (line: string) => void;
  /** Called after each document (evaluated or reused) instead of a progress line: documents done, of how many, and what became of that document. */
  onDocument?: (done: number, total: number, detail: string) => void;
  /** Asked between documents and between training texts; true stops the run (results so far are kept). */
  shouldStop?: () => boolean;
  /** Add to a results directory made with other settings or inputs (run-record.ts), instead of refusing. */
  forceMix?: boolean;
  /** The longest line of the data file (data/lines.ts); it changes no number, so it is no setting. */
  maxLineBytes?: number;
}

export async function runEvaluation(o: EvalOptions): Promise<{ evaluated: number; skipped: number }> {
  const progress = o.progress ?? ((line: string) => process.stderr.write(`${line}\n`));
  const shouldStop = o.shouldStop ?? (() => false);
  const { model, tokenizer } = o;
  const s = resolveSettings(o.method, model, o);
  const method = methodNamed(s.method);
  lockResults(o.resultsDir, resultsLabel(s), s.rank); // one process per results directory, method and rank (results-lock.ts)
  // Set exactly when the method retrieves.
  const retriever = method.retrieval === 'none' ? undefined : o.retriever;
  if (method.retrieval !== 'none' && !retriever) throw new Error(`method ${s.method} needs the shard servers (--addresses, --token-file, --embedder)`);
  // The first scoring window's prefix: BOS, else EOS, as HFLM.prefix_token_id (GPT-2's both are <|endoftext|>).
  const eos = tokenizer.scoringPrefixTokenId;
  if (eos === undefined) throw new Error('the tokenizer has no beginning- or end-of-text token');
  const documents = await selectDocuments(o.data, { tasks: o.tasks, valPortion: s.valPortion, seed: s.seed, rank: s.rank, worldSize: s.worldSize, limit: s.docsPerTask, maxLineBytes: o.maxLineBytes });

  let evaluated = 0;
  let skipped = 0;
  // Finished documents per task; with AdamW's moments carried across
  // documents they must be the first ones in evaluation order.
  const plan = [...documents].map(([task, docs]) => {
    const path = resultPath(o.resultsDir, resultsLabel(s), task, s.rank);
    const { ids: done, precisions } = finishedDocuments(path);
    return { task, docs, path, done, precisions, finished: docs.filter((d) => done.has(d.id)).map((d) => documentKey(task, d.id)) };
  });
  const precision = currentPrecision();
  for (const { path, precisions } of plan) {
    const other = [...precisions].find((p) => p !== precision);
    if (other) throw new Error(`${path}: its documents were evaluated in ${other} and this run is ${precision}; resume with --precision ${other}, or use another --results-dir`);
  }
  const mixed = claimResultsDirectory(join(o.resultsDir, resultsLabel(s)), runRecord(s, o, retriever), o.forceMix);
  if (mixed.length > 0) progress(`eval ${s.method}: --force-mix: adding to a directory made with other settings (${mixed.join('; ')})`);
  if (method.trains) checkResumable(s, plan);
  // Made after every check that may refuse the run, so that a refusal leaves no adapter attached to the model.
  const scorer = scorerFor(method, model, s, `${o.resultsDir}/${resultsLabel(s)}`);
  const optimizer = scorer.trains ? scorer.optimizer : undefined;
  model.training = false;
  const total = plan.reduce((n, p) => n + p.docs.length, 0);
  const state: EvaluationState = { scorer, model, tokenizer, retriever, eos, shouldStop };
  try {
    if (optimizer && s.optimizerScope === 'run') optimizer.begin('run', plan.flatMap((p) => p.finished), o.resultsDir);
    for (const { task, docs, path, done, finished } of plan) {
      if (optimizer && s.optimizerScope === 'task') optimizer.begin(task, finished, path);
      let position = 0;
      for (const doc of docs) {
        position++;
        if (done.has(doc.id)) {
          skipped++;
          o.onDocument?.(evaluated + skipped, total, `${task} doc ${doc.id}: reused`);
          continue;
        }
        if (shouldStop()) throw new EvaluationInterrupted();
        const started = performance.now();
        const result = await evaluateDocument(s, doc, state);
        refuseNonFiniteCurve(result, `${o.data}:${doc.id + 1} (${task} doc ${doc.id})`);
        if (scorer.trains) scorer.weights.checkUnchanged(`${task} doc ${doc.id}`);
        const commit = (): void => appendResult(path, result);
        if (optimizer) optimizer.finish(task, documentKey(task, doc.id), commit);
        else commit();
        evaluated++;
        const detail = `${task} ${position}/${docs.length} doc ${doc.id}: ${describe(result)} (${((performance.now() - started) / 1000).toFixed(1)} s)`;
        if (o.onDocument) o.onDocument(evaluated + skipped, total, detail);
        else progress(`eval ${s.method} ${detail}`);
      }
    }
  } finally {
    if (scorer.trains) {
      scorer.weights.dispose();
      scorer.optimizer.dispose();
    }
  }
  return { evaluated, skipped };
}

/** What this run's numbers depend on, for its results directory (run-record.ts). */
function runRecord(s: EvalSettings, o: EvalOptions, retriever: Retriever | undefined): RunRecord {
  // Every rank of a run writes to the same directory: the rank is not part of it. JSON has no
  // Infinity: a threshold that keeps everything is recorded as "Infinity".
  const recorded = Object.fromEntries(Object.entries(s).filter(([k]) => k !== 'rank').map(([k, v]) => [k, typeof v === 'number' && !Number.isFinite(v) ? String(v) : v]));
  return {
    settings: recorded, precision: currentPrecision(), model: modelFingerprint(o.model), tokenizer: tokenizerFingerprint(o.tokenizer), data: dataFingerprint(o.data),
    ...(retriever ? { retrieval: retriever.identity() } : {}),
  };
}

/** A training run resumes only where it can continue exactly as if uninterrupted. */
function checkResumable(s: EvalSettings, plan: { docs: EvalDocument[]; path: string; done: Set<number>; finished: DocumentKey[] }[]): void {
  if (s.optimizerScope === 'document' && s.resetWeights) return; // documents are independent
  let open = false; // run scope: a task after an unfinished one must not have finished documents
  for (const { docs, path, done, finished } of plan) {
    if (finished.length === 0) {
      if (docs.length > 0) open = true;
      continue;
    }
    if (!s.resetWeights) throw new Error(`${path}: cannot resume with --no-reset-weights (the weights after the finished documents were not saved); delete it to redo the task`);
    if (docs.slice(0, finished.length).some((d) => !done.has(d.id)) || (s.optimizerScope === 'run' && open)) {
      throw new Error(`${path}: its finished documents are not the first ones in evaluation order (another --val-portion, --seed, --docs-per-task or --world-size?); with AdamW's moments carried between documents this run cannot resume it exactly`);
    }
    if (finished.length < docs.length) open = true;
  }
}

/**
 * A NaN or infinite log-likelihood is not a result: recorded, it would make
 * every mean of its task NaN (or be reused by a rerun as if finished). It
 * comes from broken weights or config (a NaN weight, a negative
 * layer_norm_epsilon) or a diverged training step; `tttnn score` refuses the
 * same (cli/score.ts).
 */
function refuseNonFiniteCurve(result: DocumentResult, document: string): void {
  for (const [name, curve] of [['loglikelihoods', result.loglikelihoods], ['alpha_loglikelihoods', result.alpha_loglikelihoods]] as const) {
    const at = curve?.findIndex((x) => !Number.isFinite(x)) ?? -1;
    if (at >= 0) {
      throw new Error(`${document}: ${name}[${at}] is ${curve![at]}, not a log-likelihood to record (nothing was written for this document); the model's weights or config.json (e.g. layer_norm_epsilon), or a learning rate that diverges, make NaN — check them and rerun`);
    }
  }
}

function describe(result: DocumentResult): string {
  if (result.retrieval_error) return `retrieval failed (${result.retrieval_error})`;
  const ll = result.loglikelihoods ?? result.alpha_loglikelihoods ?? [];
  const bpb = (x: number | undefined): string => (x === undefined ? '?' : (-x / result.bytes / Math.LN2).toFixed(3));
  const after = result.alpha_loglikelihoods ? Math.max(...ll) : ll.at(-1);
  return `bits/byte ${bpb(ll[0])} -> ${bpb(after)} (${result.neighbor_ids.length} neighbours)`;
}

/** The method, and for a training method what it trains (every weight or a LoRA adapter, with the values every document starts from) and its scoped AdamW. */
type Scorer =
  | { trains: true; method: TrainingMethod; weights: TrainableWeights; optimizer: ScopedOptimizer }
  | { trains: false; method: ScoringMethod };

function scorerFor(method: EvalMethod, model: CausalLM, s: EvalSettings, resultsDir: string): Scorer {
  if (!method.trains) return { trains: false, method };
  const weights = trainableWeights(model, s);
  return { trains: true, method, weights, optimizer: new ScopedOptimizer(weights, s, resultsDir, s.rank) };
}

/** What one evaluation process holds while it scores documents one after another. */
interface EvaluationState {
  scorer: Scorer;
  model: CausalLM;
  tokenizer: BpeTokenizer;
  /** Set exactly when the method retrieves. */
  retriever: Retriever | undefined;
  /** The end-of-text id that prefixes the first scoring window. */
  eos: number;
  shouldStop: () => boolean;
}

async function evaluateDocument(s: EvalSettings, doc: EvalDocument, state: EvaluationState): Promise<DocumentResult> {
  const { scorer, model, tokenizer, eos, retriever } = state;
  const method = scorer.method;
  // A budget counts from here: retrieval, selection, training and evaluation.
  const deadline = s.budgetSeconds === undefined ? Infinity : performance.now() + s.budgetSeconds * 1000;
  const split = splitDocument(tokenizer, doc.text, s.splitText);
  const base: DocumentResult = {
    task: doc.task, doc_id: doc.id, method: s.method, kind: method.report.kind, bytes: countBytes(split.scoredText), words: countWords(split.scoredText), tokens: split.scored.length,
    retrieval_seconds: 0, neighbor_ids: [], neighbor_distances: [],
    ...(currentPrecision() === 'bf16' ? { precision: 'bf16' as const } : {}),
    ...(s.budgetSeconds === undefined ? {} : { budget_seconds: s.budgetSeconds }),
  };

  let neighbors: RetrievedNeighbor[] = [];
  if (retriever) {
    const kept = await neighborsFor(s, method, retriever, doc, split, base);
    if (kept === undefined) return base; // retrieval failed: recorded in base
    neighbors = kept;
  }
  const input = { settings: s, model, tokenizer, eos, split, neighbors };
  const score = scorer.trains
    ? await scorer.method.score({ ...input, optimizer: scorer.optimizer.optimizer, snapshot: scorer.weights.snapshot, shouldStop: state.shouldStop, deadline })
    : await scorer.method.score(input);
  return { ...base, ...score };
}

/**
 * The neighbours a document uses: retrieved (the k nearest, or K candidates
 * to select from, or random documents), duplicates of the document counted
 * (and dropped with --exclude-duplicates), the distance threshold applied,
 * then selected (selection.ts). Records what happened in `base`; undefined
 * when retrieval failed.
 */
async function neighborsFor(s: EvalSettings, method: EvalMethod, retriever: Retriever, doc: EvalDocument, split: SplitDocument, base: DocumentResult): Promise<RetrievedNeighbor[] | undefined> {
  let retrieval: Retrieval;
  try {
    retrieval = method.retrieval === 'random-documents'
      ? await retriever.randomDocuments(split.queryText, s.numNeighbors, seededRandom(s.seed * 1_000_003 + doc.id))
      : await retriever.retrieve(split.queryText, s.selection === 'knn' ? s.numNeighbors : s.candidates);
  } catch (error) {
    // The original logged the failure and scored with no neighbours (eval_tttlm.py:206-212);
    // its report then dropped the one-point curve. Here the document gets no curve.
    base.retrieval_error = (error as Error).message;
    return undefined;
  }
  base.retrieval_seconds = retrieval.seconds;
  if (retrieval.partial) base.partial_retrieval = true;
  const duplicates = retrieval.neighbors.filter((n) => isDuplicate(n, doc.text, split.scoredText)).length;
  base.duplicate_neighbors = duplicates;
  let neighbors = retrieval.neighbors;
  if (s.excludeDuplicates) {
    neighbors = neighbors.filter((n) => !isDuplicate(n, doc.text, split.scoredText));
    base.excluded_duplicates = duplicates;
  }
  let kept = neighbors.filter((n) => n.distance < s.distanceThreshold); // strict, as eval_tttlm.py:183
  if (s.selection !== 'knn') {
    const started = performance.now();
    const settings = { selection: s.selection, count: s.numNeighbors, lambda: s.siftLambda, alpha: s.siftAlpha, kernel: s.siftKernel };
    const picked = selectNeighbors(kept, retrieval.query, settings, seededRandom((s.seed * 1_000_003 + doc.id) ^ 0x5e1ec7));
    base.selection = s.selection;
    base.candidate_count = kept.length;
    base.selection_seconds = (performance.now() - started) / 1000;
    base.selection_stop = picked.stop;
    if (picked.variances) base.selection_variances = picked.variances;
    kept = picked.neighbors;
  }
  base.neighbor_ids = kept.map((n) => n.id);
  base.neighbor_distances = kept.map((n) => n.distance);
  if (kept.length >= 2) Object.assign(base, redundancy(kept));
  return kept;
}

/** How redundant the neighbours used are: the mean distance between the stored vectors of two picks, and the pairs with the same text. */
export function redundancy(neighbors: readonly RetrievedNeighbor[]): { neighbor_mean_pairwise_distance: number; duplicate_neighbor_pairs: number } {
  let sum = 0;
  let pairs = 0;
  let same = 0;
  for (let a = 0; a < neighbors.length; a++) {
    for (let b = a + 1; b < neighbors.length; b++) {
      sum += Math.sqrt(squaredL2(neighbors[a]!.vector, neighbors[b]!.vector));
      pairs++;
      if (neighbors[a]!.text === neighbors[b]!.text) same++;
    }
  }
  return { neighbor_mean_pairwise_distance: sum / pairs, duplicate_neighbor_pairs: same };
}
