// The report's per-document explorer: for each evaluated document its task,
// an excerpt, its neighbours (distance, excerpt, duplicate or not), its curve
// for every method and its training losses — for when a number surprises.
// Like the rest of report.html it runs no script and fetches nothing: the
// index is sorted by CSS alone (radio buttons set each entry's `order` from
// custom properties holding its ranks), curves are inline SVG.
//
// The headline method (TTT-NN, or the first) defines a document's gain: its
// bits per byte before minus after the last neighbour. Texts come from the
// test file (--data) and the neighbours' from the indexed file
// (--neighbour-data); without them the explorer says so where a text would be.
//
// The page must stay openable for the Pile's thousands of documents with
// thousands of neighbours each (issue 35 made a 395 MB page), so everything
// per document is capped, and the page says by how much: documents shown,
// excerpt lengths, neighbours listed, curve points, training-loss columns.
import type { PileDocument } from '../data/jsonl.js';
import { isDuplicate } from '../eval/duplicates.js';
import type { DocumentResult } from '../eval/results.js';
import { curveOf } from './aggregate.js';
import { documentCurveSvg, EXPLORER_CURVE_POINTS } from './explorer-curve.js';
import { plottedSteps } from './plotted-points.js';
import type { ReportSummary, RunInput } from './summary.js';
import { escapeHtml } from './tables.js';

/** Documents the explorer shows at most (half the largest gains, half the largest losses). */
export const EXPLORER_DOCUMENTS = 500;
/** Characters of a document's text shown. */
export const EXCERPT_CHARACTERS = 400;
/** Characters of each neighbour's text shown. */
export const NEIGHBOUR_EXCERPT_CHARACTERS = 240;
/** Neighbours listed per document (in the order they were trained on). */
export const EXPLORER_NEIGHBOURS = 20;
/** Training-loss columns per document (evenly spaced neighbours, first and last kept). */
export const EXPLORER_LOSS_COLUMNS = 20;

export interface ExplorerTexts {
  /** Test documents by id (the file the evaluation read). */
  documents?: Map<number, PileDocument>;
  /** Neighbour texts by id (the file the index was built from). */
  neighbours?: Map<number, string>;
}

export interface Explorer {
  /** The explorer's <section id="explorer">. */
  html: string;
  /** The document that gained most, which the tables link to. */
  largestGain?: { id: number; task: string; gain: number };
}

export const EXPLORER_STYLE = `
.explorer-sort label { margin-right: 1em; }
.explorer-index { display: flex; flex-direction: column; max-height: 24em; overflow-y: auto; border: 1px solid #ddd; padding: 0.3em; margin: 0.5em 0 1.5em; font-size: 0.85em; list-style: none; }
.explorer-index li { order: var(--by-gain); }
#explorer-by-loss:checked ~ .explorer-index li { order: var(--by-loss); }
#explorer-by-id:checked ~ .explorer-index li { order: var(--by-id); }
.doc { border-top: 1px solid #ccc; padding-top: 0.5em; margin-top: 1.5em; }
.doc:target { background: #fffbe6; }
.excerpt { font-family: monospace; font-size: 0.8em; white-space: pre-wrap; background: #f7f7f7; padding: 0.5em; max-width: 1100px; }
td.excerpt { white-space: normal; text-align: left; max-width: 600px; }
.duplicate { color: #b00; font-weight: bold; }
`;

const excerpt = (text: string | undefined, characters: number, missing: string): string =>
  text === undefined ? `<em>${escapeHtml(missing)}</em>` : escapeHtml(text.length > characters ? `${text.slice(0, characters)}…` : text);

const bitsOf = (d: DocumentResult): number[] => curveOf(d).map((ll) => -ll / d.bytes / Math.LN2);

/** What the duplicate column says: the runner's rule (eval/duplicates.ts) on the whole text; without the neighbour's text only distance 0 can tell. */
function duplicateCell(distance: number, text: string | undefined, documentText: string | undefined): string {
  if (text === undefined || documentText === undefined) {
    return distance === 0 ? '<td class="duplicate">duplicate</td>' : '<td class="duplicate-unknown">unknown (no text)</td>';
  }
  return isDuplicate({ distance, text }, documentText) ? '<td class="duplicate">duplicate</td>' : '<td>no</td>';
}

const mean = (steps: readonly (number | null)[]): number =>
  steps.length === 0 || steps.some((v) => v === null) ? NaN : (steps as number[]).reduce((s, v) => s + v, 0) / steps.length;

/** Each method's mean training loss after each neighbour, at most EXPLORER_LOSS_COLUMNS evenly spaced columns. */
function lossTable(lines: Map<string, DocumentResult>): string {
  const losses = [...lines].filter(([, d]) => d.train_losses && d.train_losses.length > 0);
  if (losses.length === 0) return '';
  const longest = Math.max(...losses.map(([, d]) => d.train_losses!.length));
  const columns = plottedSteps(longest, EXPLORER_LOSS_COLUMNS);
  const rows = losses.map(([method, d]) => {
    const cells = columns.map((i) => {
      const v = i < d.train_losses!.length ? mean(d.train_losses![i]!) : NaN;
      return `<td>${Number.isFinite(v) ? v.toFixed(4) : 'n/a'}</td>`;
    });
    return `<tr><td>${escapeHtml(method)}</td>${cells.join('')}</tr>`;
  });
  const thinned = columns.length < longest ? ` (${columns.length} evenly spaced of ${longest})` : '';
  return `<table class="training-losses"><thead><tr><th>mean training loss, neighbour${thinned}</th>${columns.map((i) => `<th>${i + 1}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

interface Selection {
  headline: { method: string; label: string };
  /** doc_id -> method -> its line */
  byDocument: Map<number, Map<string, DocumentResult>>;
  gains: Map<number, number>;
  /** Every document with a gain, the largest first. */
  byGain: number[];
  /** The documents shown, in order of gain. */
  shown: number[];
}

/** The first run's documents with their gains, and those the explorer shows; undefined when there is none. */
function select(summary: ReportSummary, run: RunInput): Selection | undefined {
  const methods = summary.methods.filter((m) => m.run === run.label);
  if (methods.length === 0) return undefined;
  const headline = methods.find((m) => m.declared?.report.verdict === 'subject') ?? methods[0]!;
  const byDocument = new Map<number, Map<string, DocumentResult>>();
  for (const m of methods) {
    for (const docs of run.loaded.byMethod.get(m.method)?.values() ?? []) {
      for (const d of docs) (byDocument.get(d.doc_id) ?? byDocument.set(d.doc_id, new Map()).get(d.doc_id)!).set(m.method, d);
    }
  }
  const gains = new Map<number, number>();
  for (const [id, lines] of byDocument) {
    const line = lines.get(headline.method);
    const bits = line ? bitsOf(line) : [];
    if (bits.length > 0 && Number.isFinite(bits[0]! - bits.at(-1)!)) gains.set(id, bits[0]! - bits.at(-1)!);
  }
  const byGain = [...gains.keys()].sort((a, b) => gains.get(b)! - gains.get(a)! || a - b);
  if (byGain.length === 0) return undefined;
  // Too many: the largest gains and the largest losses, the documents one opens the explorer for.
  const shown = byGain.length <= EXPLORER_DOCUMENTS ? byGain : [...byGain.slice(0, EXPLORER_DOCUMENTS / 2), ...byGain.slice(-EXPLORER_DOCUMENTS / 2)];
  return { headline, byDocument, gains, byGain, shown };
}

/** The line whose neighbours a document's entry lists: the headline method's, else any. */
const listedLine = (lines: Map<string, DocumentResult>, headline: { method: string }): DocumentResult => lines.get(headline.method) ?? [...lines.values()][0]!;

/** The texts the explorer shows, so that report.ts reads only those: the documents shown and the neighbours they list. */
export function explorerWants(summary: ReportSummary, run: RunInput): { documents: Set<number>; neighbours: Set<number> } {
  const selection = select(summary, run);
  if (!selection) return { documents: new Set(), neighbours: new Set() };
  const neighbours = selection.shown.flatMap((id) => listedLine(selection.byDocument.get(id)!, selection.headline).neighbor_ids.slice(0, EXPLORER_NEIGHBOURS));
  return { documents: new Set(selection.shown), neighbours: new Set(neighbours) };
}

/** The explorer section of report.html for the first run's methods (with --compare, the others are in the tables only). */
export function explorerHtml(summary: ReportSummary, run: RunInput, texts: ExplorerTexts): Explorer {
  const selection = select(summary, run);
  if (!selection) return { html: '' };
  const { headline, byDocument, gains, byGain, shown } = selection;
  const gainOf = (id: number): number => gains.get(id)!;
  const rank = (order: number[]): Map<number, number> => new Map(order.map((id, i) => [id, i]));
  const gainRank = rank(shown);
  const lossRank = rank([...shown].reverse());
  const idRank = rank([...shown].sort((a, b) => a - b));
  const taskOf = (id: number): string => listedLine(byDocument.get(id)!, headline).task;
  const parts = [
    '<section id="explorer"><h2>Document explorer</h2>',
    `<p class="note">${shown.length < byGain.length ? `The ${EXPLORER_DOCUMENTS / 2} largest gains and the ${EXPLORER_DOCUMENTS / 2} largest losses of ${byGain.length} documents` : `All ${byGain.length} documents`} of ${escapeHtml(run.label)}, ` +
      `each with its task, an excerpt, its neighbours and its curve under every method. ` +
      `Gain: bits per byte before minus after the last neighbour under ${escapeHtml(headline.label)}. ` +
      `To keep the page small: the first ${EXCERPT_CHARACTERS} characters of a document, the first ${EXPLORER_NEIGHBOURS} neighbours with ${NEIGHBOUR_EXCERPT_CHARACTERS} characters each, ` +
      `curves at ${EXPLORER_CURVE_POINTS} evenly spaced points and training losses at ${EXPLORER_LOSS_COLUMNS} at most. ` +
      'Duplicate: a neighbour at distance 0 or with the whole text of the document (the scored part alone, which the run also counted, needs the tokenizer: see its count per document). ' +
      `${texts.documents ? '' : 'Texts: pass tttnn report --data (the test file). '}${texts.neighbours ? '' : "Neighbours' texts: pass --neighbour-data (the indexed file)."}</p>`,
    '<div class="explorer-sort">',
    '<input type="radio" name="explorer-sort" id="explorer-by-gain" checked><label for="explorer-by-gain">largest gain first</label>',
    '<input type="radio" name="explorer-sort" id="explorer-by-loss"><label for="explorer-by-loss">largest loss first</label>',
    '<input type="radio" name="explorer-sort" id="explorer-by-id"><label for="explorer-by-id">by document id</label>',
    '<ol class="explorer-index">',
    ...shown.map((id) =>
      `<li style="--by-gain: ${gainRank.get(id)}; --by-loss: ${lossRank.get(id)}; --by-id: ${idRank.get(id)}" data-gain="${gainOf(id)}"><a href="#doc-${id}">document ${id}</a> ${escapeHtml(taskOf(id))}: gain ${gainOf(id).toFixed(4)} bits per byte</li>`),
    '</ol></div>',
  ];
  for (const id of shown) parts.push(documentHtml(id, byDocument.get(id)!, headline, gainOf(id), texts));
  parts.push('</section>');
  const top = byGain[0]!;
  return { html: parts.join('\n'), largestGain: { id: top, task: taskOf(top), gain: gainOf(top) } };
}

/** One document's entry: heading, excerpt, curves, neighbours, training losses. */
function documentHtml(id: number, lines: Map<string, DocumentResult>, headline: { method: string; label: string }, gain: number, texts: ExplorerTexts): string {
  const first = listedLine(lines, headline);
  const documentText = texts.documents?.get(id)?.text;
  const listed = first.neighbor_ids.slice(0, EXPLORER_NEIGHBOURS);
  const neighbourRows = listed.map((n, i) => {
    const text = texts.neighbours?.get(n);
    const distance = first.neighbor_distances[i]!;
    return `<tr class="neighbour"><td>${i + 1}</td><td>${n}</td><td class="distance">${distance.toFixed(4)}</td>${duplicateCell(distance, text, documentText)}<td class="excerpt">${excerpt(text, NEIGHBOUR_EXCERPT_CHARACTERS, 'text not available (--neighbour-data)')}</td></tr>`;
  });
  const counted = first.duplicate_neighbors !== undefined ? ` The run counted ${first.duplicate_neighbors} duplicate${first.duplicate_neighbors === 1 ? '' : 's'} among the neighbours it retrieved${first.excluded_duplicates ? ` and dropped ${first.excluded_duplicates}` : ''}.` : '';
  const more = first.neighbor_ids.length > listed.length ? ` (the first ${listed.length} of ${first.neighbor_ids.length})` : '';
  return [
    `<section class="doc" id="doc-${id}"><h3>Document ${id} — ${escapeHtml(first.task)}</h3>`,
    `<p class="note">Gain under ${escapeHtml(headline.label)}: ${gain.toFixed(4)} bits per byte; ${first.bytes} bytes, ${first.words} words, ${first.tokens} tokens.${counted}</p>`,
    `<div class="excerpt doc-text">${excerpt(documentText, EXCERPT_CHARACTERS, 'text not available (tttnn report --data)')}</div>`,
    documentCurveSvg([...lines].map(([method, d]) => ({ label: method, bits: bitsOf(d) }))),
    `<table class="neighbours"><caption>neighbours${more}</caption><thead><tr><th>#</th><th>id</th><th>distance</th><th>duplicate</th><th>excerpt</th></tr></thead><tbody>${neighbourRows.join('')}</tbody></table>`,
    lossTable(lines),
    '<p><a href="#explorer">back to the index</a></p></section>',
  ].filter((part) => part !== '').join('\n');
}
