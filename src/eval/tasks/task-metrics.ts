// A task document's metrics from its requests' results, and their
// aggregation over documents, as lm-evaluation-harness computes them:
// ConfigurableTask.process_results (lm_eval/api/task.py:1455), the filters
// of generate_until (lm_eval/filters/extraction.py RegexFilter,
// filters/selection.py TakeFirstFilter) and the aggregations of
// lm_eval/api/metrics.py (mean, perplexity, weighted_perplexity,
// bits_per_byte). Metric keys are "<metric>,<filter>" as in the harness's
// results ("acc,none").
import { countBytes, countWords } from '../metrics.js';
import type { RequestResult } from './request-scoring.js';
import type { Doc, HarnessTask } from './task.js';
import type { FilterStep } from './task-config.js';

/** A metric's value for one document: a number (mean), or [loglikelihood, weight] for the weighted aggregations. */
export type MetricValue = number | [number, number];
export type DocumentMetrics = Record<string, MetricValue>;

const AGGREGATION_OF: Record<string, string> = {
  acc: 'mean', acc_norm: 'mean', acc_bytes: 'mean', exact_match: 'mean',
  perplexity: 'perplexity', word_perplexity: 'weighted_perplexity', byte_perplexity: 'weighted_perplexity', bits_per_byte: 'bits_per_byte',
};
const HIGHER_IS_BETTER: Record<string, boolean> = { acc: true, acc_norm: true, acc_bytes: true, exact_match: true, perplexity: false, word_perplexity: false, byte_perplexity: false, bits_per_byte: false };

/** How a metric ("acc", or a result key "acc,none") aggregates over documents by default, and whether higher is better. */
export function aggregationOf(metric: string): { aggregation: string; higherIsBetter: boolean } {
  const name = metric.split(',')[0]!;
  return { aggregation: AGGREGATION_OF[name] ?? 'mean', higherIsBetter: HIGHER_IS_BETTER[name] ?? true };
}

/** The metrics a task computes, checked once: a metric tttnn does not compute is refused, naming it. */
export function taskMetrics(task: HarnessTask): { key: string; metric: string; aggregation: string; higherIsBetter: boolean }[] {
  const c = task.config;
  const filters = c.output_type === 'generate_until' && c.filter_list ? c.filter_list.map((f) => f.name) : ['none'];
  const allowed: Record<string, string[]> = {
    multiple_choice: ['acc', 'acc_norm', 'acc_bytes', 'exact_match'],
    loglikelihood: ['perplexity', 'acc'],
    loglikelihood_rolling: ['word_perplexity', 'byte_perplexity', 'bits_per_byte'],
    generate_until: ['exact_match'],
  };
  return c.metric_list.flatMap((m) => {
    if (!allowed[c.output_type]!.includes(m.metric)) throw new Error(`${c.file}: metric_list: tttnn computes ${allowed[c.output_type]!.join(', ')} for ${c.output_type}, not ${m.metric}; drop it from the YAML`);
    const aggregation = m.aggregation ?? AGGREGATION_OF[m.metric]!;
    if (!['mean', 'perplexity', 'weighted_perplexity', 'bits_per_byte'].includes(aggregation)) throw new Error(`${c.file}: metric_list: aggregation ${aggregation} of ${m.metric} is not one tttnn computes`);
    return filters.map((f) => ({ key: `${m.metric},${f}`, metric: m.metric, aggregation, higherIsBetter: m.higher_is_better ?? HIGHER_IS_BETTER[m.metric]! }));
  });
}

/** process_results for one document. */
export function documentMetrics(task: HarnessTask, doc: Doc, results: readonly RequestResult[]): DocumentMetrics {
  const c = task.config;
  const wanted = new Set(c.metric_list.map((m) => m.metric));
  const out: DocumentMetrics = {};
  const put = (metric: string, value: MetricValue, filter = 'none'): void => {
    if (wanted.has(metric)) out[`${metric},${filter}`] = value;
  };
  switch (c.output_type) {
    case 'loglikelihood': {
      const r = results[0] as Extract<RequestResult, { type: 'loglikelihood' }>;
      put('perplexity', r.loglikelihood);
      put('acc', r.isGreedy ? 1 : 0);
      break;
    }
    case 'loglikelihood_rolling': {
      const r = results[0] as Extract<RequestResult, { type: 'loglikelihood_rolling' }>;
      const text = task.docToTarget(doc) as string;
      put('word_perplexity', [r.loglikelihood, countWords(text)]);
      put('byte_perplexity', [r.loglikelihood, countBytes(text)]);
      put('bits_per_byte', [r.loglikelihood, countBytes(text)]);
      break;
    }
    case 'multiple_choice': {
      const lls = results.map((r) => (r as Extract<RequestResult, { type: 'loglikelihood' }>).loglikelihood);
      const greedy = results.map((r) => (r as Extract<RequestResult, { type: 'loglikelihood' }>).isGreedy);
      const choices = task.docToChoice(doc);
      const argmax = (xs: number[]): number => xs.reduce((best, x, i) => (x > xs[best]! ? i : best), 0); // np.argmax: the first maximum
      const pred = argmax(lls);
      const predNorm = argmax(lls.map((ll, i) => ll / [...choices[i]!].length)); // len(str): code points
      const predBytes = argmax(lls.map((ll, i) => ll / countBytes(choices[i]!)));
      let gold = task.docToTarget(doc);
      if (Array.isArray(gold)) throw new Error(`${c.file}: doc_to_target gives a list (multiple targets); tttnn does not support those`);
      if (typeof gold === 'string') gold = choices.indexOf(gold);
      if (typeof gold === 'boolean') gold = Number(gold);
      if (typeof gold !== 'number' || !(gold >= 0 && gold < choices.length)) gold = -100; // the harness warns and scores 0
      put('acc', pred === gold ? 1 : 0);
      put('acc_norm', predNorm === gold ? 1 : 0);
      put('acc_bytes', predBytes === gold ? 1 : 0);
      put('exact_match', gold !== -100 && greedy[gold] ? 1 : 0);
      break;
    }
    case 'generate_until': {
      const text = (results[0] as Extract<RequestResult, { type: 'generate_until' }>).text;
      let gold = task.docToTarget(doc);
      if (c.doc_to_choice !== undefined) gold = task.docToChoice(doc)[gold as number]!;
      if (Array.isArray(gold)) throw new Error(`${c.file}: doc_to_target gives a list (multiple targets); tttnn does not support those`);
      const pipelines = c.filter_list ?? [{ name: 'none', filter: [{ function: 'take_first' }] }];
      for (const p of pipelines) put('exact_match', applyFilters(p.filter, text, c.file) === String(gold) ? 1 : 0, p.name);
      break;
    }
  }
  return out;
}

/** A filter pipeline on one generated text (one repeat): regex then take_first, as the harness's FilterEnsemble. */
function applyFilters(steps: readonly FilterStep[], text: string, file: string): string {
  let resps = [text];
  for (const step of steps) {
    if (step.function === 'take_first') resps = resps.slice(0, 1);
    else if (step.function === 'regex') resps = resps.map((r) => regexFilter(r, step));
    else throw new Error(`${file}: filter_list: filter "${step.function}" is not one tttnn implements (regex, take_first)`);
  }
  return resps[0]!;
}

/** RegexFilter: re.findall, the selected match (a tuple's first non-empty group), stripped; the fallback when nothing matches. */
function regexFilter(resp: string, step: FilterStep): string {
  const pattern = typeof step['regex_pattern'] === 'string' ? step['regex_pattern'] : '#### (\\-?[0-9\\.\\,]+)';
  const select = Number(step['group_select'] ?? 0);
  const fallback = typeof step['fallback'] === 'string' ? step['fallback'] : '[invalid]';
  const re = new RegExp(pattern, 'gu');
  const matches = [...resp.matchAll(re)].map((m) => (m.length === 1 ? m[0] : m.length === 2 ? (m[1] ?? '') : m.slice(1).map((g) => g ?? '')));
  if (matches.length === 0) return fallback;
  let match = matches.at(select);
  if (match === undefined) throw new Error(`regex filter: group_select ${select} out of range`);
  if (Array.isArray(match)) match = match.find((g) => g !== '') ?? fallback;
  return match.trim();
}

/** A metric aggregated over documents. */
export function aggregate(aggregation: string, values: readonly MetricValue[]): number {
  const nums: [number, number][] = values.map((v) => (Array.isArray(v) ? v : [v, 1]));
  const mean = nums.reduce((s, [x]) => s + x, 0) / nums.length;
  const weightedMean = nums.reduce((s, [x]) => s + x, 0) / nums.reduce((s, [, w]) => s + w, 0);
  switch (aggregation) {
    case 'mean':
      return mean;
    case 'perplexity':
      return Math.exp(-mean);
    case 'weighted_perplexity':
      return Math.exp(-weightedMean);
    case 'bits_per_byte':
      return -weightedMean / Math.LN2;
    default:
      throw new Error(`unknown aggregation ${aggregation}`);
  }
}
