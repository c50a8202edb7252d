// The HTML report: one self-contained file (inline CSS, every plot inlined
// as SVG, no script, nothing fetched), so it opens offline and can be mailed
// or archived as it is. The tables link to the per-document explorer at its end.
import type { GenerationExample } from '../eval/generation-example.js';
import { generationExampleHtml } from './generation-example.js';
import type { RenderedPlot } from './plots.js';
import type { ReportSummary } from './summary.js';
import { escapeHtml, toHtml, type Table } from './tables.js';
import { EXPLORER_STYLE, type Explorer } from './explorer.js';

const STYLE = `
body { font-family: "DejaVu Sans", Verdana, sans-serif; margin: 2em auto; max-width: 1200px; color: #222; padding: 0 1em; }
h1 { font-size: 1.6em; } h2 { margin-top: 2em; border-bottom: 1px solid #ccc; } h3 { font-size: 1.05em; margin-top: 1.5em; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0 1em; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: right; white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
thead { background: #f3f3f3; }
.note { color: #555; font-size: 0.85em; max-width: 900px; }
figure { margin: 1em 0 2em; overflow-x: auto; } figcaption { color: #555; font-size: 0.9em; }
pre.generation { white-space: pre-wrap; background: #f7f7f7; border: 1px solid #ddd; padding: 0.6em; max-width: 900px; font-size: 0.85em; }
.warnings { font-family: monospace; font-size: 0.8em; color: #8a4b00; white-space: pre-wrap; }
`;

/** How many warnings the page lists (all are counted; the terminal printed them all). */
const WARNINGS_SHOWN = 50;

export interface HtmlSections {
  summary: ReportSummary;
  tables: { heading: string; tables: Table[] }[];
  plots: readonly RenderedPlot[];
  generated: Date;
  /** The per-document explorer (explorer.ts), after the tables; every section of tables links to it. */
  explorer?: Explorer;
  /** The worked example (generation-example.json), shown last. */
  generationExample?: GenerationExample;
}

export function reportHtml({ summary, tables, plots, generated, explorer, generationExample }: HtmlSections): string {
  const warnings = summary.runs.flatMap((r) => r.warnings);
  const skipped = summary.runs.reduce((n, r) => n + r.skippedLines, 0);
  const used = summary.runs.reduce((n, r) => n + r.documents, 0);
  const failed = summary.runs.reduce((n, r) => n + r.failedRetrievals, 0);
  const dropped = summary.runs.reduce((n, r) => n + r.droppedByMedianFilter, 0);
  const parts = [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<title>TTT-NN report</title>',
    `<style>${STYLE}${EXPLORER_STYLE}</style>`,
    '</head><body>',
    '<h1>TTT-NN report</h1>',
    `<p class="note">Generated ${escapeHtml(generated.toISOString())}. ${used} documents used, ${failed} failed retrievals left out, ` +
      `${summary.medianFilter ? `${dropped} documents dropped by the median filter, ` : ''}${skipped} result lines skipped. ` +
      `Bootstrap: ${summary.bootstrap.resamples} resamples of documents, seed ${summary.bootstrap.seed}, 10%-90% intervals. ` +
      `pile_all is the weighted mean of the tasks (weights in the per-task tables).</p>`,
  ];
  if (warnings.length > 0) {
    const shown = warnings.slice(0, WARNINGS_SHOWN).map(escapeHtml).join('\n');
    parts.push(`<h2>Warnings (${warnings.length})</h2>`, `<div class="warnings">${shown}${warnings.length > WARNINGS_SHOWN ? `\n… and ${warnings.length - WARNINGS_SHOWN} more` : ''}</div>`);
  }
  for (const section of tables) {
    parts.push(`<h2>${escapeHtml(section.heading)}</h2>`, ...section.tables.map(toHtml));
    if (explorer?.html) parts.push(explorerLink(explorer));
    if (section === tables[0] && plots.length > 0) {
      parts.push('<h2>Plots</h2>');
      for (const p of plots) parts.push(`<figure id="plot-${escapeHtml(p.name)}">${stripXmlDeclaration(p.svg)}<figcaption>${escapeHtml(p.title)} (${escapeHtml(p.name)}.svg, ${escapeHtml(p.name)}.png)</figcaption></figure>`);
    }
  }
  if (explorer?.html) parts.push(explorer.html);
  if (generationExample) parts.push(generationExampleHtml(generationExample));
  parts.push('</body></html>', '');
  return parts.join('\n');
}

/** An SVG document inlined into HTML must not carry an XML declaration. */
function stripXmlDeclaration(svg: string): string {
  return svg.replace(/^<\?xml[^>]*>\s*/, '');
}

/** Under each section of tables: the explorer, and straight to the document that gained most. */
function explorerLink({ largestGain }: Explorer): string {
  const top = largestGain ? `; largest gain: <a class="largest-gain" href="#doc-${largestGain.id}">document ${largestGain.id} (${escapeHtml(largestGain.task)}, ${largestGain.gain.toFixed(4)} bits per byte)</a>` : '';
  return `<p class="note explorer-link">Per document: <a href="#explorer">the document explorer</a> (sortable by gain)${top}</p>`;
}
