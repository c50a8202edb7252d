// Result files: JSONL, one line per evaluated document, one file per method,
// task and rank (<results-dir>/<method>/<task>.rank<R>.jsonl), appended and
// flushed as each document finishes. A rerun skips the documents already
// there; a line cut short by a crash is ignored and its document redone.
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface DocumentResult {
  task: string;
  doc_id: number;
  method: string;
  /** UTF-8 bytes, words and tokens of the scored text. */
  bytes: number;
  words: number;
  tokens: number;
  /** Log-likelihood (natural log) of the scored text after 0, 1, ..., k neighbours (TTT, dynamic, context). */
  loglikelihoods?: number[];
  /** Interpolation: log-likelihood at each alpha. */
  alphas?: number[];
  alpha_loglikelihoods?: number[];
  /** Per neighbour: the losses of its training steps, and its training seconds. */
  train_losses?: number[][];
  train_seconds?: number[];
  retrieval_seconds: number;
  neighbor_ids: number[];
  neighbor_distances: number[];
  /** Set when retrieval failed after its retries: the document was scored without neighbours. */
  retrieval_error?: string;
  partial_retrieval?: boolean;
}

export function resultPath(dir: string, method: string, task: string, rank: number): string {
  return join(dir, method, `${task}.rank${rank}.jsonl`);
}

/** Ids of the documents already in a result file (complete lines only). */
export function finishedDocuments(path: string): Set<number> {
  const done = new Set<number>();
  if (!existsSync(path)) return done;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      done.add((JSON.parse(line) as DocumentResult).doc_id);
    } catch {
      // a line cut short by a crash: that document is evaluated again
    }
  }
  return done;
}

export function appendResult(path: string, result: DocumentResult): void {
  mkdirSync(join(path, '..'), { recursive: true });
  // A file that ends inside a line (a crash mid-write) gets a newline first.
  if (existsSync(path)) {
    const text = readFileSync(path, 'utf8');
    if (text.length > 0 && !text.endsWith('\n')) appendFileSync(path, '\n');
  }
  appendFileSync(path, `${JSON.stringify(result)}\n`);
}
