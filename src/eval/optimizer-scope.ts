// Who owns AdamW's moments during an evaluation, and how a resumed run gets
// exactly the moments an uninterrupted run would have had.
//
// The original creates one AdamW per task (eval_tttlm.py:82, one TTTLM per
// task at :466) and never resets its moments between documents: document i
// of a task is trained with moments left by documents 0..i-1 (the weights
// are restored, the moments are not). Scopes:
//   task      the original's: one AdamW per task (default);
//   document  fresh moments for every document (documents independent);
//   run       one AdamW for every task of the run.
//
// Resume. With `document` nothing carries over, so a rerun simply skips the
// finished documents. With `task` and `run` the moments after every
// document are saved (<results>/<method>/optimizer.rank<R>[.<task>].safetensors,
// with the number and a hash of the documents they include), so a rerun
// continues with the moments of the last finished document. The state is
// written to a temporary file before the result line is appended and renamed
// after, so a crash between the two is recovered from either file. When no
// saved state matches the finished documents (deleted, or results from an
// older version), the rerun stops with an error instead of silently
// continuing with other moments.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { AdamW, type Tensor } from '../engine/index.js';
import { readSafetensorsHeader } from '../io/safetensors.js';
import { loadOptimizerMoments, saveOptimizerMoments } from '../train/checkpoints.js';
import type { EvalSettings, OptimizerScope } from './settings.js';

/** A finished document as the optimizer saw it: "<task>/<doc id>". */
export type DocumentKey = string;
export const documentKey = (task: string, id: number): DocumentKey => `${task}/${id}`;

function fingerprint(keys: readonly DocumentKey[]): Record<string, string> {
  return { documents_count: String(keys.length), documents_sha256: createHash('sha256').update(keys.join('\n')).digest('hex') };
}

export class ScopedOptimizer {
  readonly optimizer: AdamW;
  readonly scope: OptimizerScope;
  /** Documents whose training the current moments include, in order. */
  private trained: DocumentKey[] = [];
  private readonly names: string[];

  constructor(
    /** What AdamW updates: every weight, or a LoRA adapter (trainable.ts). */
    weights: { names(): string[]; list(): Tensor[] },
    settings: EvalSettings,
    /** <results>/<method>: where the state files go. */
    private readonly methodDir: string,
    private readonly rank: number,
  ) {
    this.scope = settings.optimizerScope;
    this.names = weights.names();
    this.optimizer = new AdamW(weights.list(), { lr: settings.learningRate, eps: settings.adamEpsilon, betas: settings.adamBetas, weightDecay: settings.weightDecay });
  }

  /** The state file of `task` (task scope) or of the run. */
  statePath(task: string): string {
    return join(this.methodDir, this.scope === 'run' ? `optimizer.rank${this.rank}.safetensors` : `optimizer.rank${this.rank}.${task}.safetensors`);
  }

  private temporaryPath(task: string): string {
    const path = this.statePath(task);
    return join(dirname(path), `${basename(path)}.pending`);
  }

  /**
   * Called before the first document of a task (scope task), or once before
   * the run (scope run, with task "run"), with the documents this scope's
   * moments must already include, in evaluation order. Loads the matching
   * saved state, or resets when there are none.
   */
  begin(task: string, finished: readonly DocumentKey[], resultsFile: string): void {
    if (this.scope === 'document') return;
    if (finished.length === 0) {
      this.optimizer.reset();
      this.trained = [];
      return;
    }
    const want = fingerprint(finished);
    for (const path of [this.statePath(task), this.temporaryPath(task)]) {
      if (!existsSync(path)) continue;
      const metadata = readSafetensorsHeader(path).metadata;
      if (metadata['documents_count'] !== want['documents_count'] || metadata['documents_sha256'] !== want['documents_sha256']) continue;
      loadOptimizerMoments(path, this.names, this.optimizer);
      if (path !== this.statePath(task)) renameSync(path, this.statePath(task));
      this.trained = [...finished];
      return;
    }
    throw new Error(
      `cannot resume ${task} exactly: ${finished.length} document(s) are finished (${resultsFile}) but no saved optimizer state ` +
        `(${this.statePath(task)}) holds the moments after them. With --optimizer-scope ${this.scope} (the original's is task) ` +
        "AdamW's moments carry over from one document to the next, so fresh moments would give other numbers than an uninterrupted run. " +
        `Delete ${this.scope === 'run' ? 'the results directory of this method' : resultsFile} to redo it, or rerun with --optimizer-scope document --force-mix (fresh moments per document from here on; the directory then records that it mixes the two).`,
    );
  }

  /**
   * After a document: saves the moments (task and run scopes), calls
   * `commit` (which appends the result line), then makes the saved state
   * current; with scope document, forgets the moments.
   */
  finish(task: string, key: DocumentKey, commit: () => void): void {
    if (this.scope === 'document') {
      commit();
      this.optimizer.reset();
      return;
    }
    this.trained.push(key);
    const pending = this.temporaryPath(task);
    mkdirSync(dirname(pending), { recursive: true });
    saveOptimizerMoments(pending, this.names, this.optimizer, fingerprint(this.trained));
    commit();
    renameSync(pending, this.statePath(task));
  }

  /** Frees the moments. */
  dispose(): void {
    this.optimizer.reset();
  }
}
