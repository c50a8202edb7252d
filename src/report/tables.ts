// The report's tables, built once from the summary and rendered three ways:
// Markdown (terminal and summary.md), aligned text (comparison.txt, as the
// original wrote) and HTML.
import { quantile } from './aggregate.js';
import type { Estimate, MethodSummary, ReportSummary } from './summary.js';

export interface Table {
  title: string;
  /** One sentence under the title saying how to read it. */
  note?: string;
  header: string[];
  rows: string[][];
}

/** Fixed decimals; exponent notation for huge values (a word perplexity of an untrained model). */
const fixed = (v: number, digits = 4): string => (!Number.isFinite(v) ? 'n/a' : Math.abs(v) >= 1e6 ? v.toExponential(3) : v.toFixed(digits));
const withInterval = (e: Estimate): string => `${fixed(e.value)} [${fixed(e.low, 3)}, ${fixed(e.high, 3)}]`;
const change = (before: number, after: number): string => (Number.isFinite(before) && Number.isFinite(after) && before !== 0 ? `${(((after - before) / before) * 100).toFixed(1)}%` : 'n/a');
const afterName = (m: MethodSummary): string => (m.bestAlpha !== undefined ? `alpha ${m.bestAlpha}` : `${m.afterStep} neighbours`);

/** Median, as numpy's (the 0.5 quantile, averaging the middle two). */
const median = (values: readonly number[]): number => quantile([...values].sort((a, b) => a - b), 0.5);

/** pile_all for every method side by side: TTT-NN vs context vs interpolation (best alpha) vs dynamic evaluation. */
export function methodsTable(summary: ReportSummary): Table {
  return {
    title: 'pile_all bits per byte by method',
    note: '10%-90% bootstrap intervals in brackets (documents resampled). "after" is the last neighbour; for interpolation the best alpha over pile_all (an oracle choice, as in the original).',
    header: ['method', 'documents', 'before', 'after', 'after is', 'change'],
    rows: summary.methods.map((m) => [m.label, String(m.documents), withInterval(m.pileAll.before), withInterval(m.pileAll.after), afterName(m), change(m.pileAll.before.value, m.pileAll.after.value)]),
  };
}

/** Per task, before and after, for one method: the original's comparison.txt. */
export function comparisonTable(m: MethodSummary): Table {
  return {
    title: `${m.label}: bits per byte per task, before and after (${afterName(m)})`,
    header: ['task', 'weight', 'documents', 'before', 'after', 'change'],
    rows: [
      ...m.tasks.map((t) => [t.task, t.weight.toFixed(2), String(t.documents), withInterval(t.before), withInterval(t.after), change(t.before.value, t.after.value)]),
      ['pile_all', '', String(m.documents), withInterval(m.pileAll.before), withInterval(m.pileAll.after), change(m.pileAll.before.value, m.pileAll.after.value)],
    ],
  };
}

/** pile_all's three metrics after each neighbour (or at each alpha). */
export function curveTable(m: MethodSummary): Table {
  return {
    title: `${m.label}: pile_all metrics ${m.alphas ? 'at each alpha' : 'after 0..k neighbours'}`,
    header: [m.alphas ? 'alpha' : 'neighbours', 'bits_per_byte', 'byte_perplexity', 'word_perplexity'],
    rows: m.pileAll.curve.map((p, i) => [m.alphas ? String(m.alphas[i]) : String(i), fixed(p.bits_per_byte), fixed(p.byte_perplexity), fixed(p.word_perplexity, 2)]),
  };
}

/** Training seconds per neighbour and retrieval seconds per document, per task. */
export function costTable(m: MethodSummary): Table {
  return {
    title: `${m.label}: cost per task`,
    note: 'Training: mean seconds per neighbour of each document (median and maximum over documents). Retrieval: seconds per document.',
    header: ['task', 'documents', 'train s/neighbour (median)', 'train s/neighbour (max)', 'retrieval s (median)', 'retrieval s (max)'],
    rows: m.tasks.map((t) => [
      t.task,
      String(t.documents),
      fixed(median(t.trainSecondsPerNeighbor), 3),
      fixed(Math.max(...t.trainSecondsPerNeighbor), 3),
      fixed(median(t.retrievalSeconds), 4),
      fixed(Math.max(...t.retrievalSeconds), 4),
    ]),
  };
}

/** Result files read: documents used, lines skipped. */
export function inputsTable(summary: ReportSummary): Table {
  return {
    title: 'Result files',
    header: ['run', 'directory', 'documents used', 'lines skipped', 'duplicate lines'],
    rows: summary.runs.map((r) => [r.label, r.dir, String(r.documents), String(r.skippedLines), String(r.duplicateLines)]),
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
  const widths = table.header.map((h, i) => Math.max(h.length, ...table.rows.map((r) => (r[i] ?? '').length)));
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
