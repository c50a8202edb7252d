// The report of downstream tasks (RESULTS/tasks/<label>/<task>.rank<R>.jsonl,
// eval/tasks/task-runner.ts): per task and method, each metric after 0..k
// neighbours with 10%-90% bootstrap intervals (1,000 resamples of
// documents, seeded, as the Pile's), the average over tasks, and TTT-NN's
// paired comparison with each other method on the same documents: the
// difference of their changes from 0 to k neighbours, resampled by
// document; "better" only when the whole interval is on the better side.
// As the original's process_results.py, documents whose curve length
// differs from the task's median are left out (a failed retrieval, a budget).
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { seededRandom } from '../data/seeded-random.js';
import { aggregate, aggregationOf, type MetricValue } from '../eval/tasks/task-metrics.js';
import { taskResultsDir, type TaskResult } from '../eval/tasks/task-runner.js';
import { quantile, type BootstrapOptions } from './aggregate.js';
import { toMarkdown, type Table } from './tables.js';

/** label → task → its documents' lines (the last line of a document kept). */
export type TaskResults = Map<string, Map<string, TaskResult[]>>;

export function loadTaskResults(resultsDir: string, warn: (line: string) => void = () => undefined): TaskResults {
  const out: TaskResults = new Map();
  const dir = taskResultsDir(resultsDir);
  if (!existsSync(dir)) return out;
  for (const label of readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort()) {
    const byTask = new Map<string, Map<number, TaskResult>>();
    for (const file of readdirSync(join(dir, label)).filter((f) => f.endsWith('.jsonl')).sort()) {
      readFileSync(join(dir, label, file), 'utf8').split('\n').forEach((line, i) => {
        if (!line.trim()) return;
        try {
          const r = JSON.parse(line) as TaskResult;
          if (r.retrieval_error || !Array.isArray(r.metrics) || r.metrics.length === 0) return; // a failed retrieval has no curve
          (byTask.get(r.task) ?? byTask.set(r.task, new Map()).get(r.task)!).set(r.doc_id, r);
        } catch {
          warn(`${join(dir, label, file)}:${i + 1}: not JSON; line skipped`);
        }
      });
    }
    out.set(label, new Map([...byTask].sort(([a], [b]) => a.localeCompare(b)).map(([t, docs]) => [t, medianLength([...docs.values()])])));
  }
  return out;
}

/** The documents whose curve has the median length (process_results.py's filter). */
function medianLength(docs: TaskResult[]): TaskResult[] {
  const lengths = docs.map((d) => d.metrics.length).sort((a, b) => a - b);
  const median = lengths[Math.floor((lengths.length - 1) / 2)];
  return docs.filter((d) => d.metrics.length === median);
}

const valueAt = (d: TaskResult, key: string, step: number): MetricValue => d.metrics[Math.min(step, d.metrics.length - 1)]![key]!;
const statistic = (docs: readonly TaskResult[], key: string, step: number): number => aggregate(aggregationOf(key).aggregation, docs.map((d) => valueAt(d, key, step)));

function bootstrap(docs: readonly TaskResult[], stat: (sample: TaskResult[]) => number, options: BootstrapOptions): [number, number] {
  const random = seededRandom(options.seed ?? 1216);
  const values: number[] = [];
  for (let r = 0; r < (options.resamples ?? 1000); r++) values.push(stat(docs.map(() => docs[Math.floor(random() * docs.length)]!)));
  values.sort((a, b) => a - b);
  return [quantile(values, 0.1), quantile(values, 0.9)];
}

const fmt = (v: number): string => (Number.isFinite(v) ? (Math.abs(v) >= 1e4 ? v.toExponential(3) : v.toFixed(4)) : 'n/a');
const est = (v: number, [lo, hi]: [number, number]): string => `${fmt(v)} [${fmt(lo)}, ${fmt(hi)}]`;

export function taskTables(results: TaskResults, options: BootstrapOptions = {}): Table[] {
  if (results.size === 0) return [];
  const rows: string[][] = [];
  const curveRows: string[][] = [];
  const averages = new Map<string, { before: number[]; after: number[] }>();
  let longest = 0;
  for (const [label, byTask] of results) {
    for (const [task, docs] of byTask) {
      if (docs.length === 0) continue;
      const k = docs[0]!.metrics.length - 1;
      longest = Math.max(longest, k);
      for (const key of Object.keys(docs[0]!.metrics[0]!)) {
        const before = statistic(docs, key, 0);
        const after = statistic(docs, key, k);
        rows.push([task, label, key, String(docs.length), String(docs[0]!.num_fewshot), est(before, bootstrap(docs, (s) => statistic(s, key, 0), options)), String(k), est(after, bootstrap(docs, (s) => statistic(s, key, k), options)), fmt(after - before)]);
        curveRows.push([task, label, key, ...Array.from({ length: k + 1 }, (_, j) => fmt(statistic(docs, key, j)))]);
        const avg = averages.get(`${label}\t${key}`) ?? averages.set(`${label}\t${key}`, { before: [], after: [] }).get(`${label}\t${key}`)!;
        avg.before.push(before);
        avg.after.push(after);
      }
    }
  }
  for (const [labelKey, { before, after }] of averages) {
    const [label, key] = labelKey.split('\t') as [string, string];
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    rows.push([`average of ${before.length} task(s)`, label, key, '', '', fmt(mean(before)), '', fmt(mean(after)), fmt(mean(after) - mean(before))]);
  }
  const tables: Table[] = [
    { title: 'Downstream tasks: metric before and after the neighbours', note: 'Each task\'s metric (lm-evaluation-harness\'s keys: metric,filter) at 0 and at k neighbours, with 10%-90% bootstrap intervals over documents; the average row is the unweighted mean of the tasks.', header: ['task', 'method', 'metric', 'documents', 'few-shot', 'at 0', 'k', 'after k', 'change'], rows },
    { title: 'Downstream tasks: metric after 0..k neighbours', header: ['task', 'method', 'metric', ...Array.from({ length: longest + 1 }, (_, j) => String(j))], rows: curveRows },
  ];
  const verdict = pairedVerdicts(results, options);
  if (verdict.length > 0) {
    tables.push({ title: 'Downstream tasks: TTT-NN against the other methods (paired)', note: 'Difference of the two methods\' changes from 0 to k neighbours on the same documents (TTT-NN minus the other), 10%-90% paired bootstrap; "TTT-NN better" only when the whole interval is on the better side of zero.', header: ['task', 'metric', 'against', 'documents', 'difference', 'verdict'], rows: verdict });
  }
  return tables;
}

function pairedVerdicts(results: TaskResults, options: BootstrapOptions): string[][] {
  const ttt = results.get('ttt');
  if (!ttt) return [];
  const rows: string[][] = [];
  for (const [label, byTask] of results) {
    if (label === 'ttt') continue;
    for (const [task, docs] of ttt) {
      const others = new Map((byTask.get(task) ?? []).map((d) => [d.doc_id, d]));
      const pairs = docs.flatMap((d) => (others.has(d.doc_id) ? [[d, others.get(d.doc_id)!] as const] : []));
      if (pairs.length === 0) continue;
      for (const key of Object.keys(docs[0]!.metrics[0]!)) {
        const { higherIsBetter } = aggregationOf(key);
        const change = (ds: readonly TaskResult[]): number => statistic(ds, key, Number.MAX_SAFE_INTEGER) - statistic(ds, key, 0);
        const diff = (ps: readonly (readonly [TaskResult, TaskResult])[]): number => change(ps.map((p) => p[0])) - change(ps.map((p) => p[1]));
        const random = seededRandom(options.seed ?? 1216);
        const values: number[] = [];
        for (let r = 0; r < (options.resamples ?? 1000); r++) values.push(diff(pairs.map(() => pairs[Math.floor(random() * pairs.length)]!)));
        values.sort((a, b) => a - b);
        const [lo, hi] = [quantile(values, 0.1), quantile(values, 0.9)];
        const better = higherIsBetter ? lo > 0 : hi < 0;
        const worse = higherIsBetter ? hi < 0 : lo > 0;
        rows.push([task, key, label, String(pairs.length), est(diff(pairs), [lo, hi]), better ? 'TTT-NN better' : worse ? 'TTT-NN worse' : 'no clear difference']);
      }
    }
  }
  return rows;
}

/** Writes tasks.md and tasks.json into `out` when the results directory holds task results; the markdown, or undefined. */
export function writeTaskReport(resultsDir: string, out: string, options: BootstrapOptions & { warn?: (line: string) => void } = {}): { markdown: string; files: string[] } | undefined {
  const results = loadTaskResults(resultsDir, options.warn);
  if (results.size === 0) return undefined;
  const tables = taskTables(results, options);
  const markdown = tables.map(toMarkdown).join('\n\n');
  const dir = resolve(out);
  mkdirSync(dir, { recursive: true });
  const files = [join(dir, 'tasks.md'), join(dir, 'tasks.json')];
  writeFileSync(files[0]!, `# TTT-NN on downstream tasks\n\n${markdown}\n`);
  const curves = Object.fromEntries([...results].map(([label, byTask]) => [label, Object.fromEntries([...byTask].map(([task, docs]) => [task, {
    documents: docs.length,
    curves: Object.fromEntries(Object.keys(docs[0]?.metrics[0] ?? {}).map((key) => [key, docs[0]!.metrics.map((_, j) => statistic(docs, key, j))])),
  }]))]));
  writeFileSync(files[1]!, `${JSON.stringify(curves, (_, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 1)}\n`);
  return { markdown, files };
}
