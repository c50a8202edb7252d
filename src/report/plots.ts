// The report's plots: Vega-Lite specifications compiled to Vega and rendered
// headless to SVG (vega's own SVG renderer, no browser and no canvas), then
// rasterised to PNG by resvg. Each plot is a plain data table plus a spec,
// so a reader can restyle one by editing its spec.
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { plotted, plottedSteps, thinnedNote } from './plotted-points.js';
import type { PublishedSource } from './published.js';
import { costPoints, paretoFrontier } from './selection-cost.js';
import type { MethodSummary, ReportSummary } from './summary.js';

export interface Plot {
  /** File stem: `<name>.svg`, `<name>.png`. */
  name: string;
  title: string;
  spec: TopLevelSpec;
}

export interface RenderedPlot extends Plot {
  svg: string;
  png: Buffer;
}

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
const FONT = 'DejaVu Sans, Verdana, sans-serif';
// Legend labels as long as a published run's directory name (vega cuts them at 160 px by default).
const CONFIG = { font: FONT, background: 'white', view: { stroke: '#ddd' }, axis: { labelFontSize: 11, titleFontSize: 12 }, legend: { labelLimit: 480 } };
type Row = Record<string, string | number>;

const finite = (rows: Row[]): Row[] => rows.filter((r) => Object.values(r).every((v) => typeof v === 'string' || Number.isFinite(v)));

/**
 * Methods whose curve runs over neighbours: not interpolation (over alphas),
 * nor context, whose two points are without and with all its neighbours.
 */
const overNeighbours = (summary: ReportSummary): MethodSummary[] => summary.methods.filter((m) => m.kind === 'neighbours' && m.documents > 0);

/** The published curves over neighbours (the original's aggregate_stats.pth), drawn as "published <run>" lines. */
const publishedCurves = (summary: ReportSummary): PublishedSource[] => summary.published.filter((s) => s.curves !== undefined);

function curveSpec(title: string, rows: Row[], taskOrder: readonly string[] | undefined, columns: number): TopLevelSpec {
  const layer = {
    mark: { type: 'line' as const, point: true },
    encoding: {
      x: { field: 'neighbours', type: 'quantitative' as const, title: 'neighbours', axis: { tickMinStep: 1 } },
      y: { field: 'bits_per_byte', type: 'quantitative' as const, title: 'bits per byte', scale: { zero: false } },
      color: { field: 'method', type: 'nominal' as const, title: 'method' },
    },
  };
  const base = { $schema: SCHEMA, title, config: CONFIG, data: { values: finite(rows) } };
  if (!taskOrder) return { ...base, width: 420, height: 260, ...layer };
  return {
    ...base,
    facet: { field: 'task', type: 'nominal', title: null, sort: taskOrder },
    columns,
    resolve: { scale: { y: 'independent' } },
    spec: { width: 170, height: 120, ...layer },
  } as TopLevelSpec;
}

/** Training loss vs neighbours, one panel per task (pile_all first), one line per method. */
function lossSpec(rows: Row[], taskOrder: readonly string[]): TopLevelSpec {
  return {
    $schema: SCHEMA,
    title: 'Training loss vs neighbours',
    config: CONFIG,
    data: { values: finite(rows) },
    facet: { field: 'task', type: 'nominal', title: null, sort: taskOrder },
    columns: 6,
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: 170,
      height: 120,
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'neighbours', type: 'quantitative', title: 'neighbours', axis: { tickMinStep: 1 } },
        y: { field: 'training_loss', type: 'quantitative', title: 'training loss', scale: { zero: false } },
        color: { field: 'method', type: 'nominal', title: 'method' },
      },
    },
  } as TopLevelSpec;
}

/** One panel per method (rows, in the report's method order), each a bar-width-per-task chart of `panel`. */
function methodPanels(title: string, rows: Row[], methodOrder: readonly string[], panel: Record<string, unknown>): TopLevelSpec {
  return {
    $schema: SCHEMA,
    title,
    config: CONFIG,
    data: { values: finite(rows) },
    facet: { row: { field: 'method', type: 'nominal', title: null, sort: methodOrder } },
    spec: { width: { step: 30 }, height: 160, ...panel },
  } as TopLevelSpec;
}

function curveRows(methods: readonly MethodSummary[], published: readonly PublishedSource[], tasks?: ReadonlySet<string>): Row[] {
  const ours = methods.flatMap((m) =>
    tasks === undefined
      ? plotted(m.pileAll.curve).map(({ step, value }) => ({ method: m.label, neighbours: step, bits_per_byte: value.bits_per_byte }))
      : m.tasks.filter((t) => tasks.has(t.task)).flatMap((t) => plotted(t.curve).map(({ step, value }) => ({ method: m.label, task: t.task, neighbours: step, bits_per_byte: value.bits_per_byte }))),
  );
  const theirs = published.flatMap((s) =>
    [...(s.curves ?? [])]
      .filter(([task]) => (tasks === undefined ? task === 'pile_all' : tasks.has(task)))
      .flatMap(([task, points]) => plotted(points).map(({ step, value }) => ({ method: s.label, ...(tasks === undefined ? {} : { task }), neighbours: step, bits_per_byte: value.bits_per_byte ?? NaN }))),
  );
  return [...ours, ...theirs];
}

/** Training loss after neighbour 1..n, pile_all first then every task, ours and published. */
function trainingLossRows(methods: readonly MethodSummary[], published: readonly PublishedSource[], tasks: ReadonlySet<string>): Row[] {
  const ours = methods.flatMap((m) => [
    ...plotted(m.pileAll.trainingLoss).map(({ step, value }) => ({ method: m.label, task: 'pile_all', neighbours: step + 1, training_loss: value })),
    ...m.tasks.flatMap((t) => plotted(t.trainingLoss).map(({ step, value }) => ({ method: m.label, task: t.task, neighbours: step + 1, training_loss: value }))),
  ]);
  // A published curve's point 0 is before any training (NaN): neighbours 1..n are points 1..n.
  const theirs = published.flatMap((s) =>
    [...(s.curves ?? [])]
      .filter(([task]) => task === 'pile_all' || tasks.has(task))
      .flatMap(([task, points]) => plotted(points.slice(1)).map(({ step, value }) => ({ method: s.label, task, neighbours: step + 1, training_loss: value.training_loss ?? NaN }))),
  );
  return [...ours, ...theirs];
}

/** Every plot the summary has data for. */
export function reportPlots(summary: ReportSummary): Plot[] {
  // Every table and plot lists tasks heaviest first.
  const taskOrder = [...new Set(summary.methods.flatMap((m) => m.tasks.map((t) => t.task)))];
  const methodOrder = summary.methods.map((m) => m.label);
  return [
    ...neighbourCurvePlots(summary),
    ...beforeAfterPlot(summary, taskOrder, methodOrder),
    ...costPlot(summary, taskOrder, methodOrder),
    ...distancePlot(summary),
    ...alphaPlot(summary),
    ...secondsPlot(summary),
  ];
}

/** pile_all bits per byte vs mean seconds per document, one line per method through 0..k neighbours; the Pareto frontier circled. */
function secondsPlot(summary: ReportSummary): Plot[] {
  const points = costPoints(summary);
  if (points.length === 0) return [];
  const frontier = new Set(paretoFrontier(points).map((p) => `${p.label}/${p.neighbours}`));
  const steps = new Set(plottedSteps(Math.max(...points.map((p) => p.neighbours)) + 1));
  const thinned = thinnedNote(Math.max(...points.map((p) => p.neighbours)) + 1);
  const rows: Row[] = points.filter((p) => steps.has(p.neighbours) || frontier.has(`${p.label}/${p.neighbours}`)).map((p) => ({ method: p.label, neighbours: p.neighbours, seconds: p.seconds, bits_per_byte: p.bitsPerByte, frontier: frontier.has(`${p.label}/${p.neighbours}`) ? 'Pareto frontier' : 'dominated' }));
  const x = { field: 'seconds', type: 'quantitative' as const, title: 'seconds per document (retrieval, selection, training, one scoring)' };
  const y = { field: 'bits_per_byte', type: 'quantitative' as const, title: 'pile_all bits per byte', scale: { zero: false } };
  return [{
    name: 'bits-per-byte-vs-seconds',
    title: `Bits per byte vs seconds per document (every method and selection; the Pareto frontier circled)${thinned}`,
    spec: {
      $schema: SCHEMA,
      title: 'Bits per byte vs seconds per document',
      config: CONFIG,
      data: { values: finite(rows) },
      width: 480,
      height: 280,
      layer: [
        { mark: { type: 'line', point: true }, encoding: { x, y, color: { field: 'method', type: 'nominal' }, order: { field: 'neighbours' } } },
        { transform: [{ filter: "datum.frontier == 'Pareto frontier'" }], mark: { type: 'point', size: 160, color: 'black', filled: false }, encoding: { x, y } },
      ],
    },
  }];
}

/** Bits per byte vs neighbours (pile_all, the six largest tasks, every task) and training loss vs neighbours. */
function neighbourCurvePlots(summary: ReportSummary): Plot[] {
  const curved = overNeighbours(summary);
  if (curved.length === 0) return [];
  const published = publishedCurves(summary);
  const plots: Plot[] = [];
  const longest = Math.max(...curved.map((m) => m.tasks.reduce((most, t) => Math.max(most, t.curve.length), m.pileAll.curve.length)), ...published.flatMap((s) => [...s.curves!.values()].map((c) => c.length)));
  const thinned = thinnedNote(longest);
  plots.push({ name: 'pile_all-curve', title: `pile_all: bits per byte vs neighbours${thinned}`, spec: curveSpec(`pile_all: bits per byte vs neighbours${thinned}`, curveRows(curved, published), undefined, 1) });
  const byWeight = curved[0]!.tasks.map((t) => t.task);
  plots.push({ name: 'largest-tasks-curves', title: `The six largest tasks: bits per byte vs neighbours${thinned}`, spec: curveSpec(`The six largest tasks${thinned}`, curveRows(curved, published, new Set(byWeight.slice(0, 6))), byWeight.slice(0, 6), 6) });
  plots.push({ name: 'task-curves', title: `Every task: bits per byte vs neighbours${thinned}`, spec: curveSpec(`Every task${thinned}`, curveRows(curved, published, new Set(byWeight)), byWeight, 6) });
  // The original plots training loss vs neighbours per task (process_results.py, plot_curve with 'training_loss').
  const trained = curved.filter((m) => m.pileAll.trainingLoss.some(Number.isFinite));
  if (trained.length > 0) {
    const rows = trainingLossRows(trained, published, new Set(byWeight));
    plots.push({ name: 'training-loss', title: `Training loss vs neighbours: pile_all and every task${thinned}`, spec: lossSpec(rows, ['pile_all', ...byWeight]) });
  }
  return plots;
}

/** Before/after bars per task with their 10-90% intervals, one panel per method. */
function beforeAfterPlot(summary: ReportSummary, taskOrder: string[], methodOrder: string[]): Plot[] {
  const bars: Row[] = summary.methods.flatMap((m) =>
    [...m.tasks, { task: 'pile_all', ...m.pileAll }].flatMap((t) => [
      { method: m.label, task: t.task, when: 'before', bits_per_byte: t.before.value, low: t.before.low, high: t.before.high },
      { method: m.label, task: t.task, when: 'after', bits_per_byte: t.after.value, low: t.after.low, high: t.after.high },
    ]),
  );
  if (finite(bars).length === 0) return [];
  const x = { field: 'task', type: 'nominal', title: null, sort: [...taskOrder, 'pile_all'], axis: { labelAngle: -40 } };
  const when = { field: 'when', sort: ['before', 'after'] };
  return [{
    name: 'before-after',
    title: 'Bits per byte before and after, with 10-90% bootstrap intervals',
    spec: methodPanels('Before and after (10-90% intervals)', bars, methodOrder, {
      layer: [
        { mark: 'bar', encoding: { x, xOffset: when, y: { field: 'bits_per_byte', type: 'quantitative', title: 'bits per byte' }, color: { ...when, type: 'nominal', title: null, scale: { domain: ['before', 'after'] } } } },
        { mark: { type: 'rule', color: 'black' }, encoding: { x, xOffset: when, y: { field: 'low', type: 'quantitative' }, y2: { field: 'high' } } },
      ],
    }),
  }];
}

/** The original's cost: training plus the evaluation after it (eval_tttlm.py:296-301), per neighbour. */
function costPlot(summary: ReportSummary, taskOrder: string[], methodOrder: string[]): Plot[] {
  const cost: Row[] = summary.methods.flatMap((m) => m.tasks.flatMap((t) => t.costSecondsPerNeighbor.map((seconds) => ({ method: m.label, task: t.task, seconds }))));
  if (cost.length === 0) return [];
  return [{
    name: 'training-cost',
    title: 'Seconds per neighbour (training and the evaluation after it), per task',
    spec: methodPanels('Cost per neighbour (training + evaluation)', cost, methodOrder, {
      mark: { type: 'boxplot', extent: 'min-max' },
      encoding: { x: { field: 'task', type: 'nominal', title: null, sort: taskOrder, axis: { labelAngle: -40 } }, y: { field: 'seconds', type: 'quantitative', title: 'seconds per neighbour' } },
    }),
  }];
}

/** Retrieval is the same for every method of a run: one histogram per run, from its first method with neighbours. */
function distancePlot(summary: ReportSummary): Plot[] {
  const byRun = summary.runs.flatMap((run) => {
    const m = summary.methods.find((x) => x.run === run.label && x.tasks.some((t) => t.distances.length > 0));
    return m ? [{ run: run.label, distances: m.tasks.flatMap((t) => t.distances).filter(Number.isFinite) }] : [];
  });
  // Binned here, not by vega: a run of 200k neighbours per document has billions of distances.
  const BINS = 30;
  let low = Infinity;
  let high = -Infinity;
  for (const { distances } of byRun) for (const d of distances) [low, high] = [Math.min(low, d), Math.max(high, d)];
  if (!Number.isFinite(low)) return [];
  const width = high > low ? (high - low) / BINS : 1;
  const histogram: Row[] = byRun.flatMap(({ run, distances }) => {
    const counts = new Array<number>(BINS).fill(0);
    for (const d of distances) counts[Math.min(BINS - 1, Math.floor((d - low) / width))]!++;
    return counts.map((count, i) => ({ run, from: low + i * width, to: low + (i + 1) * width, count }));
  });
  return [{
    name: 'neighbour-distances',
    title: 'Distances between each document and its neighbours',
    spec: {
      $schema: SCHEMA,
      title: 'Neighbour distances',
      config: CONFIG,
      data: { values: finite(histogram) },
      width: 420,
      height: 220,
      mark: { type: 'bar', opacity: 0.7 },
      encoding: {
        x: { field: 'from', type: 'quantitative', title: 'L2 distance to the query' },
        x2: { field: 'to' },
        y: { field: 'count', type: 'quantitative', title: 'neighbours', stack: null },
        color: { field: 'run', type: 'nominal', title: 'run' },
      },
    },
  }];
}

/** Interpolation: pile_all bits per byte at every alpha. */
function alphaPlot(summary: ReportSummary): Plot[] {
  const alphas: Row[] = summary.methods.filter((m) => m.alphas).flatMap((m) => plotted(m.pileAll.curve).map(({ step, value }) => ({ method: m.label, alpha: m.alphas![step] ?? NaN, bits_per_byte: value.bits_per_byte })));
  if (alphas.length === 0) return [];
  return [{
    name: 'interpolation-alpha',
    title: 'Interpolation: pile_all bits per byte vs alpha',
    spec: {
      $schema: SCHEMA,
      title: 'Interpolation: bits per byte vs alpha',
      config: CONFIG,
      data: { values: finite(alphas) },
      width: 420,
      height: 220,
      mark: { type: 'line', point: true },
      encoding: { x: { field: 'alpha', type: 'quantitative' }, y: { field: 'bits_per_byte', type: 'quantitative', title: 'bits per byte', scale: { zero: false } }, color: { field: 'method', type: 'nominal' } },
    },
  }];
}

/** SVG from a Vega-Lite spec, rendered headless by vega itself. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** PNG at twice the SVG's size, text drawn with the system's fonts. */
export function svgToPng(svg: string): Buffer {
  return new Resvg(svg, { background: 'white', fitTo: { mode: 'zoom', value: 2 }, font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' } }).render().asPng();
}

export async function renderPlots(plots: readonly Plot[]): Promise<RenderedPlot[]> {
  const out: RenderedPlot[] = [];
  for (const plot of plots) {
    const svg = await renderSvg(plot.spec);
    out.push({ ...plot, svg, png: svgToPng(svg) });
  }
  return out;
}
