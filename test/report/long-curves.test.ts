// A report on very long curves (issue 35, point 10): 200k points per curve
// took 276 s and 4.8 GB and wrote a 395 MB HTML page, every point plotted.
// The plots and the curve table now show at most MAX_PLOTTED_POINTS evenly
// spaced steps per line (the first and the last among them) and say so;
// aggregates.json keeps every point. A synthetic results directory whose
// documents have curves of 3001 points.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { curveTable } from '../../src/report/tables.js';
import { MAX_PLOTTED_POINTS, plottedSteps } from '../../src/report/plotted-points.js';
import { reportPlots } from '../../src/report/plots.js';
import { writeReport } from '../../src/report/report.js';
import { scored, writeLines, writeWeights } from './fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'tttnn-report-long-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('plotted steps: all of a short curve; of a long one MAX_PLOTTED_POINTS evenly spaced, the first and last included', () => {
  assert.deepEqual(plottedSteps(5), [0, 1, 2, 3, 4]);
  const steps = plottedSteps(200_001);
  assert.equal(steps.length, MAX_PLOTTED_POINTS);
  assert.deepEqual([steps[0], steps[1], steps.at(-1)], [0, 1005, 200_000]);
  assert.ok(steps.every((s, i) => i === 0 || s > steps[i - 1]!));
});

test('a report on curves of 3001 points plots and tabulates at most MAX_PLOTTED_POINTS per line and says so; aggregates.json keeps all', async () => {
  const n = 3001;
  const weights = writeWeights(dir, { pile_a: 2, pile_b: 1 });
  const curve = (id: number): number[] => Array.from({ length: n }, (_, i) => 2 - i / n + id / 100);
  for (const task of ['pile_a', 'pile_b']) writeLines(dir, 'ttt', `${task}.rank0.jsonl`, [0, 1, 2].map((id) => scored('ttt', task, id, curve(id), { train_seconds: Array.from({ length: n - 1 }, () => 0.01) })));
  const { summary, html } = await writeReport({ resultsDir: dir, out: join(dir, 'report'), weights, resamples: 5, medianFilter: false });
  const ttt = summary.methods.find((m) => m.method === 'ttt')!;
  assert.equal(ttt.pileAll.curve.length, n, 'the summary keeps every point');
  const aggregates = readFileSync(join(dir, 'report', 'aggregates.json'), 'utf8');
  assert.ok(aggregates.length > n * 20, 'aggregates.json holds every point');

  for (const plot of reportPlots(summary)) {
    const rows = (plot.spec as { data: { values: Record<string, unknown>[] } }).data.values;
    const perLine = new Map<string, number>();
    for (const row of rows) {
      const line = `${row['method'] as string}/${(row['task'] as string | undefined) ?? ''}`;
      perLine.set(line, (perLine.get(line) ?? 0) + 1);
    }
    for (const [line, count] of perLine) assert.ok(count <= MAX_PLOTTED_POINTS + 1, `${plot.name} ${line}: ${count} points`);
    if (/curves?$|training-loss|seconds/.test(plot.name)) assert.match(plot.title, new RegExp(`\\(${MAX_PLOTTED_POINTS} evenly spaced of ${n} steps shown; aggregates\\.json holds every one\\)`), plot.name);
  }
  const pileAll = reportPlots(summary).find((p) => p.name === 'pile_all-curve')!;
  const neighbours = (pileAll.spec as { data: { values: { neighbours: number }[] } }).data.values.map((r) => r.neighbours);
  assert.deepEqual([neighbours[0], neighbours.at(-1)], [0, n - 1], 'the first and the last step are drawn');
  const table = curveTable(ttt, summary);
  assert.equal(table.rows.length, MAX_PLOTTED_POINTS);
  assert.equal(table.rows.at(-1)![0], String(n - 1));
  assert.match(table.title, /evenly spaced of 3001 steps shown/);
  assert.ok(statSync(join(dir, 'report', 'report.html')).size < 2_000_000, `report.html is ${statSync(join(dir, 'report', 'report.html')).size} bytes`);
  assert.ok(html.includes('evenly spaced of 3001 steps shown'));
});
