// `tttnn report`: result directories in, a report directory out:
//   report.html       self-contained, every table and plot
//   summary.md        every table in Markdown (its head is printed to the terminal)
//                     and, where the results hold generation-example.json (the demo
//                     writes it), the generation before and after TTT-NN, as report.html
//   comparison.txt    before/after per task per method, as the original's comparison.txt
//   aggregates.json   every number in the tables, for other tools
//   lm-eval/<method>/results_<date>.json (+ samples_<task>_<date>.jsonl)  lm-evaluation-harness's format
//   plots/<name>.svg and plots/<name>.png
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { taskWeights } from '../data/tasks.js';
import { loadResults, type BootstrapOptions } from './aggregate.js';
import { reportHtml } from './html.js';
import { documentsById, neighbourTexts } from './document-texts.js';
import { explorerHtml, explorerWants } from './explorer.js';
import { writeHarnessResults } from './lm-eval-results.js';
import { chooseValidationAlpha } from './interpolation-alpha.js';
import { renderPlots, reportPlots } from './plots.js';
import { readPublished, type PublishedSource } from './published.js';
import { bytesPerTask, summarize, type ReportSummary, type RunInput } from './summary.js';
import { checkGates, readGates, type GateCheck } from '../eval/quality-gates.js';
import { readGenerationExample, type GenerationExample } from '../eval/generation-example.js';
import { generationExampleMarkdown } from './generation-example.js';
import { compareSelections, compareWithBaselines, selectionVerdictTable, verdictSentence, verdictTable, type BaselineComparison } from './verdict.js';
import {
  comparisonTable,
  costTable,
  curveTable,
  gatesTable,
  inputsTable,
  interpolationTable,
  leakageTable,
  methodsTable,
  publishedTable,
  toMarkdown,
  toText,
  paretoTable,
  selectionTable,
  trainingLossTable,
  type Table,
} from './tables.js';

export interface ReportOptions extends BootstrapOptions {
  /** The results directory of the run reported on. */
  resultsDir: string;
  /** Further results directories, compared with the first. */
  compare?: string[];
  out: string;
  /** A JSON file of task weights: a corpus manifest.json (its "weights") or {task: weight}. */
  weights?: string;
  /**
   * Drop, per method and task, the documents whose curve length differs
   * from the median, as the original (process_results.py:345-346); default
   * on. Off: every scored document counts, a shorter curve keeping its last value.
   */
  medianFilter?: boolean;
  /** An interpolation run on validation documents: its best alpha (pile_all) is reported on the test documents. */
  interpolationValidation?: string;
  /** Directories of the original's published results (results/<run>/aggregate_stats.pth, results/baseline_<method>/*.txt). */
  published?: string[];
  /** Called with each bad result line's warning as it is found. */
  warn?: (line: string) => void;
  /** tttnn's git commit, recorded as the harness's git_hash in lm-eval/ (null: unknown). */
  gitHash?: string | null;
  /** The test data file the evaluation read: lm-eval/ then also gets the harness's samples_<task>_<date>.jsonl. */
  logSamples?: { data: string };
  /** Texts for the per-document explorer: the test file the evaluation read, and the file its index was built from. */
  explorerData?: { documents?: string; neighbours?: string };
}

export interface ReportResult {
  summary: ReportSummary;
  /** The head of summary.md, for the terminal. */
  markdown: string;
  html: string;
  files: string[];
  /** The quality gates stored with the results (quality-gates.json), checked. */
  gates: GateCheck[];
  /** TTT-NN against each baseline, and that in one sentence. */
  comparisons: BaselineComparison[];
  verdict: string;
  /** The worked example stored with the results (generation-example.json, written by the demo), if any. */
  generationExample?: GenerationExample;
}

/** Task weights from a file: a corpus manifest ({"weights": {...}}) or a plain {task: weight} object. */
export function readWeights(path: string): Record<string, number> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`${path}: cannot read the task weights (${(error as Error).message})`);
  }
  const weights = (parsed as { weights?: unknown }).weights ?? parsed;
  if (typeof weights !== 'object' || weights === null) throw new Error(`${path}: expected {"task": weight, ...} or a corpus manifest with "weights"`);
  for (const [task, w] of Object.entries(weights)) {
    if (!(typeof w === 'number' && w >= 0)) throw new Error(`${path}: weight of "${task}" is not a non-negative number`);
  }
  return weights as Record<string, number>;
}

/** Labels that tell runs apart: the directory names, numbered when two are the same. */
function runLabels(dirs: readonly string[]): string[] {
  const names = dirs.map((d) => basename(resolve(d)));
  return names.map((n, i) => (names.indexOf(n) === names.lastIndexOf(n) ? n : `${n}#${i + 1}`));
}

/** A task's per-document arrays: counted, not listed, in aggregates.json. */
const PER_DOCUMENT = ['trainSecondsPerNeighbor', 'evalSecondsPerNeighbor', 'costSecondsPerNeighbor', 'retrievalSeconds', 'distances'] as const;

/** The numbers behind the tables, without the per-document arrays. */
function aggregatesJson(summary: ReportSummary): string {
  const lean = {
    ...summary,
    runs: summary.runs.map(({ warnings, ...r }) => ({ ...r, warnings: warnings.length })),
    methods: summary.methods.map((m) => ({
      ...m,
      tasks: m.tasks.map((t) => {
        const lean: Record<string, unknown> = {
          ...t,
          trainedDocuments: t.trainSecondsPerNeighbor.length,
          evaluatedDocuments: t.evalSecondsPerNeighbor.length,
          retrievals: t.retrievalSeconds.length,
          neighbours: t.distances.length,
        };
        for (const key of PER_DOCUMENT) delete lean[key];
        return lean;
      }),
    })),
    published: summary.published.map((p) => ({
      ...p,
      ...(p.curves ? { curves: Object.fromEntries(p.curves) } : {}),
      ...(p.beforeAfter ? { beforeAfter: Object.fromEntries(p.beforeAfter) } : {}),
    })),
  };
  // NaN (a published training_loss before any training, a task without a value) is written as null.
  return `${JSON.stringify(lean, (_, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 1)}\n`;
}

const optional = (table: Table | undefined): Table[] => (table ? [table] : []);

export async function writeReport(options: ReportOptions): Promise<ReportResult> {
  const dirs = [options.resultsDir, ...(options.compare ?? [])];
  const labels = runLabels(dirs);
  const runs: RunInput[] = dirs.map((dir, i) => {
    const loaded = loadResults(dir);
    for (const w of loaded.warnings) options.warn?.(w);
    return { label: labels[i] as string, loaded };
  });
  if (runs.every((r) => r.loaded.byMethod.size === 0 && r.loaded.failedRetrievals.size === 0)) throw new Error(`no usable result lines under ${dirs.join(', ')} (expected <method>/<task>.rank<R>.jsonl files)`);
  const evaluatedBytes = bytesPerTask(runs);
  const weights = options.weights ? readWeights(options.weights) : taskWeights(evaluatedBytes);
  for (const task of Object.keys(evaluatedBytes)) {
    if (!(weights[task]! > 0)) options.warn?.(`task ${task} has no weight${options.weights ? ` in ${options.weights}` : ''}: it is left out of pile_all`);
  }
  const published: PublishedSource[] = (options.published ?? []).flatMap((dir) => readPublished(dir, (w) => options.warn?.(w)));
  let interpolationValidation;
  if (options.interpolationValidation) {
    const validation = loadResults(options.interpolationValidation);
    for (const w of validation.warnings) options.warn?.(w);
    interpolationValidation = chooseValidationAlpha(validation, weights, { medianFilter: options.medianFilter ?? true });
  }
  const summary = summarize(runs, weights, {
    resamples: options.resamples,
    seed: options.seed,
    medianFilter: options.medianFilter,
    interpolationValidation,
    published,
    warn: options.warn,
  });

  const methods = methodsTable(summary);
  const comparisons = summary.methods.map((m) => comparisonTable(m, summary));
  const storedGates = readGates(options.resultsDir);
  const gates = storedGates ? checkGates(storedGates) : [];
  const baselines = compareWithBaselines(runs[0]!.loaded, summary, { resamples: options.resamples, seed: options.seed });
  const verdict = verdictSentence(baselines);
  const verdictTables = baselines.length > 0 ? [verdictTable(baselines)] : [];
  // The gates come first: no number below means anything if they fail.
  const overview = [...(gates.length ? [gatesTable(gates)] : []), inputsTable(summary), methods, ...verdictTables, leakageTable(summary), ...optional(selectionTable(summary)), ...optional(selectionVerdictTable(compareSelections(runs[0]!.loaded, summary, { resamples: options.resamples, seed: options.seed }))), ...optional(paretoTable(summary)), ...optional(publishedTable(summary))];
  const perMethod = summary.methods.map((m, i) => ({
    heading: `Method ${m.label}`,
    tables: [
      comparisons[i] as Table,
      curveTable(m, summary),
      ...optional(interpolationTable(m, summary)),
      ...optional(trainingLossTable(m, summary)),
      ...(m.tasks.some((t) => t.trainSecondsPerNeighbor.length + t.retrievalSeconds.length > 0) ? [costTable(m, summary)] : []),
    ],
  }));
  const sections = [{ heading: 'Summary', tables: overview }, ...perMethod];
  const plots = await renderPlots(reportPlots(summary));
  // Only the texts the explorer shows are read: a Pile shard's texts would not fit in memory.
  const wanted = explorerWants(summary, runs[0]!);
  const explorer = explorerHtml(summary, runs[0]!, {
    documents: options.explorerData?.documents ? await documentsById(options.explorerData.documents, runs, wanted.documents) : undefined,
    neighbours: options.explorerData?.neighbours ? await neighbourTexts(options.explorerData.neighbours, wanted.neighbours) : undefined,
  });
  const generationExample = readGenerationExample(options.resultsDir);
  const html = reportHtml({ summary, tables: sections, plots, generated: new Date(), explorer, generationExample });

  const out = resolve(options.out);
  mkdirSync(join(out, 'plots'), { recursive: true });
  const files: string[] = [];
  const write = (name: string, content: string | Buffer): void => {
    writeFileSync(join(out, name), content);
    files.push(join(out, name));
  };
  const allTables: Table[] = sections.flatMap((s) => s.tables);
  const exampleMarkdown = generationExample ? [generationExampleMarkdown(generationExample)] : [];
  write('summary.md', `# TTT-NN report\n\n${[...allTables.map(toMarkdown), ...exampleMarkdown].join('\n\n')}\n`);
  const alphaChoices = summary.methods.flatMap((m) => optional(interpolationTable(m, summary)));
  write('comparison.txt', `${[methods, ...comparisons, ...alphaChoices].map(toText).join('\n\n')}\n`);
  write('aggregates.json', aggregatesJson(summary));
  for (const p of plots) {
    write(join('plots', `${p.name}.svg`), p.svg);
    write(join('plots', `${p.name}.png`), p.png);
  }
  write('report.html', html);
  files.push(...(await writeHarnessResults(summary, runs, { out, date: new Date(), gitHash: options.gitHash ?? null, logSamples: options.logSamples })));
  const first = summary.methods.find((m) => m.declared?.report.verdict === 'subject') ?? summary.methods[0];
  const markdown = [...overview, ...(first ? [curveTable(first, summary)] : [])].map(toMarkdown).join('\n\n');
  return { summary, markdown, html, files, gates, comparisons: baselines, verdict, generationExample };
}
