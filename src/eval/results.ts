// Result files: JSONL, one line per evaluated document, one file per method,
// task and rank (<results-dir>/<method>/<task>.rank<R>.jsonl), appended and
// flushed as each document finishes. A rerun skips the documents already
// there; a line cut short by a crash is ignored and its document redone.
import { closeSync, existsSync, fstatSync, fsyncSync, mkdirSync, openSync, readFileSync, readSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { withPath } from '../io/path-errors.js';
import type { CurveKind } from './methods/method.js';

export interface DocumentResult {
  task: string;
  doc_id: number;
  method: string;
  /** What the curve runs over (the method's report kind); absent in lines written before it was recorded. */
  kind?: CurveKind;
  /** UTF-8 bytes, words and tokens of the scored text. */
  bytes: number;
  words: number;
  tokens: number;
  /**
   * Log-likelihood (natural log) of the scored text after 0, 1, ..., n
   * training texts (ttt, dynamic, random). Context: [without neighbours, with
   * them] (two points; `context_neighbors` says how many were in the context).
   * Absent when retrieval failed (see `retrieval_error`).
   */
  loglikelihoods?: number[];
  /** Interpolation: log-likelihood at each alpha. */
  alphas?: number[];
  alpha_loglikelihoods?: number[];
  /** Per training text: the losses of its training steps (null where a window had no target, as the original's NaN). */
  train_losses?: (number | null)[][];
  /** Per training text: seconds of its training steps, and of the evaluation after them (the original's cost is their sum). */
  train_seconds?: number[];
  eval_seconds?: number[];
  /** Context: neighbours put in the context (0 when the document needs more than one scoring window, as the original). */
  context_neighbors?: number;
  retrieval_seconds: number;
  /** "bf16" when the model ran under bf16 mixed precision; absent for fp32 (as the original). */
  precision?: 'bf16';
  /** The neighbours used, nearest first, with plain (not squared) L2 distances to the query embedding. */
  neighbor_ids: number[];
  neighbor_distances: number[];
  /** Leakage audit: retrieved neighbours identical to the scored document's text or at distance 0 (before any exclusion). */
  duplicate_neighbors?: number;
  /** How many of those were dropped (--exclude-duplicates). */
  excluded_duplicates?: number;
  /**
   * Set when retrieval failed after its retries: the document has no curve
   * and aggregates leave it out (the original's failed retrievals gave a
   * length-1 curve that its median filter dropped); reports count them.
   */
  retrieval_error?: string;
  partial_retrieval?: boolean;
  /** Informative selection (absent: the original's k nearest): sift or random, among `candidate_count` retrieved within the distance threshold. */
  selection?: 'sift' | 'random';
  candidate_count?: number;
  selection_seconds?: number;
  /** Why selection picked no more: the count asked for, adaptive SIFT's alpha, or too few candidates. */
  selection_stop?: 'count' | 'alpha' | 'candidates';
  /** SIFT: the query's posterior variance after each pick. */
  selection_variances?: number[];
  /** Redundancy of the neighbours used: mean L2 distance between their stored vectors (pairs of picks), and pairs with the same text (a repeated pick included). */
  neighbor_mean_pairwise_distance?: number;
  duplicate_neighbor_pairs?: number;
  /** Seconds of the score before any training (training methods). */
  score_seconds_before?: number;
  /** --budget-seconds: the budget, and whether it cut the training short. */
  budget_seconds?: number;
  budget_stop?: boolean;
}

/** A downstream task's result line (tasks/task-runner.ts): read for resume by the same doc_id and precision fields. */
export interface TaskResultLine {
  task: string;
  doc_id: number;
  precision?: 'bf16';
}

export function resultPath(dir: string, method: string, task: string, rank: number): string {
  return join(dir, method, `${task}.rank${rank}.jsonl`);
}

/** What a result file already holds (complete lines only): its documents' ids, and the precisions they were evaluated in ("fp32" for lines without the field). */
export function finishedDocuments(path: string): { ids: Set<number>; precisions: Set<'fp32' | 'bf16'> } {
  const ids = new Set<number>();
  const precisions = new Set<'fp32' | 'bf16'>();
  if (!existsSync(path)) return { ids, precisions };
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      const result = JSON.parse(line) as DocumentResult;
      ids.add(result.doc_id);
      precisions.add(result.precision ?? 'fp32');
    } catch {
      // a line cut short by a crash: that document is evaluated again
    }
  }
  return { ids, precisions };
}

export function appendResult(path: string, result: DocumentResult | TaskResultLine): void {
  mkdirSync(dirname(path), { recursive: true });
  const fd = openSync(path, 'a+');
  try {
    // A file that ends inside a line (a crash mid-write) gets a newline first. Only its last
    // byte is read, so an append costs the same on a file of any length.
    const size = fstatSync(fd).size;
    const last = Buffer.alloc(1);
    const prefix = size > 0 && readSync(fd, last, 0, 1, size - 1) === 1 && last[0] !== 0x0a ? '\n' : '';
    const bytes = Buffer.from(`${prefix}${JSON.stringify(result)}\n`);
    const written = withPath(path, 'write', () => writeSync(fd, bytes));
    if (written !== bytes.length) throw new Error(`${path}: wrote ${written} of ${bytes.length} bytes of a result line (disk full?); the line is cut and a rerun redoes its document`);
    fsyncSync(fd); // the line is on disk before the run goes on to the next document
  } finally {
    closeSync(fd);
  }
}
