// Aggregating result files: per task and method, the perplexity metrics
// after 0..k neighbours (log-likelihoods, bytes and words summed over
// documents, as lm-evaluation-harness aggregates), pile_all as the weighted
// mean of the tasks, and bootstrap intervals that resample documents.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { seededRandom } from '../data/seeded-random.js';
import { perplexityMetrics, type PerplexityMetrics } from '../eval/metrics.js';
import type { DocumentResult } from '../eval/results.js';
import { checkComparable, readRunRecord, type RunRecord } from '../eval/run-record.js';

export interface LoadedResults {
  dir: string;
  /** method -> task -> documents (all ranks merged, deduplicated by doc_id). */
  byMethod: Map<string, Map<string, DocumentResult[]>>;
  /** Lines that could not be used (malformed JSON, missing fields, non-finite values). */
  skippedLines: number;
  /** Documents found in more than one line (a rerun, or two ranks): the last line wins. */
  duplicateLines: number;
  /** One per bad line (`file:line: why`), and one per directory that mixes runs (--force-mix). */
  warnings: string[];
  /**
   * method -> task -> documents whose retrieval failed (a line with
   * `retrieval_error` and no curve): not bad lines, but left out of every
   * aggregate and counted. (The original's failed retrievals gave a length-1
   * curve that its median filter dropped silently, process_results.py:345-346.)
   */
  failedRetrievals: Map<string, Map<string, number>>;
  /** Results directory -> its run record (run.json), where the evaluation wrote one. */
  records: Map<string, RunRecord>;
  /** Results directory -> what its lines say ran there: the method (`ttt` for `ttt+sift@2s`), its selection when not the k nearest, and the budget. */
  configurations: Map<string, Configuration>;
}

/** What a results directory's lines record about how they were made (results-label.ts names the directory after it). */
export interface Configuration {
  method: string;
  selection?: string;
  budgetSeconds?: number;
}

/** A line that records a failed retrieval: an error and no curve (the document was not scored). */
export function isFailedRetrieval(r: Partial<DocumentResult>): boolean {
  return typeof r.retrieval_error === 'string' && r.loglikelihoods === undefined && r.alpha_loglikelihoods === undefined;
}

/** Why a parsed line cannot be used, or undefined when it can. */
function problemWith(r: Partial<DocumentResult>): string | undefined {
  if (typeof r.task !== 'string' || r.task === '') return 'no "task"';
  if (typeof r.doc_id !== 'number') return 'no numeric "doc_id"';
  if (isFailedRetrieval(r)) return undefined;
  if (!(typeof r.bytes === 'number' && r.bytes > 0)) return '"bytes" is not a positive number';
  if (!(typeof r.words === 'number' && r.words > 0)) return '"words" is not a positive number';
  const curve = r.loglikelihoods ?? r.alpha_loglikelihoods;
  if (!Array.isArray(curve) || curve.length === 0) return 'no "loglikelihoods" or "alpha_loglikelihoods"';
  if (!curve.every((v) => typeof v === 'number' && Number.isFinite(v))) return 'a log-likelihood is not a finite number';
  return undefined;
}

/**
 * Reads every <method>/<task>.rank<R>.jsonl under `dir` (the layout the
 * evaluation writes); a bad line is warned about, counted and skipped; a
 * failed retrieval is counted (after deduplication: a rerun that scored the
 * document replaces it) and kept out of `byMethod`.
 */
export function loadResults(dir: string): LoadedResults {
  const out: LoadedResults = { dir, byMethod: new Map(), skippedLines: 0, duplicateLines: 0, warnings: [], failedRetrievals: new Map(), configurations: new Map(), records: new Map() };
  if (!existsSync(dir)) throw new Error(`${dir}: no such results directory`);
  for (const method of readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort()) {
    const record = readRunRecord(join(dir, method));
    if (record) out.records.set(method, record);
    if (record?.mixed) out.warnings.push(`${join(dir, method)}: mixes runs made with other settings or inputs (--force-mix): ${record.mixed.map((m) => m.differences.join('; ')).join(' | ')}`);
    const tasks = new Map<string, Map<number, DocumentResult>>();
    for (const file of readdirSync(join(dir, method)).filter((f) => f.endsWith('.jsonl')).sort()) {
      const path = join(dir, method, file);
      readFileSync(path, 'utf8').split('\n').forEach((line, i) => {
        if (!line.trim()) return;
        let problem: string | undefined;
        let r: DocumentResult | undefined;
        try {
          r = JSON.parse(line) as DocumentResult;
          problem = typeof r === 'object' && r !== null ? problemWith(r) : 'not a JSON object';
        } catch (error) {
          problem = `not JSON (${(error as Error).message})`;
        }
        if (problem !== undefined || r === undefined) {
          out.skippedLines++;
          out.warnings.push(`${path}:${i + 1}: ${problem ?? 'unreadable'}; line skipped`);
          return;
        }
        if (!out.configurations.has(method) && typeof r.method === 'string') {
          out.configurations.set(method, { method: r.method, ...(r.selection ? { selection: r.selection } : {}), ...(r.budget_seconds !== undefined ? { budgetSeconds: r.budget_seconds } : {}) });
        }
        const docs = tasks.get(r.task) ?? tasks.set(r.task, new Map()).get(r.task)!;
        if (docs.has(r.doc_id)) out.duplicateLines++;
        docs.set(r.doc_id, r);
      });
    }
    const used = new Map<string, DocumentResult[]>();
    const failed = new Map<string, number>();
    for (const [task, docs] of [...tasks].sort(([a], [b]) => a.localeCompare(b))) {
      const all = [...docs.values()];
      const scored = all.filter((d) => !isFailedRetrieval(d));
      if (scored.length > 0) used.set(task, scored);
      if (scored.length < all.length) failed.set(task, all.length - scored.length);
    }
    if (used.size > 0) out.byMethod.set(method, used);
    if (failed.size > 0) out.failedRetrievals.set(method, failed);
  }
  checkComparable(dir, out.records);
  return out;
}

/** The log-likelihood curve a document contributes: 0..k neighbours; interpolation: one point per alpha. */
export function curveOf(r: DocumentResult): number[] {
  return r.loglikelihoods ?? r.alpha_loglikelihoods ?? [];
}

/** Longest curve among the documents (k + 1 for k neighbours). */
export function curveLength(docs: readonly DocumentResult[]): number {
  return docs.reduce((n, d) => Math.max(n, curveOf(d).length), 0);
}

/**
 * Perplexity metrics after 0..n-1 steps over `docs`; a document with a
 * shorter curve (fewer neighbours passed the distance threshold) keeps its
 * last value. (The original instead dropped documents whose curve length
 * differed from the median, process_results.py:345-346; `--median-filter`
 * does that first, see median-filter.ts; keeping them scores every document.)
 */
export function metricsCurve(docs: readonly DocumentResult[], steps = curveLength(docs)): PerplexityMetrics[] {
  let bytes = 0;
  let words = 0;
  for (const d of docs) {
    bytes += d.bytes;
    words += d.words;
  }
  return Array.from({ length: steps }, (_, i) => perplexityMetrics({ loglikelihood: loglikelihoodAt(docs, i), bytes, words }));
}

/** Summed log-likelihood of `docs` after `step` steps (a shorter curve keeps its last value). */
export function loglikelihoodAt(docs: readonly DocumentResult[], step: number): number {
  let sum = 0;
  for (const d of docs) {
    const c = curveOf(d);
    sum += c[Math.min(step, c.length - 1)] ?? 0;
  }
  return sum;
}

/** Bits per byte of `docs` at one step (the bootstrap's inner loop: O(documents)). */
export function bitsAt(docs: readonly DocumentResult[], step: number): number {
  return -loglikelihoodAt(docs, step) / docs.reduce((s, d) => s + d.bytes, 0) / Math.LN2;
}

/** Bits per byte of pile_all with each task at its own step (the same step for all, or interpolation's per-task alpha). */
export function pileAllBits(byTask: Map<string, DocumentResult[]>, weights: Record<string, number>, stepOf: (task: string) => number): number {
  return weightedMean(new Map([...byTask].map(([task, docs]) => [task, bitsAt(docs, stepOf(task))])), weights);
}

/** Bits per byte after 0..n-1 steps (see metricsCurve). */
export function bitsPerByteCurve(docs: readonly DocumentResult[], steps?: number): number[] {
  return metricsCurve(docs, steps).map((m) => m.bits_per_byte);
}

/** Weighted mean of per-task values (weights need not sum to 100; tasks without a weight are left out). */
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

/** The q-quantile of sorted values, interpolating linearly (numpy's default). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const at = q * (sorted.length - 1);
  const lo = Math.floor(at);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return (sorted[lo] as number) + (at - lo) * ((sorted[hi] as number) - (sorted[lo] as number));
}

/** A value with its 10%-90% bootstrap interval. */
export interface Estimate {
  value: number;
  low: number;
  high: number;
}

export interface BootstrapOptions {
  resamples?: number;
  seed?: number;
}

/**
 * 10%-90% bootstrap interval of a statistic (seeded, 1,000 resamples as the
 * original): each resample draws as many documents as there are, with
 * replacement, from all tasks together, so tasks with a single document
 * still vary (a task drawn no document is left out of that resample's
 * weighted mean). With one task this is the plain document bootstrap.
 */
export function bootstrapInterval(byTask: Map<string, DocumentResult[]>, statistic: (sample: Map<string, DocumentResult[]>) => number, options: BootstrapOptions = {}): [number, number] {
  const values = bootstrapReplicates(byTask, statistic, options);
  if (values.length === 0) return [NaN, NaN];
  values.sort((a, b) => a - b);
  return [quantile(values, 0.1), quantile(values, 0.9)];
}

/** The statistic on each resample bootstrapInterval draws (same seed, same resamples); none without documents. */
export function bootstrapReplicates(byTask: Map<string, DocumentResult[]>, statistic: (sample: Map<string, DocumentResult[]>) => number, options: BootstrapOptions = {}): number[] {
  const random = seededRandom(options.seed ?? 1216);
  const pooled = [...byTask.values()].flat();
  const values: number[] = [];
  if (pooled.length === 0) return values;
  for (let r = 0; r < (options.resamples ?? 1000); r++) {
    const sample = new Map<string, DocumentResult[]>();
    for (let i = 0; i < pooled.length; i++) {
      const doc = pooled[Math.floor(random() * pooled.length)] as DocumentResult;
      (sample.get(doc.task) ?? sample.set(doc.task, []).get(doc.task)!).push(doc);
    }
    values.push(statistic(sample));
  }
  return values;
}
