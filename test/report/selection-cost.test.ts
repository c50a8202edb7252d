// The report's view of informative selection and budgets: seconds to each
// curve point, the Pareto frontier across methods, the neighbours'
// redundancy, and curves cut on purpose kept out of the median filter.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { writeReport } from '../../src/report/report.js';
import { paretoFrontier, secondsToPoint } from '../../src/report/selection-cost.js';
import { resultsLabel } from '../../src/eval/results-label.js';
import { scored, writeLines, writeWeights } from './fixtures.js';

test('seconds to a curve point: retrieval, selection, training on the first k neighbours and one scoring', () => {
  const d = scored('ttt', 'pile_a', 0, [4, 3.5, 3.2], { retrieval_seconds: 0.5, selection_seconds: 0.25, score_seconds_before: 1, train_seconds: [2, 4], eval_seconds: [1.5, 1.75] });
  assert.equal(secondsToPoint(d, 0), 0.5 + 0.25 + 1);
  assert.equal(secondsToPoint(d, 1), 0.5 + 0.25 + 2 + 1.5);
  assert.equal(secondsToPoint(d, 2), 0.5 + 0.25 + 2 + 4 + 1.75);
  assert.equal(secondsToPoint(d, 5), secondsToPoint(d, 2), 'a shorter curve keeps its last point');
  assert.equal(secondsToPoint(scored('context', 'pile_a', 0, [4, 3.9]), 1), undefined, 'no timings, no point');
  const frontier = paretoFrontier([
    { label: 'a', neighbours: 0, seconds: 1, bitsPerByte: 4 },
    { label: 'a', neighbours: 1, seconds: 3, bitsPerByte: 3.5 },
    { label: 'b', neighbours: 1, seconds: 2, bitsPerByte: 3.6 },
    { label: 'b', neighbours: 2, seconds: 4, bitsPerByte: 3.7 }, // slower and worse than a/1
  ]);
  assert.deepEqual(frontier.map((p) => `${p.label}/${p.neighbours}`), ['a/0', 'b/1', 'a/1']);
  // Directory names are written by resultsLabel and never parsed: the report reads method, selection and budget from the lines.
  assert.equal(resultsLabel({ method: 'ttt', selection: 'sift', siftAlpha: 2, budgetSeconds: 1.5 }), 'ttt+sift-alpha2@1.5s');
  assert.equal(resultsLabel({ method: 'context', selection: 'knn' }), 'context');
});

test('the report compares knn, SIFT and a budget: a redundancy table, the Pareto frontier and a bits-per-byte-vs-seconds plot', async () => {
  const root = mkdtempSync(join(tmpdir(), 'tttnn-selection-report-'));
  const results = join(root, 'results');
  const timing = (k: number, train: number): object => ({ score_seconds_before: 1, train_seconds: Array.from({ length: k }, () => train), eval_seconds: Array.from({ length: k }, () => 1) });
  for (const task of ['pile_a', 'pile_b']) {
    // knn: two near-duplicate neighbours (same text), slow to help.
    writeLines(results, 'ttt', `${task}.rank0.jsonl`, Array.from({ length: 6 }, (_, i) => scored('ttt', task, i, [4, 3.9, 3.85], { ...timing(2, 2), neighbor_mean_pairwise_distance: 0.1, duplicate_neighbor_pairs: 1 })));
    // SIFT: distinct neighbours, better after two.
    writeLines(results, 'ttt+sift', `${task}.rank0.jsonl`, Array.from({ length: 6 }, (_, i) => scored('ttt', task, i, [4, 3.7, 3.5], { ...timing(2, 2), selection: 'sift', candidate_count: 50, selection_seconds: 0.01, selection_stop: 'count', neighbor_mean_pairwise_distance: 0.9, duplicate_neighbor_pairs: 0 })));
    // A budget: half the documents stopped after one neighbour (curves of different lengths on purpose).
    writeLines(results, 'ttt@3s', `${task}.rank0.jsonl`, Array.from({ length: 6 }, (_, i) => scored('ttt', task, i, i % 2 ? [4, 3.9] : [4, 3.9, 3.85], { ...timing(i % 2 ? 1 : 2, 2), budget_seconds: 3, budget_stop: i % 2 === 1 })));
    // SIFT under the same budget, in a directory whose name says nothing: its lines say what it is.
    writeLines(results, 'renamed-run', `${task}.rank0.jsonl`, Array.from({ length: 6 }, (_, i) => scored('ttt', task, i, [4, 3.8], { ...timing(1, 2), selection: 'sift', selection_stop: 'count', budget_seconds: 3, budget_stop: true })));
  }
  const report = await writeReport({ resultsDir: results, out: join(root, 'report'), weights: writeWeights(root, { pile_a: 1, pile_b: 1 }), resamples: 50 });
  const methods = report.summary.methods.map((m) => m.label);
  assert.deepEqual([...methods].sort(), ['renamed-run', 'ttt', 'ttt+sift', 'ttt@3s']);
  assert.equal(methods[0], 'ttt', 'selections and budgets sort after their method');
  const byLabel = new Map(report.summary.methods.map((m) => [m.label, m]));
  const budget = byLabel.get('ttt@3s')!;
  assert.equal(budget.medianFilterSkipped, true);
  assert.equal(budget.documents, 12, 'no budget-cut document dropped by the median filter');
  assert.equal(budget.selection.budgetStops, 6);
  const sift = byLabel.get('ttt+sift')!;
  assert.equal(sift.selection.selection, 'sift');
  assert.equal(sift.selection.candidates, 50);
  assert.deepEqual(sift.selection.stops, { count: 12 });
  [0.5 + 0.01 + 1, 0.5 + 0.01 + 2 + 1, 0.5 + 0.01 + 4 + 1].forEach((v, k) => assert.ok(Math.abs(sift.secondsCurve[k]! - v) < 1e-12, `point ${k}: ${sift.secondsCurve[k]} vs ${v}`));
  const md = readFileSync(join(root, 'report', 'summary.md'), 'utf8');
  assert.match(md, /Neighbours used: selection, redundancy and seconds per document/);
  assert.match(md, /\| ttt\+sift \| sift \| 12 \| 2\.0 \| 50\.0 \|/);
  assert.match(md, /\| ttt@3s \| knn \| 12 \|.*\| budget 6 \|/);
  // The frontier: no neighbours (fastest), then SIFT after one and two; knn is dominated.
  const frontier = md.slice(md.indexOf('the Pareto frontier'));
  assert.match(frontier, /\| ttt\+sift \| 1 \|/);
  assert.match(frontier, /\| ttt\+sift \| 2 \|/);
  assert.doesNotMatch(frontier.split('\n\n')[0]!, /\| ttt \| 2 \|/);
  assert.ok(report.files.some((f) => f.endsWith('bits-per-byte-vs-seconds.svg')));
  // Paired against the k nearest: SIFT at equal neighbours; the budget run has no selection to compare.
  assert.match(md, /Selection against the k nearest \(pile_all, paired\)/);
  assert.match(md, /\| ttt\+sift \| ttt \| 12 \| -12\.5% \| -3\.8% \| -8\.8% \[-8\.8%, -8\.8%\] \| better \|/);
  assert.doesNotMatch(md, /\| ttt@3s \| ttt \|/);
  assert.match(md, /\| renamed-run \| ttt@3s \| 12 \|/, 'paired with the k nearest under the same budget, from what its lines record');
});
