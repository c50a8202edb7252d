// The report's choices that follow the original (process_results*.py) and
// the options beside them, on synthetic result sets with closed-form
// answers: failed retrievals, the median-length filter, training loss and
// cost per neighbour, interpolation's alpha choices, the leakage audit and
// the context method's two points.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadResults } from '../../src/report/aggregate.js';
import { argmin, chooseValidationAlpha } from '../../src/report/interpolation-alpha.js';
import { medianFilter, medianLength } from '../../src/report/median-filter.js';
import { reportPlots } from '../../src/report/plots.js';
import { writeReport } from '../../src/report/report.js';
import { costTable, leakageTable, trainingLossTable } from '../../src/report/tables.js';
import { documentCosts, documentTrainingLosses } from '../../src/report/training.js';
import { close, failed, interpolated, scored, writeLines, writeWeights } from './fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'tttnn-report-faithful-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('failed retrievals: not bad lines, left out of every aggregate, counted per method and task', async () => {
  const root = join(dir, 'failed');
  const weights = writeWeights(root, { pile_a: 3, pile_b: 1 });
  writeLines(root, 'ttt', 'pile_a.rank0.jsonl', [scored('ttt', 'pile_a', 0, [2, 1]), failed('ttt', 'pile_a', 1), failed('ttt', 'pile_a', 5)]);
  // Rank 1: another failure, and document 5 again, now scored (a rerun): it is no longer a failure.
  writeLines(root, 'ttt', 'pile_a.rank1.jsonl', [scored('ttt', 'pile_a', 2, [4, 3]), failed('ttt', 'pile_a', 3), scored('ttt', 'pile_a', 5, [3, 2])]);
  // Every retrieval of task b failed: the task has no curve but its failures are reported.
  writeLines(root, 'ttt', 'pile_b.rank0.jsonl', [failed('ttt', 'pile_b', 0), failed('ttt', 'pile_b', 1)]);
  // The random-documents control: one failure, one scored document.
  writeLines(root, 'random', 'pile_a.rank0.jsonl', [scored('random', 'pile_a', 0, [2, 2.5]), failed('random', 'pile_a', 1)]);

  const loaded = loadResults(root);
  assert.equal(loaded.skippedLines, 0);
  assert.deepEqual(loaded.warnings, []);
  assert.equal(loaded.duplicateLines, 1);
  assert.deepEqual(Object.fromEntries(loaded.failedRetrievals.get('ttt')!), { pile_a: 2, pile_b: 2 });
  assert.deepEqual(loaded.byMethod.get('ttt')!.get('pile_a')!.map((d) => d.doc_id).sort(), [0, 2, 5]);
  assert.equal(loaded.byMethod.get('ttt')!.has('pile_b'), false);

  const warned: string[] = [];
  const { summary, html } = await writeReport({ resultsDir: root, out: join(root, 'report'), weights, resamples: 20, medianFilter: false, warn: (w) => warned.push(w) });
  assert.deepEqual(warned, [], 'a failed retrieval is not warned about');
  const ttt = summary.methods.find((m) => m.method === 'ttt')!;
  // Only the three scored documents: (2 + 4 + 3) / 3 before, (1 + 3 + 2) / 3 after; pile_a is the only task with a curve.
  assert.ok(close(ttt.pileAll.before.value, 3) && close(ttt.pileAll.after.value, 2));
  assert.equal(ttt.documents, 3);
  assert.equal(ttt.failedRetrievals, 4);
  assert.deepEqual(ttt.failedByTask, { pile_a: 2, pile_b: 2 });
  assert.equal(ttt.tasks.find((t) => t.task === 'pile_a')!.failedRetrievals, 2);
  assert.deepEqual(summary.methods.map((m) => m.method), ['ttt', 'random'], 'random (the control) right after ttt');
  assert.equal(summary.methods[1]!.failedRetrievals, 1);
  assert.equal(summary.runs[0]!.failedRetrievals, 5);
  // Tables, HTML and aggregates.json say so.
  assert.match(html, /<th>failed retrievals<\/th>/);
  const comparison = readFileSync(join(root, 'report', 'comparison.txt'), 'utf8');
  assert.match(comparison, /pile_a\s+3\.00\s+3\s+2\s/);
  assert.match(comparison, /pile_b\s+1\.00\s+0\s+2\s+n\/a/);
  assert.match(comparison, /pile_all\s+3\s+4\s/);
  const aggregates = JSON.parse(readFileSync(join(root, 'report', 'aggregates.json'), 'utf8')) as { runs: { failedRetrievals: number }[]; methods: { method: string; failedByTask: Record<string, number> }[] };
  assert.equal(aggregates.runs[0]!.failedRetrievals, 5);
  assert.deepEqual(aggregates.methods.find((m) => m.method === 'ttt')!.failedByTask, { pile_a: 2, pile_b: 2 });

  // By default the median filter counts a failed retrieval as the original's one-point curve:
  // random's pile_a has lengths [2, 1], int(median) = 1, so its scored document is dropped; ttt's [2, 2, 2, 1, 1] keeps 2.
  const faithful = (await writeReport({ resultsDir: root, out: join(root, 'faithful'), weights, resamples: 20 })).summary;
  assert.equal(faithful.methods.find((m) => m.method === 'ttt')!.documents, 3);
  assert.equal(faithful.methods.find((m) => m.method === 'random')!.documents, 0);
  assert.equal(faithful.methods.find((m) => m.method === 'random')!.droppedByMedianFilter, 1);
  assert.equal(medianFilter([scored('random', 'pile_a', 0, [2, 2.5])], 1).dropped, 1);
});

test('median filter: int(np.median(lengths)), and exactly the documents of another length dropped', async () => {
  assert.equal(medianLength([3, 3, 3, 2]), 3);
  assert.equal(medianLength([2, 3]), 2, 'numpy: 2.5, int(): 2');
  assert.equal(medianLength([1, 2, 4, 5]), 3);
  assert.equal(medianLength([51, 1, 51]), 51);
  const docs = [scored('ttt', 'pile_a', 0, [2, 1, 0.5]), scored('ttt', 'pile_a', 1, [4, 3]), scored('ttt', 'pile_a', 2, [3, 2, 1]), scored('ttt', 'pile_a', 3, [5, 4, 3])];
  const f = medianFilter(docs);
  assert.equal(f.length, 3);
  assert.equal(f.dropped, 1);
  assert.deepEqual(f.kept.map((d) => d.doc_id), [0, 2, 3]);

  const root = join(dir, 'median');
  const weights = writeWeights(root, { pile_a: 1, pile_b: 1 });
  writeLines(root, 'ttt', 'pile_a.rank0.jsonl', docs);
  // Task b: lengths 2 and 3, median 2.5 -> 2: the longer document goes.
  writeLines(root, 'ttt', 'pile_b.rank0.jsonl', [scored('ttt', 'pile_b', 0, [2, 1]), scored('ttt', 'pile_b', 1, [6, 5, 4])]);

  // Off (--no-median-filter): every document, a shorter curve keeping its last value.
  const off = (await writeReport({ resultsDir: root, out: join(root, 'off'), weights, resamples: 20, medianFilter: false })).summary.methods[0]!;
  const offA = off.tasks.find((t) => t.task === 'pile_a')!;
  assert.equal(offA.documents, 4);
  assert.equal(offA.droppedByMedianFilter, 0);
  assert.ok(close(offA.curve[2]!.bits_per_byte, (0.5 + 3 + 1 + 3) / 4));
  assert.equal(off.droppedByMedianFilter, 0);

  // On: the default, as the original.
  const { summary, html } = await writeReport({ resultsDir: root, out: join(root, 'on'), weights, resamples: 20 });
  const on = summary.methods[0]!;
  const [a, b] = [on.tasks.find((t) => t.task === 'pile_a')!, on.tasks.find((t) => t.task === 'pile_b')!];
  assert.equal(a.documents, 3);
  assert.equal(a.droppedByMedianFilter, 1);
  assert.ok(close(a.curve[0]!.bits_per_byte, (2 + 3 + 5) / 3) && close(a.curve[2]!.bits_per_byte, (0.5 + 1 + 3) / 3));
  assert.equal(b.documents, 1);
  assert.equal(b.droppedByMedianFilter, 1);
  assert.equal(b.curve.length, 3, 'the method keeps its longest curve; task b keeps its last value');
  assert.ok(close(b.after.value, 1));
  assert.equal(on.droppedByMedianFilter, 2);
  assert.equal(summary.runs[0]!.droppedByMedianFilter, 2);
  assert.equal(summary.medianFilter, true);
  assert.match(html, /<th>dropped \(median filter\)<\/th>/);
  assert.match(readFileSync(join(root, 'on', 'comparison.txt'), 'utf8'), /pile_a\s+1\.00\s+3\s+0\s+1\s/);
});

test('training loss per neighbour: window means (a null window makes it NaN, as the original\'s sum), np.nanmean over documents, pile_all weighted', async () => {
  // Neighbour 1: means 2, 5, 0 (no window: the original's train_single returns 0); neighbour 2: NaN, NaN (null windows), 4.
  const a = [
    scored('ttt', 'pile_a', 0, [3, 2, 1], { train_losses: [[1, 3], [null, 2]], train_seconds: [0.2, 0.4], eval_seconds: [0.1, 0.3] }),
    scored('ttt', 'pile_a', 1, [3, 2, 1], { train_losses: [[5], [null, null]], train_seconds: [1, 2] }),
    scored('ttt', 'pile_a', 2, [3, 2, 1], { train_losses: [[], [4]], train_seconds: [0.5, 0.5], eval_seconds: [0.5, 0.5] }),
  ];
  assert.equal(documentTrainingLosses(a[0]!)[0], 2);
  assert.ok(Number.isNaN(documentTrainingLosses(a[0]!)[1]), 'a null window makes the text\'s loss NaN (eval_tttlm.py:250)');
  assert.ok(Number.isNaN(documentTrainingLosses(a[1]!)[1]));
  assert.deepEqual(documentTrainingLosses(a[2]!), [0, 4]);
  const b = [scored('ttt', 'pile_b', 0, [3, 2, 1], { train_losses: [[1], [1]], train_seconds: [1, 1], eval_seconds: [1, 1] })];
  const root = join(dir, 'loss');
  const weights = writeWeights(root, { pile_a: 3, pile_b: 1 });
  writeLines(root, 'ttt', 'pile_a.rank0.jsonl', a);
  writeLines(root, 'ttt', 'pile_b.rank0.jsonl', b);
  const { summary, files } = await writeReport({ resultsDir: root, out: join(root, 'report'), weights, resamples: 20 });
  const ttt = summary.methods[0]!;
  const taskA = ttt.tasks.find((t) => t.task === 'pile_a')!;
  assert.ok(close(taskA.trainingLoss[0], 7 / 3) && close(taskA.trainingLoss[1], 4));
  // pile_all: (3·7/3 + 1·1) / 4 and (3·4 + 1·1) / 4.
  assert.ok(close(ttt.pileAll.trainingLoss[0], 2) && close(ttt.pileAll.trainingLoss[1], 3.25));
  const table = trainingLossTable(ttt, summary)!;
  assert.deepEqual(table.header, ['task', 'after 1', 'after 2']);
  assert.deepEqual(table.rows.find((r) => r[0] === 'pile_all'), ['pile_all', '2.0000', '3.2500']);
  assert.ok(files.includes(join(root, 'report', 'plots', 'training-loss.svg')));
  assert.match(readFileSync(join(root, 'report', 'plots', 'training-loss.svg'), 'utf8'), /training loss/);
  assert.match(readFileSync(join(root, 'report', 'summary.md'), 'utf8'), /### ttt: training loss after each neighbour/);

  // Cost: training + the evaluation after it; a line without eval_seconds (older) counts training only.
  assert.deepEqual(documentCosts(a[0]!).map((s) => Number(s.toFixed(12))), [0.3, 0.7]);
  assert.deepEqual(documentCosts(a[1]!), [1, 2]);
  assert.deepEqual(taskA.costSecondsPerNeighbor.map((s) => Number(s.toFixed(12))), [0.5, 1.5, 1]);
  assert.deepEqual(taskA.trainSecondsPerNeighbor.map((s) => Number(s.toFixed(12))), [0.3, 1.5, 0.5]);
  assert.deepEqual(taskA.evalSecondsPerNeighbor.map((s) => Number(s.toFixed(12))), [0.2, 0.5]);
  // As the original: per neighbour the mean over documents: (0.3 + 1 + 1) / 3, (0.7 + 2 + 1) / 3.
  assert.ok(close(taskA.cost[0], 2.3 / 3) && close(taskA.cost[1], 3.7 / 3));
  const cost = costTable(ttt, summary);
  assert.deepEqual(cost.header.slice(2, 7), ['train s/neighbour (median)', 'eval s/neighbour (median)', 'total s/neighbour (median)', 'total s/neighbour (max)', 'mean s/neighbour (as the original)']);
  assert.deepEqual(cost.rows.find((r) => r[0] === 'pile_a')!.slice(2, 7), ['0.500', '0.350', '1.000', '1.500', '1.000']);
  // pile_all: per neighbour (3·2.3/3 + 1·2) / 4 and (3·3.7/3 + 1·2) / 4, their mean 1.25.
  assert.equal(cost.rows.find((r) => r[0] === 'pile_all')![6], '1.250');
  // The box plot draws the totals.
  const plot = reportPlots(summary).find((p) => p.name === 'training-cost')!;
  const values = (plot.spec as { data: { values: { seconds: number }[] } }).data.values.map((r) => Number(r.seconds.toFixed(12))).sort((x, y) => x - y);
  assert.deepEqual(values, [0.5, 1, 1.5, 2]);
});

test('interpolation: per-task oracle (the headline), global oracle and validation-chosen alpha', async () => {
  const alphas = [0, 0.1, 0.2];
  const root = join(dir, 'interpolation');
  const weights = writeWeights(root, { pile_a: 3, pile_b: 1 });
  writeLines(root, 'interpolation', 'pile_a.rank0.jsonl', [interpolated('pile_a', 0, alphas, [2, 1.5, 1.8])]);
  writeLines(root, 'interpolation', 'pile_b.rank0.jsonl', [interpolated('pile_b', 0, alphas, [3, 2.9, 2.2])]);
  // Validation documents: pile_all per alpha (3·2 + 3)/4, (3·1.9 + 3)/4, (3·1.7 + 2.1)/4 = 2.25, 2.175, 1.8: alpha 0.2.
  const validation = join(dir, 'interpolation-validation');
  writeLines(validation, 'interpolation', 'pile_a.rank0.jsonl', [interpolated('pile_a', 7, alphas, [2, 1.9, 1.7])]);
  writeLines(validation, 'interpolation', 'pile_b.rank0.jsonl', [interpolated('pile_b', 7, alphas, [3, 3, 2.1])]);
  const chosen = chooseValidationAlpha(loadResults(validation), { pile_a: 3, pile_b: 1 });
  assert.equal(chosen.alpha, 0.2);
  assert.ok(close(chosen.bitsPerByte, 1.8));

  const { summary } = await writeReport({ resultsDir: root, out: join(root, 'report'), weights, resamples: 20, interpolationValidation: validation });
  const m = summary.methods[0]!;
  const choices = m.interpolation!;
  // Per task: a at 0.1 (1.5), b at 0.2 (2.2); pile_all = (3·1.5 + 1·2.2) / 4.
  assert.deepEqual(choices.perTask, { pile_a: { alpha: 0.1, step: 1 }, pile_b: { alpha: 0.2, step: 2 } });
  assert.ok(close(choices.oraclePerTask.value, 1.675));
  assert.ok(close(m.pileAll.after.value, 1.675), 'the headline is the per-task oracle');
  assert.equal(m.tasks.find((t) => t.task === 'pile_b')!.afterAlpha, 0.2);
  assert.ok(close(m.tasks.find((t) => t.task === 'pile_b')!.after.value, 2.2));
  // Global: pile_all per alpha 2.25, 1.85, 1.9: alpha 0.1.
  assert.equal(choices.oracleGlobal.alpha, 0.1);
  assert.ok(close(choices.oracleGlobal.pileAll.value, 1.85));
  // Validation-chosen 0.2, measured on the test documents: (3·1.8 + 2.2) / 4.
  assert.equal(choices.validation!.alpha, 0.2);
  assert.ok(close(choices.validation!.pileAll.value, 1.9));
  assert.ok(close(choices.validation!.validationBitsPerByte, 1.8));
  const text = readFileSync(join(root, 'report', 'comparison.txt'), 'utf8');
  assert.match(text, /oracle per task \(headline\)\s+per task\s+1\.6750/);
  assert.match(text, /oracle global\s+0\.1\s+1\.8500/);
  assert.match(text, /validation-chosen \(.*interpolation-validation\)\s+0\.2\s+1\.9000 .*1\.8000/);
  assert.match(text, /interpolation\s+2\s+.*best alpha per task \(oracle\)\s+-25\.6%\s+0/);

  // An alpha the test run does not have: a warning, no validation row.
  const other = join(dir, 'interpolation-other-alphas');
  writeLines(other, 'interpolation', 'pile_a.rank0.jsonl', [interpolated('pile_a', 7, [0, 0.05], [2, 1])]);
  const warned: string[] = [];
  const second = await writeReport({ resultsDir: root, out: join(root, 'report2'), weights, resamples: 20, interpolationValidation: other, warn: (w) => warned.push(w) });
  assert.equal(second.summary.methods[0]!.interpolation!.validation, undefined);
  assert.match(warned.join('\n'), /alpha 0\.05 chosen on .* is not among this run's alphas/);
  assert.equal(argmin([2, 1, 1, NaN]), 1, 'the first minimum, as Python\'s min');
});

test('leakage audit: duplicate neighbours and exclusions summed per method', async () => {
  const root = join(dir, 'leakage');
  writeLines(root, 'ttt', 'pile_a.rank0.jsonl', [
    scored('ttt', 'pile_a', 0, [2, 1], { duplicate_neighbors: 2, excluded_duplicates: 1 }),
    scored('ttt', 'pile_a', 1, [2, 1], { duplicate_neighbors: 0, excluded_duplicates: 0 }),
    scored('ttt', 'pile_a', 2, [2, 1]), // a line from before the audit
  ]);
  writeLines(root, 'ttt', 'pile_b.rank0.jsonl', [scored('ttt', 'pile_b', 0, [2, 1], { duplicate_neighbors: 1 })]);
  const { summary, html } = await writeReport({ resultsDir: root, out: join(root, 'report'), resamples: 20 });
  assert.deepEqual(summary.methods[0]!.leakage, { audited: 3, withDuplicates: 2, duplicates: 3, excluded: 1 });
  assert.deepEqual(leakageTable(summary).rows, [['ttt', '3', '2', '3', '1']]);
  assert.match(html, /Leakage audit/);
});

test('context: the [without, with neighbours] pair is its own kind, kept out of the curves over neighbours', async () => {
  const root = join(dir, 'context');
  writeLines(root, 'ttt', 'pile_a.rank0.jsonl', [scored('ttt', 'pile_a', 0, [2, 1.5, 1])]);
  writeLines(root, 'context', 'pile_a.rank0.jsonl', [scored('context', 'pile_a', 0, [2, 1.8], { context_neighbors: 4 }), scored('context', 'pile_a', 1, [2, 2], { context_neighbors: 0 })]);
  const { summary } = await writeReport({ resultsDir: root, out: join(root, 'report'), resamples: 20 });
  const context = summary.methods.find((m) => m.method === 'context')!;
  assert.equal(context.kind, 'context');
  assert.equal(context.contextNeighbors, 2);
  assert.ok(close(context.pileAll.after.value, 1.9));
  const curve = reportPlots(summary).find((p) => p.name === 'pile_all-curve')!;
  const methods = new Set((curve.spec as { data: { values: { method: string }[] } }).data.values.map((r) => r.method));
  assert.deepEqual([...methods], ['ttt']);
  assert.match(readFileSync(join(root, 'report', 'summary.md'), 'utf8'), /\| with neighbours \| 1\.9000 \|/);
});
