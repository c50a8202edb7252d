// The report's tables, built once from the summary and rendered three ways:
// Markdown (terminal and summary.md), aligned text (comparison.txt, as the
// original wrote) and HTML. The original's published results (--published)
// appear as extra rows (or columns, where rows are neighbours) labelled
// "published <directory>", wherever they have the task and metric.
import type { GateCheck } from '../eval/quality-gates.js';
import { quantile } from './aggregate.js';
import { plottedSteps, thinnedNote } from './plotted-points.js';
import { publishedBeforeAfter, type PublishedSource } from './published.js';
import type { Estimate, MethodSummary, ReportSummary } from './summary.js';
import { costPoints, paretoFrontier } from './selection-cost.js';
import { nanmean } from './training.js';

export interface Table {
  title: string;
  /** One sentence under the title saying how to read it. */
  note?: string;
  header: string[];
  rows: string[][];
}

/** Fixed decimals; exponent notation for huge values (a word perplexity of an untrained model). */
const fixed = (v: number | undefined, digits = 4): string => (v === undefined || !Number.isFinite(v) ? 'n/a' : Math.abs(v) >= 1e6 ? v.toExponential(3) : v.toFixed(digits));
/** A value and its interval; a value without one (a published number) alone. */
const withInterval = (e: Estimate): string => (Number.isFinite(e.low) || Number.isFinite(e.high) ? `${fixed(e.value)} [${fixed(e.low, 3)}, ${fixed(e.high, 3)}]` : fixed(e.value));
const change = (before: number | undefined, after: number | undefined): string =>
  before !== undefined && after !== undefined && Number.isFinite(before) && Number.isFinite(after) && before !== 0 ? `${(((after - before) / before) * 100).toFixed(1)}%` : 'n/a';

export function afterName(m: MethodSummary): string {
  if (m.kind === 'alphas') return 'best alpha per task (oracle)';
  if (m.kind === 'context') return `with neighbours in context${m.contextNeighbors !== undefined ? ` (${m.contextNeighbors.toFixed(1)} per document)` : ''}`;
  return `${m.afterStep} neighbours`;
}

/** Median, as numpy's (the 0.5 quantile, averaging the middle two). */
const median = (values: readonly number[]): number => quantile([...values].sort((a, b) => a - b), 0.5);
// Never Math.max(...values): a spread of 125 K values or more overflows the stack (a 200 K-point curve).
const max = (values: readonly number[]): number => (values.length === 0 ? NaN : values.reduce((a, b) => Math.max(a, b), -Infinity));

/** The published sources comparable with a method (baseline_<method>, or ttt for the original's TTT-NN runs). */
const publishedFor = (summary: ReportSummary, m: MethodSummary): PublishedSource[] => summary.published.filter((s) => s.method === m.method);
const publishedRowName = (task: string, s: PublishedSource): string => `${task} (${s.label})`;

/** pile_all for every method side by side: TTT-NN vs context vs interpolation (best alpha) vs dynamic evaluation. */
export function methodsTable(summary: ReportSummary): Table {
  const published = summary.published.flatMap((s) => {
    const p = publishedBeforeAfter(s, 'pile_all');
    if (!p) return [];
    const curve = s.curves?.get('pile_all');
    return [[s.label, '', fixed(p.before), fixed(p.after), curve ? `${curve.length - 1} neighbours (${s.method}), as published` : `${s.method}, as published`, change(p.before, p.after), '']];
  });
  return {
    title: 'pile_all bits per byte by method',
    note:
      '10%-90% bootstrap intervals in brackets (documents resampled). "after" is the last neighbour; for interpolation each task at its own best alpha ' +
      '(an oracle choice, as in the original; the interpolation table has the other choices). Failed retrievals are left out and counted.',
    // Counts last: the columns before them are the ones scripts read (e.g. the demo's test).
    header: ['method', 'documents', 'before', 'after', 'after is', 'change', 'failed retrievals'],
    rows: [
      ...summary.methods.map((m) => [m.label, String(m.documents), withInterval(m.pileAll.before), withInterval(m.pileAll.after), afterName(m), change(m.pileAll.before.value, m.pileAll.after.value), String(m.failedRetrievals)]),
      ...published,
    ],
  };
}

/** Per task, before and after, for one method: the original's comparison.txt. */
export function comparisonTable(m: MethodSummary, summary: ReportSummary): Table {
  const published = publishedFor(summary, m);
  const filter = summary.medianFilter;
  const alpha = m.kind === 'alphas';
  const row = (task: string, weight: string, documents: string, failed: string, dropped: string, before: string, after: string, a: string, delta: string): string[] => [
    task, weight, documents, failed, ...(filter ? [dropped] : []), before, after, ...(alpha ? [a] : []), delta,
  ];
  const publishedRows = (task: string): string[][] =>
    published.flatMap((s) => {
      const p = publishedBeforeAfter(s, task);
      return p ? [row(publishedRowName(task, s), '', '', '', '', fixed(p.before), fixed(p.after), '', change(p.before, p.after))] : [];
    });
  const seen = new Set(m.tasks.map((t) => t.task));
  const failedOnly = Object.entries(m.failedByTask).filter(([task]) => !seen.has(task));
  return {
    title: `${m.label}: bits per byte per task, before and after (${afterName(m)})`,
    ...(filter ? { note: 'Median filter on: documents whose curve length differs from their task\'s median were dropped (process_results.py:345-346).' } : {}),
    header: [...row('task', 'weight', 'documents', 'failed retrievals', 'dropped (median filter)', 'before', 'after', 'alpha', 'change')],
    rows: [
      ...m.tasks.flatMap((t) => [
        row(t.task, t.weight.toFixed(2), String(t.documents), String(t.failedRetrievals), String(t.droppedByMedianFilter), withInterval(t.before), withInterval(t.after), String(t.afterAlpha ?? ''), change(t.before.value, t.after.value)),
        ...publishedRows(t.task),
      ]),
      ...failedOnly.map(([task, failed]) => row(task, (summary.weights[task] ?? 0).toFixed(2), '0', String(failed), '0', 'n/a', 'n/a', '', 'n/a')),
      row('pile_all', '', String(m.documents), String(m.failedRetrievals), String(m.droppedByMedianFilter), withInterval(m.pileAll.before), withInterval(m.pileAll.after), alpha ? 'per task' : '', change(m.pileAll.before.value, m.pileAll.after.value)),
      ...publishedRows('pile_all'),
    ],
  };
}

/** pile_all's three metrics after each neighbour (or at each alpha; or without and with neighbours in context), published bits per byte beside. */
export function curveTable(m: MethodSummary, summary: ReportSummary): Table {
  const published = m.kind === 'alphas' ? [] : publishedFor(summary, m).flatMap((s): { label: string; values: (number | undefined)[] }[] => {
    const curve = s.curves?.get('pile_all');
    if (curve) return [{ label: s.label, values: curve.map((p) => p.bits_per_byte) }];
    const p = s.beforeAfter?.get('pile_all');
    return p && m.kind === 'context' ? [{ label: s.label, values: [p.before, p.after] }] : [];
  });
  const length = published.reduce((most, p) => Math.max(most, p.values.length), m.pileAll.curve.length);
  const stepName = (i: number): string => (m.kind === 'alphas' ? String(m.alphas?.[i] ?? '') : m.kind === 'context' ? (i === 0 ? 'without neighbours' : 'with neighbours') : String(i));
  return {
    title: `${m.label}: pile_all metrics ${m.kind === 'alphas' ? 'at each alpha' : m.kind === 'context' ? 'without and with neighbours in context' : 'after 0..k neighbours'}${thinnedNote(length)}`,
    header: [m.kind === 'alphas' ? 'alpha' : m.kind === 'context' ? 'context' : 'neighbours', 'bits_per_byte', 'byte_perplexity', 'word_perplexity', ...published.map((p) => `bits_per_byte (${p.label})`)],
    rows: plottedSteps(length).map((i) => {
      const p = m.pileAll.curve[i];
      return [stepName(i), fixed(p?.bits_per_byte), fixed(p?.byte_perplexity), fixed(p?.word_perplexity, 2), ...published.map((s) => fixed(s.values[i]))];
    }),
  };
}

/** Interpolation: the alpha choices side by side, each named for what it looks at. */
export function interpolationTable(m: MethodSummary, summary: ReportSummary): Table | undefined {
  const choices = m.interpolation;
  if (!choices) return undefined;
  const before = m.pileAll.before.value;
  const v = choices.validation;
  const published = publishedFor(summary, m).flatMap((s) => {
    const p = publishedBeforeAfter(s, 'pile_all');
    return p ? [[s.label, 'per task (oracle)', fixed(p.after), change(p.before, p.after), '']] : [];
  });
  return {
    title: `${m.label}: which alpha`,
    note:
      'Oracle per task: each task at the alpha best on its own test documents, pile_all = Σ weight·minimum / Σ weight (process_results_interpolation.py:65, the published figure). ' +
      'Oracle global: the one alpha best for pile_all on the test documents. Validation-chosen: the alpha best for pile_all on the validation run (--interpolation-validation), measured on the test documents: the only choice that does not look at them.',
    header: ['alpha choice', 'alpha', 'pile_all bits per byte', 'change vs alpha 0', 'pile_all on validation'],
    rows: [
      ['oracle per task (headline)', 'per task', withInterval(choices.oraclePerTask), change(before, choices.oraclePerTask.value), ''],
      ['oracle global', String(choices.oracleGlobal.alpha), withInterval(choices.oracleGlobal.pileAll), change(before, choices.oracleGlobal.pileAll.value), ''],
      ...(v ? [[`validation-chosen (${v.dir})`, String(v.alpha), withInterval(v.pileAll), change(before, v.pileAll.value), fixed(v.validationBitsPerByte)]] : []),
      ...published,
    ],
  };
}

/** The neighbours (1..n) a wide curve is shown at: all up to 10, then the usual checkpoints and the last. */
function checkpoints(n: number): number[] {
  if (n <= 10) return Array.from({ length: n }, (_, i) => i + 1);
  return [...new Set([1, 2, 5, 10, 20, 50, 100, 200].filter((j) => j <= n).concat(n))];
}

/** Mean training loss after neighbour j, per task and pile_all (process_results.py:370-371). */
export function trainingLossTable(m: MethodSummary, summary: ReportSummary): Table | undefined {
  const ours = m.tasks.reduce((most, t) => Math.max(most, t.trainingLoss.length), m.pileAll.trainingLoss.length);
  if (ours === 0) return undefined;
  const published = publishedFor(summary, m).filter((s) => s.curves);
  // As far as the longest curve, ours or published (point 0 of a published curve is before training).
  const at = checkpoints(published.flatMap((s) => [...s.curves!.values()].map((c) => c.length - 1)).reduce((a, b) => Math.max(a, b), ours));
  // A published curve's point j is after j neighbours; its point 0 (no training) is NaN.
  const publishedRows = (task: string): string[][] =>
    published.flatMap((s) => {
      const curve = s.curves?.get(task);
      return curve ? [[publishedRowName(task, s), ...at.map((j) => fixed(curve[j]?.training_loss))]] : [];
    });
  return {
    title: `${m.label}: training loss after each neighbour`,
    note: 'Per document the mean loss of the training windows on neighbour j (null windows ignored), then the mean over documents ignoring NaN; pile_all weights tasks as for bits per byte.',
    header: ['task', ...at.map((j) => `after ${j}`)],
    rows: [
      ...m.tasks.flatMap((t) => [[t.task, ...at.map((j) => fixed(t.trainingLoss[j - 1]))], ...publishedRows(t.task)]),
      ['pile_all', ...at.map((j) => fixed(m.pileAll.trainingLoss[j - 1]))],
      ...publishedRows('pile_all'),
    ],
  };
}

/** Seconds per neighbour (training, the evaluation after it, both) and retrieval seconds per document, per task. */
export function costTable(m: MethodSummary, summary: ReportSummary): Table {
  const published = publishedFor(summary, m).filter((s) => s.curves);
  const blank = ['', '', '', ''];
  const publishedRows = (task: string): string[][] =>
    published.flatMap((s) => {
      const curve = s.curves?.get(task);
      return curve ? [[publishedRowName(task, s), '', ...blank, fixed(nanmean(curve.slice(1).map((p) => p.training_cost ?? NaN)), 3), '', '']] : [];
    });
  return {
    title: `${m.label}: cost per task`,
    note:
      'Seconds per neighbour: per document the mean over its neighbours of training and of the evaluation after it; their sum is the original\'s cost (eval_tttlm.py:296-301; lines without eval_seconds count training only). ' +
      '"As the original": per neighbour the mean over documents, then the mean over neighbours (pile_all weighted), as the published training_cost. Retrieval: seconds per document.',
    header: ['task', 'documents', 'train s/neighbour (median)', 'eval s/neighbour (median)', 'total s/neighbour (median)', 'total s/neighbour (max)', 'mean s/neighbour (as the original)', 'retrieval s (median)', 'retrieval s (max)'],
    rows: [
      ...m.tasks.flatMap((t) => [
        [
          t.task,
          String(t.documents),
          fixed(median(t.trainSecondsPerNeighbor), 3),
          fixed(median(t.evalSecondsPerNeighbor), 3),
          fixed(median(t.costSecondsPerNeighbor), 3),
          fixed(max(t.costSecondsPerNeighbor), 3),
          fixed(nanmean(t.cost), 3),
          fixed(median(t.retrievalSeconds), 4),
          fixed(max(t.retrievalSeconds), 4),
        ],
        ...publishedRows(t.task),
      ]),
      ['pile_all', String(m.documents), ...blank, fixed(nanmean(m.pileAll.cost), 3), '', ''],
      ...publishedRows('pile_all'),
    ],
  };
}

/** Leakage audit per method: neighbours identical to the document they were retrieved for. */
export function leakageTable(summary: ReportSummary): Table {
  return {
    title: 'Leakage audit: neighbours identical to the test document',
    note: 'Counted over the scored documents whose lines record the audit (duplicate_neighbors); "excluded" were dropped before training (--exclude-duplicates).',
    header: ['method', 'documents audited', 'documents with duplicates', 'duplicate neighbours', 'excluded'],
    rows: summary.methods.map((m) => [m.label, String(m.leakage.audited), String(m.leakage.withDuplicates), String(m.leakage.duplicates), String(m.leakage.excluded)]),
  };
}

/** Result files read: documents used, failed retrievals, dropped documents, lines skipped. */
export function inputsTable(summary: ReportSummary): Table {
  return {
    title: 'Result files',
    header: ['run', 'directory', 'documents used', 'failed retrievals', ...(summary.medianFilter ? ['dropped (median filter)'] : []), 'lines skipped', 'duplicate lines'],
    rows: summary.runs.map((r) => [r.label, r.dir, String(r.documents), String(r.failedRetrievals), ...(summary.medianFilter ? [String(r.droppedByMedianFilter)] : []), String(r.skippedLines), String(r.duplicateLines)]),
  };
}

/** The published results overlaid (--published). */
export function publishedTable(summary: ReportSummary): Table | undefined {
  if (summary.published.length === 0) return undefined;
  return {
    title: 'Published results (the original\'s results directory)',
    note: 'Shown as "published" rows beside the method they match: baseline_<method> files with that method, the original\'s TTT-NN runs (aggregate_stats.pth) with ttt.',
    header: ['label', 'file', 'compared with', 'tasks'],
    rows: summary.published.map((s) => [s.label, s.file, s.method, String((s.curves ?? s.beforeAfter)?.size ?? 0)]),
  };
}

// ---- renderers ----

const escapeCell = (cell: string): string => cell.replace(/\|/g, '\\|');

export function toMarkdown(table: Table): string {
  const lines = [`### ${table.title}`, ''];
  if (table.note) lines.push(table.note, '');
  lines.push(`| ${table.header.map(escapeCell).join(' | ')} |`, `|${table.header.map(() => '---').join('|')}|`);
  for (const row of table.rows) lines.push(`| ${row.map(escapeCell).join(' | ')} |`);
  return lines.join('\n');
}

/** Columns padded to their widest cell. */
export function toText(table: Table): string {
  const widths = table.header.map((h, i) => table.rows.reduce((most, r) => Math.max(most, (r[i] ?? '').length), h.length));
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i] as number)).join('  ').trimEnd();
  return [table.title, line(table.header), ...table.rows.map(line)].join('\n');
}

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function toHtml(table: Table): string {
  const head = `<tr>${table.header.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr>`;
  const body = table.rows.map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`).join('\n');
  return `<h3>${escapeHtml(table.title)}</h3>\n${table.note ? `<p class="note">${escapeHtml(table.note)}</p>\n` : ''}<table>\n<thead>${head}</thead>\n<tbody>\n${body}\n</tbody>\n</table>`;
}

/** The quality gates (eval/quality-gates.ts): measured, reference, rule, passed. */
export function gatesTable(checks: readonly GateCheck[]): Table {
  return {
    title: 'Quality gates',
    note: 'What must hold before the numbers below mean anything: a language model that has learned, retrieval that finds the right domain, no test document among its own neighbours.',
    header: ['gate', 'measured', 'reference', 'rule', 'passed'],
    rows: checks.map((c) => [c.name, c.measured, c.reference, c.rule, c.passed ? 'yes' : 'NO']),
  };
}

/** How each method chose and used its neighbours: selection, redundancy, stops and seconds per document. */
export function selectionTable(summary: ReportSummary): Table | undefined {
  const shown = summary.methods.filter((m) => m.selection.selection !== 'none' && (m.selection.meanPairwiseDistance !== undefined || m.selection.selection !== 'knn' || m.selection.budgetStops > 0));
  if (shown.length === 0) return undefined;
  const stops = (m: MethodSummary): string => {
    const parts = Object.entries(m.selection.stops).map(([why, n]) => `${why} ${n}`);
    if (m.selection.budgetStops > 0) parts.push(`budget ${m.selection.budgetStops}`);
    return parts.join(', ') || '-';
  };
  return {
    title: 'Neighbours used: selection, redundancy and seconds per document',
    note:
      'Means per document. "neighbours": trained on (a budget may stop before the last), or used by the methods that do not train; "pairwise distance": mean L2 distance between two of a document\'s neighbours (higher: less redundant); "duplicate pairs": neighbours with the same text (a repeated SIFT pick included); ' +
      '"stopped by": documents by why selection or training stopped (count: all it was asked for; alpha: adaptive SIFT; candidates: too few; budget: --budget-seconds). Seconds include every scoring of the curve.' +
      (summary.methods.some((m) => m.medianFilterSkipped) ? ' Methods with curves cut by a budget or adaptive SIFT are aggregated without the median filter (a short curve there is the point, not a failure).' : ''),
    header: ['method', 'selection', 'documents', 'neighbours', 'candidates', 'selection s', 'seconds', 'bits/byte after', 'pairwise distance', 'duplicate pairs', 'stopped by'],
    rows: shown.map((m) => {
      const s = m.selection;
      return [m.label, s.selection, String(s.documents), fixed(s.neighbours, 1), fixed(s.candidates, 1), fixed(s.selectionSeconds, 4), fixed(s.secondsPerDocument, 2), fixed(m.pileAll.after.value), fixed(s.meanPairwiseDistance, 3), fixed(s.duplicatePairs, 2), stops(m)];
    }),
  };
}

/** The points of every method's bits per byte vs seconds that no other point beats (fewer or equal seconds and lower bits per byte). */
export function paretoTable(summary: ReportSummary): Table | undefined {
  const points = costPoints(summary);
  if (points.length === 0) return undefined;
  return {
    title: 'Bits per byte vs seconds per document: the Pareto frontier',
    note:
      'Seconds to reach a curve point: retrieval, selection, training on the first k neighbours and one scoring (the curve\'s other scorings are measurement). ' +
      'Listed: the points no other method or neighbour count beats in both; the plot "bits per byte vs seconds" shows every point (at most 200 evenly spaced per method, the frontier always). Dynamic evaluation is left out (it scores only the second half of each document).',
    header: ['method', 'neighbours', 'seconds per document', 'bits/byte'],
    rows: paretoFrontier(points).map((p) => [p.label, String(p.neighbours), fixed(p.seconds, 2), fixed(p.bitsPerByte)]),
  };
}
