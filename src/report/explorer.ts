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
import type { PileDocument } from '../data/jsonl.js';
import type { DocumentResult } from '../eval/results.js';
import { curveOf } from './aggregate.js';
import type { ReportSummary, RunInput } from './summary.js';
import { escapeHtml } from './tables.js';

/** Documents the explorer shows at most (the largest gains and losses first): a page stays openable on the Pile's thousands. */
export const EXPLORER_DOCUMENTS = 500;
const EXCERPT_CHARACTERS = 400;
const NEIGHBOUR_EXCERPT_CHARACTERS = 240;
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf'];

export interface ExplorerTexts {
  /** Test documents by id (the file the evaluation read). */
  documents?: Map<number, PileDocument>;
  /** Neighbour texts by id (the file the index was built from). */
  neighbours?: Map<number, string>;
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

/** A small SVG of every method's bits-per-byte curve for one document (x: curve point, y: bits per byte). */
function curveSvg(curves: { label: string; bits: number[] }[]): string {
  const width = 420;
  const height = 180;
  const pad = { left: 48, right: 10, top: 10, bottom: 24 };
  const values = curves.flatMap((c) => c.bits).filter(Number.isFinite);
  const steps = Math.max(2, ...curves.map((c) => c.bits.length));
  const low = Math.min(...values);
  const high = Math.max(...values);
  const span = high - low || 1;
  const x = (i: number): number => pad.left + (i / (steps - 1)) * (width - pad.left - pad.right);
  const y = (v: number): number => pad.top + (1 - (v - low) / span) * (height - pad.top - pad.bottom);
  const lines = curves.map((c, i) => {
    const points = c.bits.map((v, step) => `${x(step).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
    return `<polyline class="curve" data-method="${escapeHtml(c.label)}" fill="none" stroke="${COLORS[i % COLORS.length]}" stroke-width="2" points="${points}"><title>${escapeHtml(c.label)}: ${c.bits.map((v) => v.toFixed(4)).join(', ')}</title></polyline>`;
  });
  const legend = curves.map((c, i) => `<text x="${width - pad.right}" y="${pad.top + 12 * (i + 1)}" text-anchor="end" font-size="10" fill="${COLORS[i % COLORS.length]}">${escapeHtml(c.label)}</text>`);
  const axes = [
    `<line x1="${pad.left}" y1="${height - pad.bottom}" x2="${width - pad.right}" y2="${height - pad.bottom}" stroke="#888"/>`,
    `<line x1="${pad.left}" y1="${pad.top}" x2="${pad.left}" y2="${height - pad.bottom}" stroke="#888"/>`,
    `<text x="${pad.left - 4}" y="${y(high) + 4}" text-anchor="end" font-size="10">${high.toFixed(3)}</text>`,
    `<text x="${pad.left - 4}" y="${y(low)}" text-anchor="end" font-size="10">${low.toFixed(3)}</text>`,
    `<text x="${(width + pad.left) / 2}" y="${height - 6}" text-anchor="middle" font-size="10">neighbours (interpolation: alpha index); bits per byte</text>`,
  ];
  return `<svg class="doc-curve" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">${[...axes, ...lines, ...legend].join('')}</svg>`;
}

/** The explorer section of report.html for the first run's methods. */
export function explorerHtml(summary: ReportSummary, run: RunInput, texts: ExplorerTexts): string {
  const methods = summary.methods.filter((m) => m.run === run.label);
  if (methods.length === 0) return '';
  const headline = methods.find((m) => m.declared?.report.verdict === 'subject') ?? methods[0]!;
  // doc_id -> method label -> its line
  const byDocument = new Map<number, Map<string, DocumentResult>>();
  for (const m of methods) {
    for (const docs of run.loaded.byMethod.get(m.method)?.values() ?? []) {
      for (const d of docs) (byDocument.get(d.doc_id) ?? byDocument.set(d.doc_id, new Map()).get(d.doc_id)!).set(m.method, d);
    }
  }
  const gainOf = (id: number): number => {
    const line = byDocument.get(id)!.get(headline.method);
    const bits = line ? bitsOf(line) : [];
    return bits.length > 0 ? bits[0]! - bits.at(-1)! : NaN;
  };
  const ids = [...byDocument.keys()].filter((id) => Number.isFinite(gainOf(id)));
  const byGain = [...ids].sort((a, b) => gainOf(b) - gainOf(a) || a - b);
  // Too many: the largest gains and the largest losses.
  const shown = byGain.length <= EXPLORER_DOCUMENTS ? byGain : [...byGain.slice(0, EXPLORER_DOCUMENTS / 2), ...byGain.slice(-EXPLORER_DOCUMENTS / 2)];
  const rank = (order: number[]): Map<number, number> => new Map(order.map((id, i) => [id, i]));
  const gainRank = rank(shown);
  const lossRank = rank([...shown].reverse());
  const idRank = rank([...shown].sort((a, b) => a - b));
  const parts = [
    '<section id="explorer"><h2>Document explorer</h2>',
    `<p class="note">Every document ${shown.length < byGain.length ? `(the ${EXPLORER_DOCUMENTS / 2} largest gains and losses of ${byGain.length}) ` : ''}with its task, an excerpt, its neighbours and its curve under every method. ` +
      `Gain: bits per byte before minus after the last neighbour under ${escapeHtml(headline.label)}. ${texts.documents ? '' : 'Texts: pass tttnn report --data (the test file). '}${texts.neighbours ? '' : "Neighbours' texts: pass --neighbour-data (the indexed file)."}</p>`,
    '<div class="explorer-sort">',
    '<input type="radio" name="explorer-sort" id="explorer-by-gain" checked><label for="explorer-by-gain">largest gain first</label>',
    '<input type="radio" name="explorer-sort" id="explorer-by-loss"><label for="explorer-by-loss">largest loss first</label>',
    '<input type="radio" name="explorer-sort" id="explorer-by-id"><label for="explorer-by-id">by document id</label>',
    '<ol class="explorer-index">',
    ...shown.map((id) => {
      const task = [...byDocument.get(id)!.values()][0]!.task;
      return `<li style="--by-gain: ${gainRank.get(id)}; --by-loss: ${lossRank.get(id)}; --by-id: ${idRank.get(id)}" data-gain="${gainOf(id)}"><a href="#doc-${id}">document ${id}</a> ${escapeHtml(task)}: gain ${gainOf(id).toFixed(4)} bits per byte</li>`;
    }),
    '</ol></div>',
  ];
  for (const id of shown) {
    const lines = byDocument.get(id)!;
    const first = lines.get(headline.method) ?? [...lines.values()][0]!;
    const doc = texts.documents?.get(id);
    const neighbourRows = first.neighbor_ids.map((n, i) => {
      const text = texts.neighbours?.get(n);
      const distance = first.neighbor_distances[i]!;
      const duplicate = distance === 0 || (text !== undefined && doc !== undefined && text === doc.text);
      return `<tr class="neighbour"><td>${i + 1}</td><td>${n}</td><td class="distance">${distance.toFixed(4)}</td><td class="${duplicate ? 'duplicate' : ''}">${duplicate ? 'duplicate' : 'no'}</td><td class="excerpt">${excerpt(text, NEIGHBOUR_EXCERPT_CHARACTERS, 'text not available (--neighbour-data)')}</td></tr>`;
    });
    const losses = [...lines].filter(([, d]) => d.train_losses && d.train_losses.length > 0);
    const lossRows = losses.map(([method, d]) => {
      const means = d.train_losses!.map((steps) => (steps.some((v) => v === null) || steps.length === 0 ? NaN : (steps as number[]).reduce((s, v) => s + v, 0) / steps.length));
      return `<tr><td>${escapeHtml(method)}</td>${means.map((v) => `<td>${Number.isFinite(v) ? v.toFixed(4) : 'n/a'}</td>`).join('')}</tr>`;
    });
    const longest = Math.max(0, ...losses.map(([, d]) => d.train_losses!.length));
    parts.push(
      `<section class="doc" id="doc-${id}"><h3>Document ${id} — ${escapeHtml(first.task)}</h3>`,
      `<p class="note">Gain under ${escapeHtml(headline.label)}: ${gainOf(id).toFixed(4)} bits per byte; ${first.bytes} bytes, ${first.words} words, ${first.tokens} tokens.</p>`,
      `<div class="excerpt doc-text">${excerpt(doc?.text, EXCERPT_CHARACTERS, 'text not available (tttnn report --data)')}</div>`,
      curveSvg([...lines].map(([method, d]) => ({ label: method, bits: bitsOf(d) }))),
      `<table class="neighbours"><thead><tr><th>#</th><th>id</th><th>distance</th><th>duplicate</th><th>excerpt</th></tr></thead><tbody>${neighbourRows.join('')}</tbody></table>`,
      ...(lossRows.length > 0 ? [`<table class="training-losses"><thead><tr><th>mean training loss after neighbour</th>${Array.from({ length: longest }, (_, i) => `<th>${i + 1}</th>`).join('')}</tr></thead><tbody>${lossRows.join('')}</tbody></table>`] : []),
      '<p><a href="#explorer">back to the index</a></p></section>',
    );
  }
  parts.push('</section>');
  return parts.join('\n');
}
