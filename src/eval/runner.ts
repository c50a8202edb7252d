// An evaluation process: one method over this rank's share of the test
// documents, task by task, one result line per document, resumable.
import { AdamW, snapshotParameters, disposeAll } from '../engine/index.js';
import type { CausalLM } from '../models/index.js';
import type { BpeTokenizer } from '../tokenizers/index.js';
import { contextLoglikelihood } from './context.js';
import { selectDocuments, type EvalDocument } from './documents.js';
import { ALPHAS, interpolationLoglikelihoods, neighborUnigram } from './interpolation.js';
import { countBytes, countWords } from './metrics.js';
import { appendResult, finishedDocuments, resultPath, type DocumentResult } from './results.js';
import type { Retrieval, Retriever } from './retriever.js';
import { testTimeTrain, type TttSettings } from './ttt.js';

export type Method = 'ttt' | 'context' | 'interpolation' | 'dynamic';

export interface EvalOptions {
  method: Method;
  model: CausalLM;
  tokenizer: BpeTokenizer;
  /** Needed by every method but dynamic evaluation. */
  retriever?: Retriever;
  data: string;
  tasks: string[] | 'pile_all';
  resultsDir: string;
  rank?: number;
  worldSize?: number;
  numNeighbors?: number;
  learningRate: number;
  adamEpsilon?: number;
  weightDecay?: number;
  maxLength?: number;
  stride?: number;
  distanceThreshold?: number;
  resetWeights?: boolean;
  resetOptimizer?: boolean;
  splitText?: boolean;
  valPortion?: number;
  seed?: number;
  gradClip?: number;
  /** At most this many documents per task for this rank. */
  docsPerTask?: number;
  progress?: (line: string) => void;
}

/** The tokens a document is scored on, and the text its neighbours are retrieved with. */
export function splitDocument(tokenizer: BpeTokenizer, text: string, splitText: boolean): { queryText: string; queryTokens: number[]; scored: number[]; scoredText: string } {
  const tokens = tokenizer.encode(text);
  if (!splitText) return { queryText: text, queryTokens: tokens, scored: tokens, scoredText: text };
  const half = Math.min(Math.floor(tokens.length / 2), 1024);
  const queryTokens = tokens.slice(0, half);
  const scored = tokens.slice(half);
  return { queryText: tokenizer.decode(queryTokens), queryTokens, scored, scoredText: tokenizer.decode(scored) };
}

export async function runEvaluation(o: EvalOptions): Promise<{ evaluated: number; skipped: number }> {
  const progress = o.progress ?? ((line: string) => process.stderr.write(`${line}\n`));
  const { model, tokenizer } = o;
  const rank = o.rank ?? 0;
  const k = o.numNeighbors ?? 50;
  const maxLength = o.maxLength ?? model.contextLength;
  const stride = o.stride ?? maxLength;
  if (maxLength > model.contextLength) throw new Error(`--max-length ${maxLength} is longer than the model's context (${model.contextLength})`);
  if (o.method !== 'dynamic' && !o.retriever) throw new Error(`method ${o.method} needs the shard servers (--addresses, --token-file, --embedder)`);
  const eos = tokenizer.eosTokenId;
  if (eos === undefined) throw new Error('the tokenizer has no end-of-text token');
  const threshold = o.distanceThreshold ?? 4.0;
  const documents = await selectDocuments(o.data, { tasks: o.tasks, valPortion: o.valPortion ?? 0.2, seed: o.seed ?? 1216, rank, worldSize: o.worldSize ?? 1, limit: o.docsPerTask });

  const training = o.method === 'ttt' || o.method === 'dynamic';
  const snapshot = training ? snapshotParameters(model.parameters.list()) : [];
  const optimizer = training ? new AdamW(model.parameters.list(), { lr: o.learningRate, eps: o.adamEpsilon ?? 1e-8, weightDecay: o.weightDecay ?? 0 }) : undefined;
  const settings = { maxLength, stride, gradClip: o.gradClip ?? 1.0, resetWeights: o.resetWeights ?? true, resetOptimizer: o.resetOptimizer ?? true, seed: o.seed ?? 1216 };
  let evaluated = 0;
  let skipped = 0;
  model.training = false;
  try {
    for (const [task, docs] of documents) {
      const path = resultPath(o.resultsDir, o.method, task, rank);
      const done = finishedDocuments(path);
      let position = 0;
      for (const doc of docs) {
        position++;
        if (done.has(doc.id)) {
          skipped++;
          continue;
        }
        const started = performance.now();
        const result = await evaluateDocument(o, doc, task, eos, k, threshold, maxLength, settings, snapshot, optimizer);
        appendResult(path, result);
        evaluated++;
        const ll = result.loglikelihoods ?? result.alpha_loglikelihoods ?? [];
        const bpb = (x: number | undefined): string => (x === undefined ? '?' : (-x / result.bytes / Math.LN2).toFixed(3));
        progress(`eval ${o.method} ${task} ${position}/${docs.length} doc ${doc.id}: bits/byte ${bpb(ll[0])} -> ${bpb(o.method === 'interpolation' ? Math.max(...ll) : ll.at(-1))} (${result.neighbor_ids.length} neighbours, ${((performance.now() - started) / 1000).toFixed(1)} s)`);
      }
    }
  } finally {
    disposeAll(snapshot);
  }
  return { evaluated, skipped };
}

async function evaluateDocument(
  o: EvalOptions,
  doc: EvalDocument,
  task: string,
  eos: number,
  k: number,
  threshold: number,
  maxLength: number,
  settings: TttSettings,
  snapshot: ReturnType<typeof snapshotParameters>,
  optimizer: AdamW | undefined,
): Promise<DocumentResult> {
  const { model, tokenizer } = o;
  const split = splitDocument(tokenizer, doc.text, o.splitText ?? false);
  const base: DocumentResult = {
    task, doc_id: doc.id, method: o.method, bytes: countBytes(split.scoredText), words: countWords(split.scoredText), tokens: split.scored.length,
    retrieval_seconds: 0, neighbor_ids: [], neighbor_distances: [],
  };
  let neighborTokens: number[][] = [];
  let distances: number[] = [];
  if (o.method === 'dynamic') {
    neighborTokens = Array.from({ length: k }, () => split.queryTokens);
  } else {
    let retrieval: Retrieval | undefined;
    try {
      retrieval = await o.retriever!.retrieve(split.queryText, k);
    } catch (error) {
      base.retrieval_error = (error as Error).message;
    }
    if (retrieval) {
      const kept = retrieval.neighbors.filter((n) => n.distance <= threshold);
      base.retrieval_seconds = retrieval.seconds;
      base.neighbor_ids = kept.map((n) => n.id);
      base.neighbor_distances = kept.map((n) => n.distance);
      if (retrieval.partial) base.partial_retrieval = true;
      neighborTokens = kept.map((n) => tokenizer.encode(n.text));
      distances = kept.map((n) => n.distance);
    }
  }
  switch (o.method) {
    case 'ttt':
    case 'dynamic': {
      const curve = testTimeTrain(model, optimizer!, snapshot, split.scored, eos, neighborTokens, settings);
      return { ...base, loglikelihoods: curve.loglikelihoods, train_losses: curve.trainLosses, train_seconds: curve.trainSeconds };
    }
    case 'context': {
      const loglikelihoods = Array.from({ length: neighborTokens.length + 1 }, (_, c) => contextLoglikelihood(model, split.scored, eos, neighborTokens.slice(0, c), maxLength));
      return { ...base, loglikelihoods };
    }
    case 'interpolation': {
      const knn = neighborUnigram(neighborTokens, distances);
      return { ...base, alphas: ALPHAS, alpha_loglikelihoods: interpolationLoglikelihoods(model, split.scored, eos, knn, maxLength) };
    }
  }
}

