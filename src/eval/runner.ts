// An evaluation process: one method over this rank's share of the test
// documents, task by task, one result line per document, resumable.
// Settings are resolved once (settings.ts); each method follows the
// original's protocol unless a named option says otherwise.
import { currentPrecision, snapshotParameters, disposeAll, type Tensor } from '../engine/index.js';
import type { CausalLM } from '../models/index.js';
import type { BpeTokenizer } from '../tokenizers/index.js';
import { seededRandom } from '../data/seeded-random.js';
import { contextLoglikelihood, singleWindowContextLoglikelihood } from './context.js';
import { selectDocuments, type EvalDocument } from './documents.js';
import { ALPHAS, interpolationLoglikelihoods, neighborUnigram } from './interpolation.js';
import { rollingLoglikelihood } from './loglikelihood.js';
import { countBytes, countWords } from './metrics.js';
import { documentKey, ScopedOptimizer, type DocumentKey } from './optimizer-scope.js';
import { appendResult, finishedDocuments, resultPath, type DocumentResult } from './results.js';
import { lockResults } from './results-lock.js';
import type { Retrieval, RetrievedNeighbor, Retriever } from './retriever.js';
import { squaredL2 } from '../retrieval/client.js';
import { resolveSettings, resultsLabel, type EvalOverrides, type EvalSettings, type Method } from './settings.js';
import { selectNeighbors } from './selection.js';
import { EvaluationInterrupted, testTimeTrain } from './ttt.js';

export type { Method } from './settings.js';

export interface EvalOptions extends EvalOverrides {
  method: Method;
  model: CausalLM;
  tokenizer: BpeTokenizer;
  /** Needed by every method but dynamic evaluation. */
  retriever?: Retriever;
  data: string;
  tasks: string[] | 'pile_all';
  resultsDir: string;
  progress?: (line: string) => void;
  /** Called after each document (evaluated or reused) instead of a progress line: documents done, of how many, and what became of that document. */
  onDocument?: (done: number, total: number, detail: string) => void;
  /** Asked between documents and between training texts; true stops the run (results so far are kept). */
  shouldStop?: () => boolean;
}

/** The text a document's neighbours are retrieved with, and the tokens it is scored on. */
export interface SplitDocument {
  queryText: string;
  scoredText: string;
  scored: number[];
}

/**
 * With split text, the first half of the tokens (at most 1024) is decoded
 * into the query text and the rest into the scored text, which is tokenized
 * again as the harness does (eval_tttlm.py:168-178, :275-277).
 */
export function splitDocument(tokenizer: BpeTokenizer, text: string, splitText: boolean): SplitDocument {
  const tokens = tokenizer.encode(text);
  if (!splitText) return { queryText: text, scoredText: text, scored: tokens };
  const split = Math.min(Math.floor(tokens.length / 2), 1024);
  const scoredText = tokenizer.decode(tokens.slice(split));
  return { queryText: tokenizer.decode(tokens.slice(0, split)), scoredText, scored: tokenizer.encode(scoredText) };
}

/** Methods that fine-tune the model. */
const TRAINING: ReadonlySet<Method> = new Set(['ttt', 'dynamic', 'random']);

export async function runEvaluation(o: EvalOptions): Promise<{ evaluated: number; skipped: number }> {
  const progress = o.progress ?? ((line: string) => process.stderr.write(`${line}\n`));
  const shouldStop = o.shouldStop ?? (() => false);
  const { model, tokenizer } = o;
  const s = resolveSettings(o.method, model, o);
  lockResults(o.resultsDir, resultsLabel(s), s.rank); // one process per results directory, method and rank (results-lock.ts)
  if (s.method !== 'dynamic' && !o.retriever) throw new Error(`method ${s.method} needs the shard servers (--addresses, --token-file, --embedder)`);
  const eos = tokenizer.eosTokenId;
  if (eos === undefined) throw new Error('the tokenizer has no end-of-text token');
  const documents = await selectDocuments(o.data, { tasks: o.tasks, valPortion: s.valPortion, seed: s.seed, rank: s.rank, worldSize: s.worldSize, limit: s.docsPerTask });

  const training = TRAINING.has(s.method);
  const snapshot = training ? snapshotParameters(model.parameters.list()) : [];
  const optimizer = training ? new ScopedOptimizer(model, s, `${o.resultsDir}/${resultsLabel(s)}`, s.rank) : undefined;
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
  if (training) checkResumable(s, plan);
  if (optimizer && s.optimizerScope === 'run') optimizer.begin('run', plan.flatMap((p) => p.finished), o.resultsDir);
  model.training = false;
  const total = plan.reduce((n, p) => n + p.docs.length, 0);
  const state: EvaluationState = { model, tokenizer, retriever: o.retriever, eos, snapshot, optimizer, shouldStop };
  try {
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
    disposeAll(snapshot);
    optimizer?.dispose();
  }
  return { evaluated, skipped };
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

function describe(result: DocumentResult): string {
  if (result.retrieval_error) return `retrieval failed (${result.retrieval_error})`;
  const ll = result.loglikelihoods ?? result.alpha_loglikelihoods ?? [];
  const bpb = (x: number | undefined): string => (x === undefined ? '?' : (-x / result.bytes / Math.LN2).toFixed(3));
  const after = result.alpha_loglikelihoods ? Math.max(...ll) : ll.at(-1);
  return `bits/byte ${bpb(ll[0])} -> ${bpb(after)} (${result.neighbor_ids.length} neighbours)`;
}

/** A neighbour identical to the document (one of its texts: whole, or the scored part; or at distance 0): the leakage audit. */
export function isDuplicate(n: RetrievedNeighbor, ...documentTexts: string[]): boolean {
  return n.distance === 0 || documentTexts.includes(n.text);
}

/** What one evaluation process holds while it scores documents one after another. */
interface EvaluationState {
  model: CausalLM;
  tokenizer: BpeTokenizer;
  retriever: Retriever | undefined;
  /** The end-of-text id that prefixes the first scoring window. */
  eos: number;
  /** The weights every document starts from (training methods). */
  snapshot: readonly Tensor[];
  optimizer: ScopedOptimizer | undefined;
  shouldStop: () => boolean;
}

async function evaluateDocument(s: EvalSettings, doc: EvalDocument, state: EvaluationState): Promise<DocumentResult> {
  const { model, tokenizer, eos, snapshot, optimizer, shouldStop } = state;
  // A budget counts from here: retrieval, selection, training and evaluation.
  const deadline = s.budgetSeconds === undefined ? Infinity : performance.now() + s.budgetSeconds * 1000;
  const split = splitDocument(tokenizer, doc.text, s.splitText);
  const base: DocumentResult = {
    task: doc.task, doc_id: doc.id, method: s.method, bytes: countBytes(split.scoredText), words: countWords(split.scoredText), tokens: split.scored.length,
    retrieval_seconds: 0, neighbor_ids: [], neighbor_distances: [],
    ...(currentPrecision() === 'bf16' ? { precision: 'bf16' as const } : {}),
    ...(s.budgetSeconds === undefined ? {} : { budget_seconds: s.budgetSeconds }),
  };

  // Training texts / neighbours.
  let kept: RetrievedNeighbor[] = [];
  if (s.method !== 'dynamic') {
    const neighbors = await neighborsFor(s, doc, split, state, base);
    if (neighbors === undefined) return base; // retrieval failed: recorded in base
    kept = neighbors;
  }

  switch (s.method) {
    case 'ttt':
    case 'random':
    case 'dynamic': {
      // Dynamic evaluation trains on num_neighbors copies of the query text (eval_tttlm.py:202-203), tokenized again (:229).
      const texts = s.method === 'dynamic' ? Array.from({ length: s.numNeighbors }, () => split.queryText) : kept.map((n) => n.text);
      const trainTexts = texts.map((t) => tokenizer.encode(t));
      const curve = await testTimeTrain(model, optimizer!.optimizer, snapshot, split.scored, eos, trainTexts, s, shouldStop, deadline);
      return {
        ...base, loglikelihoods: curve.loglikelihoods, train_losses: curve.trainLosses, train_seconds: curve.trainSeconds, eval_seconds: curve.evalSeconds,
        score_seconds_before: curve.initialEvalSeconds, ...(s.budgetSeconds === undefined ? {} : { budget_stop: curve.budgetStop }),
      };
    }
    case 'context': {
      const neighborTokens = kept.map((n) => tokenizer.encode(n.text));
      if (s.contextMode === 'windows') {
        const loglikelihoods = Array.from({ length: neighborTokens.length + 1 }, (_, c) => contextLoglikelihood(model, split.scored, eos, neighborTokens.slice(0, c), s.scoreLength));
        return { ...base, loglikelihoods, context_neighbors: neighborTokens.length };
      }
      const plain = rollingLoglikelihood(model, split.scored, eos, s.scoreLength);
      const withContext = singleWindowContextLoglikelihood(model, split.scored, eos, neighborTokens, s.scoreLength, plain);
      return { ...base, loglikelihoods: [plain, withContext.loglikelihood], context_neighbors: withContext.neighbors };
    }
    case 'interpolation': {
      const knn = neighborUnigram(kept.map((n) => tokenizer.encode(n.text)), kept.map((n) => n.distance));
      return { ...base, alphas: ALPHAS, alpha_loglikelihoods: interpolationLoglikelihoods(model, split.scored, eos, knn, s.scoreLength) };
    }
  }
}

/**
 * The neighbours a document uses: retrieved (the k nearest, or K candidates
 * to select from, or random documents), duplicates of the document counted
 * (and dropped with --exclude-duplicates), the distance threshold applied,
 * then selected (selection.ts). Records what happened in `base`; undefined
 * when retrieval failed.
 */
async function neighborsFor(s: EvalSettings, doc: EvalDocument, split: SplitDocument, state: EvaluationState, base: DocumentResult): Promise<RetrievedNeighbor[] | undefined> {
  const retriever = state.retriever!;
  let retrieval: Retrieval;
  try {
    retrieval = s.method === 'random'
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
