// One document's curves in the explorer: a small inline SVG with a line per
// method (bits per byte after 0, 1, … neighbours, or per alpha for
// interpolation). Hundreds of these sit on one page, so each line is drawn
// at no more than EXPLORER_CURVE_POINTS evenly spaced steps (first and last
// kept) and the page says so; the method's full curve is in its <title>
// only when it was drawn whole.
import { plotted } from './plotted-points.js';
import { escapeHtml } from './tables.js';

/** The most points one method's line has in a document's plot. */
export const EXPLORER_CURVE_POINTS = 100;
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf'];

export interface DocumentCurve {
  label: string;
  /** Bits per byte at each step of the curve. */
  bits: readonly number[];
}

// Never Math.min(...values): a curve of ~125 K points or more overflows the stack.
const lowest = (values: readonly number[]): number => values.reduce((a, b) => Math.min(a, b), Infinity);
const highest = (values: readonly number[]): number => values.reduce((a, b) => Math.max(a, b), -Infinity);

export function documentCurveSvg(curves: readonly DocumentCurve[]): string {
  const width = 420;
  const height = 180;
  const pad = { left: 48, right: 10, top: 22, bottom: 24 };
  const drawn = curves.map((c) => ({ label: c.label, whole: c.bits.length <= EXPLORER_CURVE_POINTS, points: plotted(c.bits, EXPLORER_CURVE_POINTS).filter((p) => Number.isFinite(p.value)) }));
  const values = drawn.flatMap((c) => c.points.map((p) => p.value));
  if (values.length === 0) return '<p class="note">no curve (no finite bits per byte)</p>';
  const lastStep = Math.max(1, ...curves.map((c) => c.bits.length - 1));
  const low = lowest(values);
  const high = highest(values);
  const span = high - low || 1;
  const x = (step: number): number => pad.left + (step / lastStep) * (width - pad.left - pad.right);
  const y = (v: number): number => pad.top + (1 - (v - low) / span) * (height - pad.top - pad.bottom);
  const color = (i: number): string => COLORS[i % COLORS.length]!;
  const lines = drawn.map((c, i) => {
    const points = c.points.map((p) => `${x(p.step).toFixed(1)},${y(p.value).toFixed(1)}`).join(' ');
    const title = c.whole ? c.points.map((p) => p.value.toFixed(4)).join(', ') : `${c.points.length} of ${curves[i]!.bits.length} steps drawn`;
    return `<polyline class="curve" data-method="${escapeHtml(c.label)}" fill="none" stroke="${color(i)}" stroke-width="2" points="${points}"><title>${escapeHtml(c.label)}: ${title}</title></polyline>`;
  });
  // The legend is a row above the plot area, where no line can hide it.
  let legendX = pad.left;
  const legend = drawn.map((c, i) => {
    const text = `<text x="${legendX}" y="12" font-size="10" fill="${color(i)}">${escapeHtml(c.label)}</text>`;
    legendX += 6 * c.label.length + 14;
    return text;
  });
  const axes = [
    `<line x1="${pad.left}" y1="${height - pad.bottom}" x2="${width - pad.right}" y2="${height - pad.bottom}" stroke="#888"/>`,
    `<line x1="${pad.left}" y1="${pad.top}" x2="${pad.left}" y2="${height - pad.bottom}" stroke="#888"/>`,
    `<text x="${pad.left - 4}" y="${y(high) + 4}" text-anchor="end" font-size="10">${high.toFixed(3)}</text>`,
    `<text x="${pad.left - 4}" y="${y(low)}" text-anchor="end" font-size="10">${low.toFixed(3)}</text>`,
    `<text x="${pad.left}" y="${height - 6}" font-size="10">0</text>`,
    `<text x="${width - pad.right}" y="${height - 6}" text-anchor="end" font-size="10">${lastStep}</text>`,
    `<text x="${(width + pad.left) / 2}" y="${height - 6}" text-anchor="middle" font-size="10">bits per byte vs neighbours (interpolation: alpha index)</text>`,
  ];
  return `<svg class="doc-curve" role="img" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">${[...axes, ...lines, ...legend].join('')}</svg>`;
}
