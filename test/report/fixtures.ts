// Synthetic result lines for the report's tests: documents whose bits per
// byte are chosen, so aggregates have closed forms.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DocumentResult } from '../../src/eval/results.js';

/** The log-likelihood that gives `bitsPerByte` over `bytes`. */
export const ll = (bitsPerByte: number, bytes = 100): number => -bitsPerByte * bytes * Math.LN2;

/** A scored document of 100 bytes with the given bits per byte after 0..k steps. */
export function scored(method: string, task: string, id: number, bits: readonly number[], extra: Partial<DocumentResult> = {}): DocumentResult {
  return {
    task,
    doc_id: id,
    method,
    bytes: 100,
    words: 20,
    tokens: 25,
    loglikelihoods: bits.map((b) => ll(b)),
    retrieval_seconds: 0.5,
    neighbor_ids: bits.slice(1).map((_, i) => i),
    neighbor_distances: bits.slice(1).map(() => 1),
    ...extra,
  };
}

/** A document whose retrieval failed: an error and no curve, as the evaluation now writes it. */
export function failed(method: string, task: string, id: number): DocumentResult {
  return { task, doc_id: id, method, bytes: 100, words: 20, tokens: 25, retrieval_seconds: 3, neighbor_ids: [], neighbor_distances: [], retrieval_error: 'fleet unreachable after 3 tries' };
}

/** An interpolation document with the given bits per byte at each alpha. */
export function interpolated(task: string, id: number, alphas: readonly number[], bits: readonly number[]): DocumentResult {
  return { task, doc_id: id, method: 'interpolation', bytes: 100, words: 20, tokens: 25, alphas: [...alphas], alpha_loglikelihoods: bits.map((b) => ll(b)), retrieval_seconds: 0.5, neighbor_ids: [1], neighbor_distances: [1] };
}

export function writeLines(root: string, method: string, file: string, docs: readonly DocumentResult[]): void {
  mkdirSync(join(root, method), { recursive: true });
  writeFileSync(join(root, method, file), docs.map((d) => `${JSON.stringify(d)}\n`).join(''));
}

export function writeWeights(root: string, weights: Record<string, number>): string {
  mkdirSync(root, { recursive: true });
  const path = join(root, 'weights.json');
  writeFileSync(path, JSON.stringify(weights));
  return path;
}

export const close = (a: number | undefined, b: number, tolerance = 1e-12): boolean => a !== undefined && Math.abs(a - b) <= tolerance;
