// TTT-NN on downstream tasks, as the original runs a task document
// (eval_tttlm.py TTTLM.train, :268-308, and eval_tttlm, :360-384): the
// query text is the document's few-shot context (task.fewshot_context),
// its neighbours are retrieved, thresholded and trained on as for the
// Pile, and the task's own requests and metrics (_evaluate, :91-112) are
// recorded after 0..k neighbours. Documents are chosen as for the Pile
// (shuffled with random.Random(1216), the first val-portion, every
// world-size-th from the rank); one result line per document in
// <results>/tasks/<label>/<task>.rank<R>.jsonl, resumable.
//
// The few-shot examples are the harness's seeded sampler's (task.ts), so
// that TTT-NN at 0 neighbours is lm_eval.simple_evaluate's number; the
// original passed an unseeded random.Random() (eval_tttlm.py:87).
import { join } from 'node:path';
import { currentPrecision, type Tensor } from '../../engine/index.js';
import type { CausalLM } from '../../models/index.js';
import type { BpeTokenizer } from '../../tokenizers/index.js';
import { seededRandom } from '../../data/seeded-random.js';
import { shuffled, valPortionOf } from '../documents.js';
import { methodNamed } from '../methods/index.js';
import { documentKey, ScopedOptimizer } from '../optimizer-scope.js';
import { appendResult, finishedDocuments, type TaskResultLine } from '../results.js';
import { resultsLabel } from '../results-label.js';
import { lockResults } from '../results-lock.js';
import type { RetrievedNeighbor, Retriever } from '../retriever.js';
import { claimResultsDirectory } from '../run-record.js';
import { dataFingerprint, modelFingerprint, tokenizerFingerprint } from '../fingerprints.js';
import { resolveSettings, type EvalOverrides, type EvalSettings, type Method } from '../settings.js';
import { trainableWeights } from '../trainable.js';
import { EvaluationInterrupted, testTimeTrainWith } from '../ttt.js';
import { scoreRequests, type RequestResult } from './request-scoring.js';
import { HarnessTask, type TaskDocument } from './task.js';
import { documentMetrics, taskMetrics, type DocumentMetrics } from './task-metrics.js';

/** The methods that mean something on a task document, and why the others are refused. */
export const TASK_METHODS: Partial<Record<Method, string>> = {
  ttt: 'trains on the few-shot context\'s nearest neighbours',
  random: 'trains on random documents of the index',
  dynamic: 'trains on the few-shot context itself (it holds the question, never the answer)',
};
const REFUSED: Partial<Record<Method, string>> = {
  context: 'the in-context baseline puts neighbours before a document that fits one scoring window and scores its tokens; for a task the few-shot context is the prompt, and neighbours before it are not the original\'s baseline',
  interpolation: 'interpolation mixes the LM\'s next-token probabilities of a scored document with its neighbours\' unigrams, a perplexity baseline the original never applied to task requests',
};

/** Refuses a method that does not apply to task documents, saying why. */
export function checkTaskMethod(method: Method): void {
  if (!(method in TASK_METHODS)) throw new Error(`--method ${method} does not apply to downstream tasks: ${REFUSED[method] ?? 'not defined for task requests'}; use ${Object.keys(TASK_METHODS).join(', ')}`);
}

/** `--tasks super_glue`: the original's set (eval_tttlm.py:447-448) less record, whose metric needs a Python process_results. */
export const SUPER_GLUE = ['boolq', 'cb', 'copa', 'multirc', 'rte', 'wic', 'wsc'];

export interface TaskResult extends TaskResultLine {
  method: string;
  kind: 'task';
  output_type: string;
  num_fewshot: number;
  /** The task's metrics after 0..n training texts ("acc,none": 1, ...). */
  metrics: DocumentMetrics[];
  /** The requests' results after 0..n training texts (log-likelihoods and is_greedy, or generated text). */
  responses: RequestResult[][];
  /** Bytes of the query (the few-shot context). */
  query_bytes: number;
  neighbor_ids: number[];
  neighbor_distances: number[];
  retrieval_seconds: number;
  retrieval_error?: string;
  train_losses?: (number | null)[][];
  train_seconds?: number[];
  eval_seconds?: number[];
}

export interface TaskEvalOptions extends EvalOverrides {
  method: Method;
  model: CausalLM;
  tokenizer: BpeTokenizer;
  retriever?: Retriever;
  /** Task names (tasks/<name>.yaml) or YAML paths. */
  tasks: string[];
  /** Few-shot examples per document; undefined: the YAML's num_fewshot, else 0 (simple_evaluate's rule). */
  numFewshot?: number;
  /** Where relative data paths of the YAMLs point (--task-data). */
  taskData?: string;
  resultsDir: string;
  progress?: (line: string) => void;
  onDocument?: (done: number, total: number, detail: string) => void;
  shouldStop?: () => boolean;
  /** Add to a results directory made with other settings or inputs (run-record.ts), instead of refusing. */
  forceMix?: boolean;
}

/** The results directory of task evaluations under --results-dir (beside the Pile's method directories, which `tttnn report` reads). */
export function taskResultsDir(resultsDir: string): string {
  return join(resultsDir, 'tasks');
}

export async function runTaskEvaluation(o: TaskEvalOptions): Promise<{ evaluated: number; skipped: number }> {
  const { model, tokenizer } = o;
  const shouldStop = o.shouldStop ?? (() => false);
  const s = resolveSettings(o.method, model, o);
  const method = methodNamed(s.method);
  checkTaskMethod(s.method);
  if (s.selection !== 'knn') throw new Error(`--selection ${s.selection} is not supported for downstream tasks (the original's k nearest only)`);
  if (s.splitText && s.method !== 'dynamic') throw new Error('--split-text does not apply to a task document: its query is the few-shot context, and its requests are scored');
  const retriever = method.retrieval === 'none' ? undefined : o.retriever;
  if (method.retrieval !== 'none' && !retriever) throw new Error(`method ${s.method} needs the shard servers (--addresses, --token-file, --embedder)`);
  const dir = taskResultsDir(o.resultsDir);
  const label = resultsLabel(s);
  lockResults(dir, label, s.rank);

  // Every task is loaded and checked before anything trains.
  const plan = o.tasks.map((name) => {
    const task = HarnessTask.load(name, o.taskData);
    taskMetrics(task); // refuses a metric tttnn does not compute
    const shots = o.numFewshot ?? task.config.num_fewshot ?? 0;
    let docs = valPortionOf(shuffled(task.documents(shots), s.seed), s.valPortion);
    if (s.docsPerTask !== undefined) docs = docs.slice(0, s.docsPerTask);
    docs = docs.filter((_, i) => i % s.worldSize === s.rank);
    const path = join(dir, label, `${task.name}.rank${s.rank}.jsonl`);
    const { ids: done, precisions } = finishedDocuments(path);
    const other = [...precisions].find((p) => p !== currentPrecision());
    if (other) throw new Error(`${path}: its documents were evaluated in ${other}; resume with --precision ${other}, or use another --results-dir`);
    const finished = docs.filter((d) => done.has(d.id));
    if (method.trains && !(s.optimizerScope === 'document' && s.resetWeights) && docs.slice(0, finished.length).some((d) => !done.has(d.id))) {
      throw new Error(`${path}: its finished documents are not the first ones in evaluation order; with AdamW's moments carried between documents this run cannot resume it exactly`);
    }
    return { task, shots, docs, path, done, finished: finished.map((d) => documentKey(task.name, d.id)) };
  });

  // What these numbers depend on (run-record.ts): the settings, the few-shot counts, the task files and their data.
  const recorded = Object.fromEntries(Object.entries(s).filter(([k]) => k !== 'rank').map(([k, v]) => [k, typeof v === 'number' && !Number.isFinite(v) ? String(v) : v]));
  const tasksRecord = Object.fromEntries(plan.map((p) => [p.task.name, { num_fewshot: p.shots, file: dataFingerprint(p.task.config.file), data: Object.values(p.task.config.dataFiles).flat().map(dataFingerprint).join(',') }]));
  claimResultsDirectory(join(dir, label), {
    settings: { ...recorded, tasks: tasksRecord }, precision: currentPrecision(), model: modelFingerprint(model), tokenizer: tokenizerFingerprint(tokenizer),
    data: plan.map((p) => `${p.task.name}:${tasksRecord[p.task.name]!.data}`).join(';'), ...(retriever ? { retrieval: retriever.identity() } : {}),
  }, o.forceMix);
  const weights = method.trains ? trainableWeights(model, s) : undefined;
  const optimizer = weights ? new ScopedOptimizer(weights, s, join(dir, label), s.rank) : undefined;
  model.training = false;
  const total = plan.reduce((n, p) => n + p.docs.length, 0);
  let evaluated = 0;
  let skipped = 0;
  try {
    if (optimizer && s.optimizerScope === 'run') optimizer.begin('run', plan.flatMap((p) => p.finished), dir);
    for (const { task, shots, docs, path, done, finished } of plan) {
      if (optimizer && s.optimizerScope === 'task') optimizer.begin(task.name, finished, path);
      for (const doc of docs) {
        if (done.has(doc.id)) {
          skipped++;
          o.onDocument?.(evaluated + skipped, total, `${task.name} doc ${doc.id}: reused`);
          continue;
        }
        if (shouldStop()) throw new EvaluationInterrupted();
        const started = performance.now();
        const result = await evaluateTaskDocument(s, task, shots, doc, { model, tokenizer, retriever, optimizer, snapshot: weights?.snapshot, shouldStop });
        weights?.checkUnchanged(`${task.name} doc ${doc.id}`);
        const commit = (): void => appendResult(path, result);
        if (optimizer) optimizer.finish(task.name, documentKey(task.name, doc.id), commit);
        else commit();
        evaluated++;
        const first = result.metrics[0];
        const last = result.metrics.at(-1);
        const show = (m: DocumentMetrics | undefined): string => (m ? Object.entries(m).map(([k, v]) => `${k} ${Array.isArray(v) ? v[0].toFixed(2) : v}`).join(' ') : '?');
        const detail = `${task.name} doc ${doc.id}: ${result.retrieval_error ? `retrieval failed (${result.retrieval_error})` : `${show(first)} -> ${show(last)} (${result.neighbor_ids.length} neighbours)`} (${((performance.now() - started) / 1000).toFixed(1)} s)`;
        if (o.onDocument) o.onDocument(evaluated + skipped, total, detail);
        else (o.progress ?? ((line: string) => process.stderr.write(`${line}\n`)))(`eval ${s.method} ${detail}`);
      }
    }
  } finally {
    weights?.dispose();
    optimizer?.dispose();
  }
  return { evaluated, skipped };
}

interface TaskState {
  model: CausalLM;
  tokenizer: BpeTokenizer;
  retriever: Retriever | undefined;
  optimizer: ScopedOptimizer | undefined;
  snapshot: readonly Tensor[] | undefined;
  shouldStop: () => boolean;
}

async function evaluateTaskDocument(s: EvalSettings, task: HarnessTask, shots: number, doc: TaskDocument, state: TaskState): Promise<TaskResult> {
  const { model, tokenizer, retriever, optimizer } = state;
  const deadline = s.budgetSeconds === undefined ? Infinity : performance.now() + s.budgetSeconds * 1000;
  const base: TaskResult = {
    task: task.name, doc_id: doc.id, method: s.method, kind: 'task', output_type: task.config.output_type, num_fewshot: shots,
    metrics: [], responses: [], query_bytes: Buffer.byteLength(doc.context), neighbor_ids: [], neighbor_distances: [], retrieval_seconds: 0,
    ...(currentPrecision() === 'bf16' ? { precision: 'bf16' as const } : {}),
  };
  let neighbors: RetrievedNeighbor[] = [];
  if (retriever) {
    try {
      const retrieval = s.method === 'random'
        ? await retriever.randomDocuments(doc.context, s.numNeighbors, seededRandom(s.seed * 1_000_003 + doc.id))
        : await retriever.retrieve(doc.context, s.numNeighbors);
      base.retrieval_seconds = retrieval.seconds;
      neighbors = retrieval.neighbors.filter((n) => n.distance < s.distanceThreshold); // strict, as eval_tttlm.py:183
    } catch (error) {
      base.retrieval_error = (error as Error).message;
      return base;
    }
    base.neighbor_ids = neighbors.map((n) => n.id);
    base.neighbor_distances = neighbors.map((n) => n.distance);
  }
  const evaluate = (): { results: RequestResult[]; metrics: DocumentMetrics } => {
    const results = scoreRequests(model, tokenizer, doc.requests);
    return { results, metrics: documentMetrics(task, doc.doc, results) };
  };
  if (!optimizer || !state.snapshot) {
    const e = evaluate();
    return { ...base, metrics: [e.metrics], responses: [e.results] };
  }
  // Training texts: the neighbours (ttt, random), or num_neighbors copies of the context (dynamic evaluation).
  const texts = s.method === 'dynamic' ? Array.from({ length: s.numNeighbors }, () => doc.context) : neighbors.map((n) => n.text);
  const curve = await testTimeTrainWith(model, optimizer.optimizer, state.snapshot, evaluate, texts.map((t) => tokenizer.encode(t)), s, state.shouldStop, deadline);
  return {
    ...base,
    metrics: curve.evaluations.map((e) => e.metrics), responses: curve.evaluations.map((e) => e.results),
    train_losses: curve.trainLosses.map((l) => l.map((x) => (Number.isNaN(x) ? null : x))), train_seconds: curve.trainSeconds, eval_seconds: [curve.initialEvalSeconds, ...curve.evalSeconds],
  };
}
