// The report's numbers in lm-evaluation-harness's own output format, so a
// harness user's tooling (utils.make_table, the results loaders, anything
// reading results_<date>.json and samples_<task>_<date>.jsonl) takes them
// as they are. One harness "model" per method (and run): the method's
// numbers after its last neighbour (interpolation: each task's best alpha,
// as the report's headline), per Pile task and pile_all.
//
// Meanings are the harness's (lm_eval/tasks/pile/pile_arxiv.yaml,
// lm_eval/api/metrics.py): word_perplexity and byte_perplexity are
// weighted_perplexity = exp(-sum ll / sum words|bytes); bits_per_byte is
// -sum ll / sum bytes / ln 2; sums run over a task's documents. Keys are
// "<metric>,none" (filter "none", as loglikelihood_rolling tasks have).
// pile_all is the weighted mean of the tasks (tttlm's), listed as a group.
//
// Stderr: the harness has no stderr function for weighted_perplexity and
// bits_per_byte and writes "N/A" (evaluator_utils.py, stderr_for_metric);
// tttnn writes the bootstrap standard error as the harness's
// bootstrap_stderr defines it for the metrics it bootstraps — the sample
// standard deviation of the aggregate over resamples of documents with
// replacement — with the report's resamples and seed ("N/A" below two
// documents, as the harness). The "tttnn" key (an extension the harness
// ignores) says so, and holds the per-neighbour-count curves, the 10-90 %
// intervals and the weights.
import { createHash } from 'node:crypto';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PileDocument } from '../data/jsonl.js';
import { perplexityMetrics, type PerplexityMetrics } from '../eval/metrics.js';
import type { DocumentResult } from '../eval/results.js';
import { RUN_RECORD_FILE, type RunRecord } from '../eval/run-record.js';
import { bootstrapReplicates, curveOf, weightedMean, type LoadedResults } from './aggregate.js';
import { documentsById } from './document-texts.js';
import { filterCurves, type MethodSummary, type ReportSummary, type RunInput } from './summary.js';

const METRICS = ['word_perplexity', 'byte_perplexity', 'bits_per_byte'] as const;
type Metric = (typeof METRICS)[number];
/** The version lm-evaluation-harness's Pile tasks carry (tasks/pile/pile_arxiv.yaml metadata.version). */
const PILE_TASK_VERSION = 2.0;

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

/** The harness's datetime id: datetime.now().isoformat() with ':' replaced by '-' (microseconds, no zone). */
export function harnessDateId(date: Date): string {
  const pad = (n: number, width = 2): string => String(n).padStart(width, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}-${pad(date.getMinutes())}-${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}000`;
}

/** A harness model directory name: its sanitize_model_name ("/" -> "__", ":" -> "-"... kept simple: anything else unsafe -> "_"). */
function sanitize(label: string): string {
  return label.replace(/\//g, '__').replace(/[^A-Za-z0-9._+@-]/g, '_');
}

const FLOAT_MARK = '@@tttnn-float@@';

/**
 * A number the harness has as a Python float (a metric, a task version, the
 * date): written 2.0 when whole, not 2, so that Python reads a float again —
 * make_table formats floats to 4 decimals and prints an int as it is.
 */
class PythonFloat {
  constructor(readonly value: number) {}

  toJSON(): number | string {
    return Number.isInteger(this.value) ? `${FLOAT_MARK}${this.value}` : this.value;
  }
}

/** JSON.stringify(value, null, 2) with PythonFloat's whole numbers written as floats. */
function pythonFloatJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(new RegExp(`"${FLOAT_MARK}(-?\\d+)"`, 'g'), '$1.0');
}

/** Sample standard deviation (the harness's sample_stddev). */
function sampleStddev(values: readonly number[]): number {
  const mu = values.reduce((s, v) => s + v, 0) / values.length;
  return Math.sqrt(values.reduce((s, v) => s + (v - mu) ** 2, 0) / (values.length - 1));
}

/** A task's metrics over `docs` after `step` (a shorter curve keeps its last value, as the report). */
function metricsAt(docs: readonly DocumentResult[], step: number): PerplexityMetrics {
  let loglikelihood = 0;
  let bytes = 0;
  let words = 0;
  for (const d of docs) {
    const c = curveOf(d);
    loglikelihood += c[Math.min(step, c.length - 1)] ?? 0;
    bytes += d.bytes;
    words += d.words;
  }
  return perplexityMetrics({ loglikelihood, bytes, words });
}

/** pile_all of one metric: the weighted mean of the tasks present, each at its own step. */
function pileAllMetric(byTask: Map<string, DocumentResult[]>, weights: Record<string, number>, stepOf: (task: string) => number, metric: Metric): number {
  return weightedMean(new Map([...byTask].map(([task, docs]) => [task, metricsAt(docs, stepOf(task))[metric]])), weights);
}

/** A results entry: "<metric>,none" and "<metric>_stderr,none" for the three metrics. */
function entry(alias: string, value: (metric: Metric) => number, stderr: (metric: Metric) => number | 'N/A'): Record<string, unknown> {
  const out: Record<string, unknown> = { alias };
  for (const metric of METRICS) {
    out[`${metric},none`] = new PythonFloat(value(metric));
    const se = stderr(metric);
    out[`${metric}_stderr,none`] = se === 'N/A' ? se : new PythonFloat(se);
  }
  return out;
}

/** The harness's task config for a Pile task (tasks/pile/pile_arxiv.yaml), naming what tttnn evaluated. */
function taskConfig(task: string, m: MethodSummary): Record<string, unknown> {
  return {
    task,
    dataset_path: 'tttnn results',
    dataset_name: task,
    output_type: 'loglikelihood_rolling',
    test_split: 'test',
    doc_to_text: '',
    doc_to_target: '{{text}}',
    target_delimiter: ' ',
    fewshot_delimiter: '\n\n',
    num_fewshot: 0,
    metric_list: METRICS.map((metric) => ({ metric, aggregation: metric === 'bits_per_byte' ? 'bits_per_byte' : 'weighted_perplexity', higher_is_better: false })),
    should_decontaminate: false,
    metadata: { version: new PythonFloat(PILE_TASK_VERSION), tttnn_method: m.method, tttnn_kind: m.kind },
  };
}

export interface HarnessExport {
  /** The method's results file, and one samples file per task with --log-samples. */
  files: string[];
}

export interface HarnessOptions {
  out: string;
  date: Date;
  /** tttnn's git commit, or null (the harness's git_hash). */
  gitHash: string | null;
  /** The test data file the evaluation read: writes samples_<task>_<date>.jsonl with each document. */
  logSamples?: { data: string };
}

/** Writes lm-eval/<method>/results_<date>.json (and samples) for every method of the report. */
export async function writeHarnessResults(summary: ReportSummary, runs: readonly RunInput[], options: HarnessOptions): Promise<string[]> {
  const dateId = harnessDateId(options.date);
  const files: string[] = [];
  const texts = options.logSamples ? await documentsById(options.logSamples.data, runs) : undefined;
  for (const m of summary.methods) {
    const loaded = runs.find((r) => r.label === m.run)?.loaded ?? runs[0]!.loaded;
    const byTask = filterCurves({ loaded: loaded.byMethod.get(m.method) ?? new Map<string, DocumentResult[]>(), failed: loaded.failedRetrievals.get(m.method) ?? new Map<string, number>() }, summary.medianFilter).byTask;
    if (byTask.size === 0) continue;
    const dir = join(options.out, 'lm-eval', sanitize(m.label));
    mkdirSync(dir, { recursive: true });
    const record = loaded.records.get(m.method);
    const stepOf = (task: string): number => m.tasks.find((t) => t.task === task)?.afterStep ?? m.afterStep;
    const samples = new Map<string, Record<string, unknown>[]>();
    if (texts) {
      for (const [task, docs] of byTask) samples.set(task, docs.map((d) => harnessSample(d, texts.get(d.doc_id), stepOf(task), options.logSamples!.data)));
      for (const [task, list] of samples) {
        const path = join(dir, `samples_${task}_${dateId}.jsonl`);
        writeFileSync(path, list.map((s) => `${JSON.stringify(s)}\n`).join(''));
        files.push(path);
      }
    }
    const path = join(dir, `results_${dateId}.json`);
    writeFileSync(path, `${pythonFloatJson(harnessResults(m, byTask, summary, loaded, record, stepOf, samples, options))}\n`);
    files.push(path);
  }
  return files;
}

/** The results file of one method, in the harness's schema (evaluator.py, evaluation_tracker.py). */
function harnessResults(
  m: MethodSummary,
  byTask: Map<string, DocumentResult[]>,
  summary: ReportSummary,
  loaded: LoadedResults,
  record: RunRecord | undefined,
  stepOf: (task: string) => number,
  samples: Map<string, Record<string, unknown>[]>,
  options: HarnessOptions,
): Record<string, unknown> {
  const { bootstrap, weights } = summary;
  const tasks = [...byTask.keys()];
  const stderrOf = (docs: Map<string, DocumentResult[]>, documents: number, statistic: (sample: Map<string, DocumentResult[]>, metric: Metric) => number) => (metric: Metric): number | 'N/A' =>
    documents < 2 || bootstrap.resamples < 2 ? 'N/A' : sampleStddev(bootstrapReplicates(docs, (sample) => statistic(sample, metric), bootstrap));
  const results: Record<string, unknown> = {};
  const pileAll = entry(
    'pile_all',
    (metric) => pileAllMetric(byTask, weights, stepOf, metric),
    stderrOf(byTask, [...byTask.values()].reduce((n, d) => n + d.length, 0), (sample, metric) => pileAllMetric(sample, weights, stepOf, metric)),
  );
  results['pile_all'] = pileAll;
  for (const task of tasks) {
    const docs = byTask.get(task)!;
    results[task] = entry(task, (metric) => metricsAt(docs, stepOf(task))[metric], stderrOf(new Map([[task, docs]]), docs.length, (sample, metric) => metricsAt(sample.get(task) ?? [], stepOf(task))[metric]));
  }
  const higherIsBetter = Object.fromEntries(METRICS.map((metric) => [metric, false]));
  const curveEntries = (metricsCurve: PerplexityMetrics[], xs?: number[]): Record<string, number>[] =>
    metricsCurve.map((point, step) => ({ ...(xs ? { alpha: xs[step]! } : { step }), ...point }));
  const secondsOf = (d: DocumentResult): number => d.retrieval_seconds + (d.train_seconds ?? []).reduce((s, v) => s + v, 0) + (d.eval_seconds ?? []).reduce((s, v) => s + v, 0);
  const all = [...byTask.values()].flat();
  const runJson = record ? join(loaded.dir, m.method, RUN_RECORD_FILE) : undefined;
  return {
    results,
    groups: { pile_all: pileAll },
    group_subtasks: { pile_all: tasks },
    configs: Object.fromEntries(tasks.map((task) => [task, taskConfig(task, m)])),
    versions: { pile_all: 'N/A', ...Object.fromEntries(tasks.map((task) => [task, new PythonFloat(PILE_TASK_VERSION)])) },
    'n-shot': Object.fromEntries(tasks.map((task) => [task, 0])),
    higher_is_better: { pile_all: higherIsBetter, ...Object.fromEntries(tasks.map((task) => [task, higherIsBetter])) },
    'n-samples': Object.fromEntries(
      tasks.map((task) => {
        const t = m.tasks.find((s) => s.task === task);
        const effective = byTask.get(task)!.length;
        return [task, { original: effective + (t?.droppedByMedianFilter ?? 0) + (t?.failedRetrievals ?? 0), effective }];
      }),
    ),
    config: {
      model: `tttnn/${m.method}`,
      model_args: { method: m.method, ...(record ? { model_sha256: record.model, tokenizer_sha256: record.tokenizer, data: record.data, precision: record.precision, ...(record.retrieval ? { embedder_sha256: record.retrieval.embedder, index: record.retrieval.index } : {}), ...record.settings } : {}) },
      batch_size: 1,
      batch_sizes: [],
      device: null,
      use_cache: null,
      limit: null,
      bootstrap_iters: bootstrap.resamples,
      gen_kwargs: null,
      random_seed: typeof record?.settings['seed'] === 'number' ? record.settings['seed'] : null,
      numpy_seed: null,
      torch_seed: null,
      fewshot_seed: null,
    },
    git_hash: options.gitHash,
    // When the evaluation began: its run.json is written by the first process that evaluates into the directory.
    date: new PythonFloat(runJson ? statSync(runJson).mtimeMs / 1000 : options.date.getTime() / 1000),
    task_hashes: Object.fromEntries([...samples].map(([task, list]) => [task, sha256(list.map((s) => `${String(s['doc_hash'])}${String(s['prompt_hash'])}${String(s['target_hash'])}`).join(''))])),
    model_source: 'tttnn',
    model_name: `tttnn/${m.label}`,
    model_name_sanitized: sanitize(m.label),
    system_instruction: null,
    system_instruction_sha: null,
    fewshot_as_multiturn: false,
    chat_template: null,
    chat_template_sha: null,
    // The documents' own seconds (retrieval, training and scoring), summed: the work, over every rank and resume.
    total_evaluation_time_seconds: String(all.reduce((s, d) => s + secondsOf(d), 0)),
    tttnn: {
      about:
        'tttnn extension (lm-evaluation-harness ignores it). results: after the last neighbour (interpolation: each task at its best alpha); ' +
        `*_stderr: sample standard deviation of the aggregate over ${bootstrap.resamples} bootstrap resamples of documents (seed ${bootstrap.seed}), the harness's bootstrap_stderr, which the harness itself does not compute for weighted_perplexity and bits_per_byte (it writes "N/A"); ` +
        'pile_all: the weighted mean of the tasks (weights); curves: the metrics after 0, 1, ..., k neighbours (or at each alpha).',
      method: m.method,
      label: m.label,
      kind: m.kind,
      after_step: Object.fromEntries(tasks.map((task) => [task, stepOf(task)])),
      weights: Object.fromEntries(tasks.map((task) => [task, weights[task] ?? 0])),
      median_filter: summary.medianFilter,
      intervals_10_90: {
        pile_all: { before: m.pileAll.before, after: m.pileAll.after },
        ...Object.fromEntries(m.tasks.map((t) => [t.task, { before: t.before, after: t.after }])),
      },
      curves: {
        pile_all: curveEntries(m.pileAll.curve, m.alphas),
        ...Object.fromEntries(m.tasks.map((t) => [t.task, curveEntries(t.curve, m.alphas)])),
      },
    },
  };
}

/** One --log_samples line for a loglikelihood_rolling document (evaluator.py), plus tttnn's neighbours and curve. */
function harnessSample(d: DocumentResult, doc: PileDocument | undefined, step: number, data: string): Record<string, unknown> {
  if (doc === undefined) throw new Error(`${data}: no document ${d.doc_id} (task ${d.task}): --data must be the test file the evaluation read`);
  const curve = curveOf(d);
  const loglikelihood = curve[Math.min(step, curve.length - 1)]!;
  const target = doc.text;
  return {
    doc_id: d.doc_id,
    doc,
    target,
    arguments: { gen_args_0: { arg_0: target } },
    resps: [[loglikelihood]],
    filtered_resps: [loglikelihood],
    filter: 'none',
    metrics: [...METRICS],
    // json.dumps(doc, indent=2, ensure_ascii=False), as the harness hashes a document.
    doc_hash: sha256(JSON.stringify(doc, null, 2)),
    prompt_hash: sha256(target),
    target_hash: sha256(target),
    // The counts of the text scored (for split-text methods, the scored half).
    word_perplexity: [loglikelihood, d.words],
    byte_perplexity: [loglikelihood, d.bytes],
    bits_per_byte: [loglikelihood, d.bytes],
    tttnn: {
      task: d.task,
      loglikelihoods: curve,
      ...(d.alphas ? { alphas: d.alphas } : {}),
      step,
      neighbor_ids: d.neighbor_ids,
      neighbor_distances: d.neighbor_distances,
      ...(d.duplicate_neighbors !== undefined ? { duplicate_neighbors: d.duplicate_neighbors } : {}),
      ...(d.train_losses ? { train_losses: d.train_losses } : {}),
    },
  };
}
