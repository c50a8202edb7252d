// Does TTT-NN win: the paired comparison with every baseline, and the
// quality gates shown above the report's tables.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { checkGates, retrievalGate, writeGates } from '../../src/eval/quality-gates.js';
import { writeReport } from '../../src/report/report.js';
import { interpolated, scored, writeLines, writeWeights } from './fixtures.js';

const TASKS = ['pile_a', 'pile_b'];
/** Documents 0..n-1 of each task: before `b`, after `a` (+ a small per-document wobble so resamples differ). */
function curves(method: string, n: number, before: number, after: (i: number) => number): Map<string, ReturnType<typeof scored>[]> {
  return new Map(TASKS.map((task) => [task, Array.from({ length: n }, (_, i) => scored(method, task, i, [before + (i % 3) * 0.01, after(i)]))]));
}

function write(root: string, method: string, docs: Map<string, ReturnType<typeof scored>[]>): void {
  for (const [task, list] of docs) writeLines(root, method, `${task}.rank0.jsonl`, list);
}

test('TTT-NN against each baseline: better, worse or unclear, from a paired bootstrap', async () => {
  const root = mkdtempSync(join(tmpdir(), 'tttnn-verdict-'));
  const results = join(root, 'results');
  write(results, 'ttt', curves('ttt', 12, 4, (i) => 3.0 + (i % 4) * 0.05)); // about -24%
  write(results, 'random', curves('random', 12, 4, (i) => 4.1 + (i % 4) * 0.05)); // about +3%
  write(results, 'context', curves('context', 12, 4, (i) => 3.0 + ((i + 2) % 4) * 0.05)); // the same on average
  write(results, 'dynamic', curves('dynamic', 12, 5, (i) => 3.0 + (i % 4) * 0.05)); // about -39%: better than TTT-NN
  for (const task of TASKS) writeLines(results, 'interpolation', `${task}.rank0.jsonl`, Array.from({ length: 12 }, (_, i) => interpolated(task, i, [0, 0.5], [4 + (i % 3) * 0.01, 3.8])));
  const report = await writeReport({ resultsDir: results, out: join(root, 'report'), weights: writeWeights(root, { pile_a: 1, pile_b: 1 }), resamples: 200 });
  const by = new Map(report.comparisons.map((c) => [c.baseline.split(' ')[0], c]));
  assert.equal(by.get('TTT')!.verdict, 'TTT-NN better'); // TTT on random documents
  assert.ok(by.get('TTT')!.difference.high < 0);
  assert.equal(by.get('in-context')!.verdict, 'no clear difference');
  assert.ok(by.get('in-context')!.difference.low < 0 && by.get('in-context')!.difference.high > 0);
  assert.equal(by.get('dynamic')!.verdict, 'TTT-NN worse');
  assert.equal(by.get('interpolation,')!.verdict, 'TTT-NN better');
  // The difference is TTT-NN's relative change minus the baseline's, on the same documents.
  const random = by.get('TTT')!;
  assert.ok(Math.abs(random.difference.value - (random.ttt.value - random.other.value)) < 1e-12);
  assert.equal(random.documents, 24);
  assert.match(report.verdict, /TTT-NN beats TTT on random documents/);
  assert.match(report.verdict, /it LOSES to dynamic evaluation/);
  assert.match(report.markdown, /Does TTT-NN win\?/);
});

test('quality gates: retrieval precision against chance, leakage, the language model against unigram; shown first in the report', async () => {
  const shares = new Map([['pile_a', 0.75], ['pile_b', 0.25]]);
  const gate = retrievalGate(
    [
      { task: 'pile_a', neighborTasks: ['pile_a', 'pile_b', 'pile_a', 'pile_a'], duplicates: 0 },
      { task: 'pile_b', neighborTasks: ['pile_a', 'pile_b', 'pile_b', 'pile_b'], duplicates: 1 },
    ],
    shares,
  );
  assert.equal(gate.precisionAtK, 6 / 8);
  assert.equal(gate.precisionAt1, 1 / 2);
  assert.equal(gate.chance, (0.75 + 0.25) / 2);
  assert.equal(gate.k, 4);
  assert.deepEqual([gate.duplicates, gate.queriesWithDuplicates], [1, 1]);
  const checks = checkGates({ retrieval: gate, languageModel: { valLoss: 5, unigram: 7, steps: 10, seconds: 3, stopReason: 'target' } });
  // 0.75 is not 3 x 0.5: retrieval fails; one duplicate: leakage fails; 5 <= 0.95 x 7: the model passes.
  assert.deepEqual(checks.map((c) => c.passed), [true, false, false, false]);
  assert.equal(checkGates({ languageModel: { valLoss: 6.9, unigram: 7.1, steps: 93, seconds: 240, stopReason: 'time-limit' } })[0]!.passed, false);

  const root = mkdtempSync(join(tmpdir(), 'tttnn-gates-'));
  const results = join(root, 'results');
  write(results, 'ttt', curves('ttt', 3, 4, () => 3.5));
  writeGates(results, { retrieval: gate });
  const report = await writeReport({ resultsDir: results, out: join(root, 'report'), resamples: 50 });
  assert.ok(report.markdown.startsWith('### Quality gates'), report.markdown.slice(0, 200));
  assert.match(report.markdown, /\| leakage: neighbours identical to the test document \| 1 of 8 \(1 documents\) \| 0 \| none \| NO \|/);
  assert.match(report.html, /Quality gates/);
});
