// The original's published results (--published): an aggregate_stats.pth
// written here by the reference Python (torch.save of numpy.float64 values,
// as process_results.py saved it) must come through the safe unpickler
// bit for bit, and appear as "published" rows and curves in the report.
// Skipped, with the reason, where python3-torch is not installed.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadTorchValues } from '../../src/io/torch-values.js';
import { readAggregateStats, readPublished } from '../../src/report/published.js';
import { writeReport } from '../../src/report/report.js';
import { comparisonTable, costTable, curveTable, methodsTable, trainingLossTable } from '../../src/report/tables.js';
import { referencePython, runPython } from '../helpers/python.js';
import { scored, writeLines, writeWeights } from './fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'tttnn-report-published-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const probe = spawnSync(referencePython, ['-c', 'import torch, numpy'], { encoding: 'utf8' });
const skip = probe.status === 0 ? false : `${referencePython} cannot import torch and numpy (install python3-torch: npm run setup): ${(probe.stderr || probe.error?.message || '').trim().split('\n').pop()}`;

/**
 * Saves {task: [metrics after 0, 1, 2 neighbours]} with numpy.float64 values
 * (and plain floats, as the original's lm-eval metrics were) and prints the
 * values as JSON (Python's repr of a float round-trips exactly; NaN as null).
 */
const SAVE = `
import json, sys, torch, numpy as np
out = json.load(sys.stdin)
f = np.float64
stats = {
  'pile_a': [
    {'word_perplexity': 1139.272180229061, 'byte_perplexity': 2.4913020032109876, 'bits_per_byte': 1.3168999200634568, 'training_loss': f('nan'), 'training_cost': f('nan')},
    {'word_perplexity': f(947.7909239290541), 'byte_perplexity': f(1) / 3, 'bits_per_byte': f(0.1) + f(0.2), 'training_loss': f(2.0) ** -1074, 'training_cost': f(4.649197481773995)},
    {'word_perplexity': f(900.5), 'byte_perplexity': f(2.25), 'bits_per_byte': f(1.125), 'training_loss': f(0.5), 'training_cost': f(5.5)},
  ],
  'pile_all': [
    {'bits_per_byte': f(1.2078787022441224), 'training_loss': f('nan'), 'training_cost': f('nan')},
    {'bits_per_byte': f(1.1), 'training_loss': f(1.8292036181402669), 'training_cost': f(5.576299804095667)},
    {'bits_per_byte': f(0.9922193255214581), 'training_loss': f(1.5), 'training_cost': f(6.5)},
  ],
}
torch.save(stats, out + '/eval-tiny-pile_all-50n/aggregate_stats.pth')
torch.save({'bad': __import__('collections').OrderedDict(a=f(1))}, out + '/refused.pth')
clean = lambda v: None if v != v else float(v)
print(json.dumps({t: [{k: clean(v) for k, v in p.items()} for p in points] for t, points in stats.items()}))
`;

test('published results: aggregate_stats.pth read exactly, baselines parsed, overlaid as "published" rows and curves', { skip }, async () => {
  const published = join(dir, 'results');
  mkdirSync(join(published, 'eval-tiny-pile_all-50n'), { recursive: true });
  mkdirSync(join(published, 'baseline_context'), { recursive: true });
  writeFileSync(join(published, 'baseline_context', 'comparison.txt'), 'pile_a 1.5 1.25\npile_all 1.4 1.2\n');
  writeFileSync(join(published, 'baseline_context', 'baseline_tiny.txt'), 'pile_all 0.99\npile_a 1.13\nnot a line\n');
  const expected = runPython<Record<string, Record<string, number | null>[]>>(SAVE, published);

  // Exactly the values Python saved, numpy.float64 and float alike (NaN where it saved NaN).
  const stats = readAggregateStats(join(published, 'eval-tiny-pile_all-50n', 'aggregate_stats.pth'));
  assert.deepEqual([...stats.keys()], ['pile_a', 'pile_all']);
  for (const [task, points] of Object.entries(expected)) {
    points.forEach((point, i) => {
      for (const [metric, value] of Object.entries(point)) {
        const got = (stats.get(task)![i] as Record<string, number>)[metric];
        if (value === null) assert.ok(Number.isNaN(got), `${task}[${i}].${metric} NaN`);
        else assert.ok(Object.is(got, value), `${task}[${i}].${metric}: ${got} !== ${value}`);
      }
    });
  }
  assert.equal(stats.get('pile_a')![1]!.training_loss, 5e-324, 'a subnormal float64 survives');
  // Any other global is refused by name; nothing is run.
  assert.throws(() => loadTorchValues(join(published, 'refused.pth')), /refusing to load the Python global collections\.OrderedDict/);

  const warned: string[] = [];
  const sources = readPublished(published, (w) => warned.push(w));
  assert.deepEqual(sources.map((s) => [s.label, s.method]), [
    ['published baseline_context', 'context'],
    ['published baseline_context/baseline_tiny', 'context'],
    ['published eval-tiny-pile_all-50n', 'ttt'],
  ]);
  assert.deepEqual(sources[0]!.beforeAfter!.get('pile_all'), { before: 1.4, after: 1.2 });
  assert.deepEqual(sources[1]!.beforeAfter!.get('pile_a'), { after: 1.13 });
  assert.match(warned.join('\n'), /baseline_tiny\.txt:3: expected "task value"/);

  // Our run: ttt and context on pile_a.
  const root = join(dir, 'run');
  const weights = writeWeights(root, { pile_a: 1 });
  writeLines(root, 'ttt', 'pile_a.rank0.jsonl', [scored('ttt', 'pile_a', 0, [2, 1.5], { train_losses: [[1]], train_seconds: [1], eval_seconds: [0.5] })]);
  writeLines(root, 'context', 'pile_a.rank0.jsonl', [scored('context', 'pile_a', 0, [2, 1.75], { context_neighbors: 3 })]);
  const { summary, html, files } = await writeReport({ resultsDir: root, out: join(root, 'report'), weights, resamples: 20, medianFilter: false, published: [published] });
  const [ttt, context] = [summary.methods.find((m) => m.method === 'ttt')!, summary.methods.find((m) => m.method === 'context')!];
  const row = (rows: string[][], name: string): string[] | undefined => rows.find((r) => r[0] === name);

  // pile_all by method: the published pile_all before (no neighbour) and after (the last point).
  const methods = methodsTable(summary);
  assert.deepEqual(row(methods.rows, 'published eval-tiny-pile_all-50n')!.slice(2, 6), ['1.2079', '0.9922', '2 neighbours (ttt), as published', '-17.9%']);
  assert.deepEqual(row(methods.rows, 'published baseline_context')!.slice(2, 4), ['1.4000', '1.2000']);
  assert.deepEqual(row(methods.rows, 'published baseline_context/baseline_tiny')!.slice(2, 4), ['n/a', '0.9900']);
  // Per task, beside the matching method only.
  const tttRows = comparisonTable(ttt, summary).rows;
  assert.deepEqual(row(tttRows, 'pile_a (published eval-tiny-pile_all-50n)')!.slice(4), ['1.3169', '1.1250', '-14.6%']);
  assert.equal(row(tttRows, 'pile_a (published baseline_context)'), undefined);
  assert.deepEqual(row(comparisonTable(context, summary).rows, 'pile_a (published baseline_context)')!.slice(4), ['1.5000', '1.2500', '-16.7%']);
  // The curve over neighbours, the training loss and the cost.
  const curve = curveTable(ttt, summary);
  assert.equal(curve.header[4], 'bits_per_byte (published eval-tiny-pile_all-50n)');
  assert.deepEqual(curve.rows.map((r) => r[4]), ['1.2079', '1.1000', '0.9922']);
  assert.deepEqual(curve.rows[2]!.slice(0, 2), ['2', 'n/a'], 'our curve is shorter');
  assert.deepEqual(curveTable(context, summary).rows.map((r) => r[4]), ['1.4000', '1.2000']);
  const loss = trainingLossTable(ttt, summary)!;
  assert.deepEqual(row(loss.rows, 'pile_all (published eval-tiny-pile_all-50n)'), ['pile_all (published eval-tiny-pile_all-50n)', '1.8292', '1.5000']);
  assert.equal(row(costTable(ttt, summary).rows, 'pile_all (published eval-tiny-pile_all-50n)')![6], '6.038');
  // Published lines in the curve plots, labelled by directory.
  const svg = readFileSync(join(root, 'report', 'plots', 'pile_all-curve.svg'), 'utf8');
  assert.match(svg, /published eval-tiny-pile_all-50n/);
  assert.match(readFileSync(join(root, 'report', 'plots', 'training-loss.svg'), 'utf8'), /published eval-tiny-pile_all-50n/);
  assert.match(html, /Published results/);
  assert.ok(files.includes(join(root, 'report', 'aggregates.json')));
  const aggregates = JSON.parse(readFileSync(join(root, 'report', 'aggregates.json'), 'utf8')) as { published: { label: string; curves?: Record<string, { bits_per_byte: number; training_loss: number | null }[]> }[] };
  const tiny = aggregates.published.find((p) => p.label === 'published eval-tiny-pile_all-50n')!;
  assert.equal(tiny.curves!['pile_all']![2]!.bits_per_byte, 0.9922193255214581);
  assert.equal(tiny.curves!['pile_all']![0]!.training_loss, null);

  // The CLI flag.
  const cli = spawnSync(process.execPath, ['bin/tttnn.js', 'report', '--results-dir', root, '--out', join(root, 'cli'), '--weights', weights, '--resamples', '10', '--published', published], { encoding: 'utf8' });
  assert.equal(cli.status, 0, cli.stderr);
  assert.match(cli.stdout, /published eval-tiny-pile_all-50n/);
});
