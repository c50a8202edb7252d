// Aggregating result files: per task and method, bits per byte after 0..k
// neighbours (log-likelihoods and bytes summed over documents, as
// lm-evaluation-harness aggregates), pile_all as the weighted mean of the
// tasks, and bootstrap intervals that resample documents.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { seededRandom } from '../data/corpus/dm-mathematics.js';
import type { DocumentResult } from '../eval/results.js';

export interface LoadedResults {
  /** method -> task -> documents (deduplicated by id). */
  byMethod: Map<string, Map<string, DocumentResult[]>>;
  skippedLines: number;
  warnings: string[];
}

/** Reads every <method>/<task>.rank<R>.jsonl under `dir`; a bad line is warned about and skipped. */
export function loadResults(dir: string): LoadedResults {
  const out: LoadedResults = { byMethod: new Map(), skippedLines: 0, warnings: [] };
  if (!existsSync(dir)) throw new Error(`${dir}: no results directory`);
  for (const method of readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort()) {
    const tasks = new Map<string, Map<number, DocumentResult>>();
    for (const file of readdirSync(join(dir, method)).filter((f) => f.endsWith('.jsonl')).sort()) {
      readFileSync(join(dir, method, file), 'utf8').split('\n').forEach((line, i) => {
        if (!line.trim()) return;
        try {
          const r = JSON.parse(line) as DocumentResult;
          if (typeof r.task !== 'string' || typeof r.doc_id !== 'number' || !(r.bytes > 0)) throw new Error('missing task, doc_id or bytes');
          (tasks.get(r.task) ?? tasks.set(r.task, new Map()).get(r.task)!).set(r.doc_id, r);
        } catch (error) {
          out.skippedLines++;
          out.warnings.push(`${join(dir, method, file)}:${i + 1}: ${(error as Error).message}; line skipped`);
        }
      });
    }
    out.byMethod.set(method, new Map([...tasks].map(([t, docs]) => [t, [...docs.values()]])));
  }
  return out;
}

/** The log-likelihood curve a document contributes: 0..k neighbours; interpolation: one point per alpha. */
export function curveOf(r: DocumentResult): number[] {
  return r.loglikelihoods ?? r.alpha_loglikelihoods ?? [];
}

/**
 * Bits per byte after 0..n steps over `docs`; a document with a shorter
 * curve (fewer neighbours passed the threshold) keeps its last value.
 */
export function bitsPerByteCurve(docs: readonly DocumentResult[], steps?: number): number[] {
  const n = steps ?? Math.max(0, ...docs.map((d) => curveOf(d).length));
  const bytes = docs.reduce((s, d) => s + d.bytes, 0);
  return Array.from({ length: n }, (_, i) => {
    const ll = docs.reduce((s, d) => {
      const c = curveOf(d);
      return s + (c[Math.min(i, c.length - 1)] ?? 0);
    }, 0);
    return -ll / bytes / Math.LN2;
  });
}

/** Weighted mean of per-task values (weights need not sum to 100; missing tasks are left out). */
export function weightedMean(values: Map<string, number>, weights: Record<string, number>): number {
  let sum = 0;
  let total = 0;
  for (const [task, value] of values) {
    const w = weights[task] ?? 0;
    sum += w * value;
    total += w;
  }
  return total === 0 ? NaN : sum / total;
}

/**
 * 10%-90% bootstrap interval of a statistic (seeded): each resample draws as
 * many documents as there are, with replacement, from all tasks together,
 * so tasks with a single document still vary (a task drawn no document is
 * left out of that resample's weighted mean).
 */
export function bootstrapInterval(byTask: Map<string, DocumentResult[]>, statistic: (sample: Map<string, DocumentResult[]>) => number, resamples = 1000, seed = 1216): [number, number] {
  const random = seededRandom(seed);
  const pooled = [...byTask.values()].flat();
  const values: number[] = [];
  for (let r = 0; r < resamples; r++) {
    const sample = new Map<string, DocumentResult[]>();
    for (let i = 0; i < pooled.length; i++) {
      const doc = pooled[Math.floor(random() * pooled.length)] as DocumentResult;
      (sample.get(doc.task) ?? sample.set(doc.task, []).get(doc.task)!).push(doc);
    }
    values.push(statistic(sample));
  }
  values.sort((a, b) => a - b);
  return [values[Math.floor(0.1 * (values.length - 1))] as number, values[Math.floor(0.9 * (values.length - 1))] as number];
}
