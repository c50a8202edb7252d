// The report on synthetic result files whose aggregates and bootstrap
// intervals are known in closed form; malformed lines; the HTML opened in
// headless Chromium (Debian's), its screenshot kept in test-artifacts/.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { spawnSync } from 'node:child_process';
import type { DocumentResult } from '../../src/eval/results.js';
import { loadResults, quantile } from '../../src/report/aggregate.js';
import { writeReport } from '../../src/report/report.js';

const dir = mkdtempSync(join(tmpdir(), 'tttnn-report-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const LN2 = Math.LN2;

function doc(task: string, id: number, bytes: number, words: number, loglikelihoods: number[], extra: Partial<DocumentResult> = {}): DocumentResult {
  return { task, doc_id: id, method: 'ttt', bytes, words, tokens: bytes / 4, loglikelihoods, retrieval_seconds: 0.01 * (id + 1), neighbor_ids: [1, 2], neighbor_distances: [0.5 + id, 1 + id], train_seconds: [0.2, 0.4], train_losses: [[3, 2.5], [2]], ...extra };
}

function writeLines(path: string, docs: readonly DocumentResult[]): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, docs.map((d) => `${JSON.stringify(d)}\n`).join(''));
}

/**
 * Task a: two documents of 100 bytes on two ranks, bits per byte a0 = 2 and
 * a1 = 4 before, 1 and 3 after one neighbour. Task b: three identical
 * documents (an interval of zero width). Weights a: 3, b: 1.
 */
function syntheticRun(root: string): void {
  const ll = (bpb: number, bytes: number): number => -bpb * bytes * LN2;
  writeLines(join(root, 'ttt', 'pile_a.rank0.jsonl'), [doc('pile_a', 0, 100, 20, [ll(2, 100), ll(1, 100)])]);
  writeLines(join(root, 'ttt', 'pile_a.rank1.jsonl'), [doc('pile_a', 1, 100, 30, [ll(4, 100), ll(3, 100)])]);
  writeLines(join(root, 'ttt', 'pile_b.rank0.jsonl'), [0, 1, 2].map((i) => doc('pile_b', i, 50, 10, [ll(5, 50), ll(4.5, 50)])));
  // Interpolation: alpha 0.01 is best overall.
  const alphas = [0, 0.01, 0.02];
  writeLines(join(root, 'interpolation', 'pile_a.rank0.jsonl'), [0, 1].map((i) => ({ ...doc('pile_a', i, 100, 20, []), method: 'interpolation', loglikelihoods: undefined, alphas, alpha_loglikelihoods: [ll(3, 100), ll(2.5, 100), ll(2.8, 100)], train_seconds: undefined, train_losses: undefined })));
  writeFileSync(join(root, 'weights.json'), JSON.stringify({ pile_a: 3, pile_b: 1 }));
}

test('aggregates, pile_all and bootstrap intervals match their closed forms', async () => {
  const root = join(dir, 'known');
  syntheticRun(root);
  const { summary, files } = await writeReport({ resultsDir: root, out: join(root, 'report'), weights: join(root, 'weights.json'), resamples: 1000, medianFilter: false });
  const ttt = summary.methods.find((m) => m.method === 'ttt')!;
  const [a, b] = [ttt.tasks.find((t) => t.task === 'pile_a')!, ttt.tasks.find((t) => t.task === 'pile_b')!];
  // Ranks merged: both of task a's documents, equal bytes: the mean of 2 and 4, then of 1 and 3.
  assert.equal(a.documents, 2);
  assert.ok(Math.abs(a.curve[0]!.bits_per_byte - 3) < 1e-12 && Math.abs(a.curve[1]!.bits_per_byte - 2) < 1e-12);
  assert.ok(Math.abs(a.curve[0]!.byte_perplexity - 2 ** 3) < 1e-9);
  // word perplexity: exp(-Σll / Σwords) = exp(600 ln2 / 50) = 2^12.
  assert.ok(Math.abs(a.curve[0]!.word_perplexity / 2 ** 12 - 1) < 1e-12);
  // Resampling two equal-sized documents: {a0,a0} 1/4, mean 1/2, {a1,a1} 1/4, so the 10% and 90% quantiles are the two documents.
  assert.deepEqual([a.before.low, a.before.high].map((v) => Number(v.toFixed(9))), [2, 4]);
  assert.deepEqual([a.after.low, a.after.high].map((v) => Number(v.toFixed(9))), [1, 3]);
  // Identical documents: no spread.
  assert.ok(Math.abs(b.before.low - 5) < 1e-12 && Math.abs(b.before.high - 5) < 1e-12 && Math.abs(b.after.value - 4.5) < 1e-12);
  // pile_all: (3·3 + 1·5) / 4 before, (3·2 + 1·4.5) / 4 after.
  assert.ok(Math.abs(ttt.pileAll.before.value - 3.5) < 1e-12);
  assert.ok(Math.abs(ttt.pileAll.after.value - 2.625) < 1e-12);
  assert.ok(ttt.pileAll.before.low < 3.5 && ttt.pileAll.before.high > 3.5 && ttt.pileAll.before.low >= 2 && ttt.pileAll.before.high <= 5);
  // Tasks ordered by weight; costs carried through.
  assert.deepEqual(ttt.tasks.map((t) => t.task), ['pile_a', 'pile_b']);
  assert.deepEqual(a.trainSecondsPerNeighbor.map((s) => Number(s.toFixed(12))), [0.3, 0.3]);
  assert.equal(a.distances.length, 4);

  const interpolation = summary.methods.find((m) => m.method === 'interpolation')!;
  assert.equal(interpolation.interpolation!.oracleGlobal.alpha, 0.01);
  assert.ok(Math.abs(interpolation.pileAll.after.value - 2.5) < 1e-12);

  // The files, and the tables in them.
  for (const name of ['report.html', 'summary.md', 'comparison.txt', 'aggregates.json', 'plots/pile_all-curve.svg', 'plots/pile_all-curve.png', 'plots/before-after.png', 'plots/training-cost.svg', 'plots/training-loss.svg', 'plots/neighbour-distances.svg', 'plots/interpolation-alpha.svg', 'plots/largest-tasks-curves.svg', 'plots/task-curves.png']) {
    assert.ok(files.includes(join(root, 'report', name)), `${name} written`);
  }
  assert.deepEqual([...readFileSync(join(root, 'report', 'plots', 'before-after.png')).subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const svg = readFileSync(join(root, 'report', 'plots', 'pile_all-curve.svg'), 'utf8');
  assert.match(svg, /^<svg[^>]*width="\d+"/);
  assert.match(svg, /bits per byte/);
  const comparison = readFileSync(join(root, 'report', 'comparison.txt'), 'utf8');
  // Columns: task, weight, documents, failed retrievals, before, after, change.
  assert.match(comparison, /pile_a\s+3\.00\s+2\s+0\s+3\.0000 \[2\.000, 4\.000\]\s+2\.0000 \[1\.000, 3\.000\]\s+-33\.3%/);
  assert.match(comparison, /interpolation\s+2\s+.*best alpha per task \(oracle\)/);
  assert.match(comparison, /oracle global\s+0\.01\s+2\.5000/);
  const aggregates = JSON.parse(readFileSync(join(root, 'report', 'aggregates.json'), 'utf8')) as { methods: { method: string; pileAll: { after: { value: number } } }[] };
  assert.equal(aggregates.methods.find((m) => m.method === 'ttt')!.pileAll.after.value, 2.625);
});

test('quantile interpolates as numpy does', () => {
  assert.equal(quantile([1, 2, 3, 4], 0.5), 2.5);
  assert.ok(Math.abs(quantile([0, 10], 0.1) - 1) < 1e-12);
  assert.equal(quantile([7], 0.9), 7);
});

test('malformed result lines are warned about with file and line, skipped, and counted in the report', async () => {
  const root = join(dir, 'malformed');
  syntheticRun(root);
  const file = join(root, 'ttt', 'pile_a.rank0.jsonl');
  appendFileSync(file, '{"task": "pile_a", "doc_id": 9, "bytes": 10\n'); // cut short by a crash
  appendFileSync(file, `${JSON.stringify({ ...doc('pile_a', 7, 100, 20, [NaN]), loglikelihoods: [null] })}\n`);
  appendFileSync(file, `${JSON.stringify({ ...doc('pile_a', 8, 0, 20, [-1]) })}\n`);
  appendFileSync(file, `${JSON.stringify(doc('pile_a', 1, 100, 30, [-1, -1]))}\n`); // doc 1 again (also in rank1)
  const loaded = loadResults(root);
  assert.equal(loaded.skippedLines, 3);
  assert.equal(loaded.duplicateLines, 1);
  assert.match(loaded.warnings[0]!, /pile_a\.rank0\.jsonl:2: not JSON/);
  assert.match(loaded.warnings[1]!, /pile_a\.rank0\.jsonl:3: a log-likelihood is not a finite number/);
  assert.match(loaded.warnings[2]!, /pile_a\.rank0\.jsonl:4: "bytes" is not a positive number/);
  const warned: string[] = [];
  const { html, summary } = await writeReport({ resultsDir: root, out: join(root, 'report'), weights: join(root, 'weights.json'), resamples: 50, warn: (w) => warned.push(w) });
  assert.equal(warned.length, 3);
  // The report is still built from the rest, and says what it skipped.
  assert.equal(summary.methods.find((m) => m.method === 'ttt')!.tasks.find((t) => t.task === 'pile_a')!.documents, 2);
  assert.match(html, /3 result lines skipped/);
  assert.match(html, /Warnings \(3\)/);
  assert.match(html, /<td>3<\/td><td>1<\/td><\/tr>/); // lines skipped, duplicate lines
});

test('tttnn report: clear errors for a missing directory, bad weights, and no usable lines', () => {
  const cli = resolve('bin/tttnn.js');
  const run = (...args: string[]): { status: number | null; stderr: string } => spawnSync(process.execPath, [cli, 'report', ...args], { encoding: 'utf8' });
  assert.match(run('--results-dir', join(dir, 'nope'), '--out', join(dir, 'o')).stderr, /nope: no such results directory/);
  const empty = join(dir, 'empty', 'ttt');
  mkdirSync(empty, { recursive: true });
  writeFileSync(join(empty, 'pile_a.rank0.jsonl'), 'garbage\n');
  const r = run('--results-dir', join(dir, 'empty'), '--out', join(dir, 'o'));
  assert.equal(r.status, 1);
  assert.match(r.stderr, /pile_a\.rank0\.jsonl:1: not JSON/);
  assert.match(r.stderr, /no usable result lines/);
  const root = join(dir, 'known-cli');
  syntheticRun(root);
  writeFileSync(join(root, 'partial-weights.json'), '{"pile_a": 2}');
  const partial = run('--results-dir', root, '--out', join(dir, 'o'), '--weights', join(root, 'partial-weights.json'), '--resamples', '20');
  assert.equal(partial.status, 0);
  assert.match(partial.stderr, /task pile_b has no weight in .*partial-weights\.json: it is left out of pile_all/);
  writeFileSync(join(root, 'bad-weights.json'), '{"pile_a": "heavy"}');
  assert.match(run('--results-dir', root, '--out', join(dir, 'o'), '--weights', join(root, 'bad-weights.json')).stderr, /bad-weights\.json: weight of "pile_a" is not a non-negative number/);
  const help = spawnSync(process.execPath, [cli, 'report', '--help'], { encoding: 'utf8' }).stdout;
  for (const flag of ['--results-dir', '--compare', '--out', '--weights', '--resamples', '--seed', '--no-median-filter', '--interpolation-validation', '--published', '--log-samples', '--data', '--neighbour-data']) assert.ok(help.includes(flag), flag);
  assert.match(help, /document explorer/);
});

test('the HTML report renders offline in headless Chromium: every plot visible, no console error', async () => {
  const root = join(dir, 'browser');
  syntheticRun(root);
  const other = join(dir, 'browser-other');
  syntheticRun(other);
  const { summary } = await writeReport({ resultsDir: root, compare: [other], out: join(root, 'report'), weights: join(root, 'weights.json'), resamples: 100 });
  assert.deepEqual(summary.methods.map((m) => m.label), ['browser/ttt', 'browser/interpolation', 'browser-other/ttt', 'browser-other/interpolation']);
  const executablePath = process.env['TTTNN_CHROMIUM'] ?? '/usr/bin/chromium';
  assert.ok(existsSync(executablePath), `${executablePath} missing: install Debian's chromium (bash scripts/setup.sh --test) or set TTTNN_CHROMIUM`);
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => void (m.type() === 'error' && errors.push(m.text())));
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('request', (r) => void (r.url().startsWith('file:') || requests.push(r.url())));
    await page.goto(pathToFileURL(join(root, 'report', 'report.html')).href, { waitUntil: 'load' });
    // Runs in the page (a string, since this project compiles without DOM types).
    const figures = await page.evaluate<{ id: string; width: number; height: number; marks: number; visible: boolean }[]>(`[...document.querySelectorAll('figure')].map((f) => {
      const svg = f.querySelector('svg');
      const box = svg ? svg.getBoundingClientRect() : { width: 0, height: 0 };
      return { id: f.id, width: box.width, height: box.height, marks: svg ? svg.querySelectorAll('path, line, rect, text').length : 0, visible: !!svg && getComputedStyle(svg).visibility === 'visible' };
    })`);
    assert.deepEqual(figures.map((f) => f.id).sort(), ['plot-before-after', 'plot-interpolation-alpha', 'plot-largest-tasks-curves', 'plot-neighbour-distances', 'plot-pile_all-curve', 'plot-task-curves', 'plot-training-cost', 'plot-training-loss']);
    for (const f of figures) assert.ok(f.width > 100 && f.height > 100 && f.marks > 10 && f.visible, `${f.id} rendered: ${JSON.stringify(f)}`);
    assert.ok((await page.$$('table')).length >= 5);
    assert.deepEqual(errors, []);
    assert.deepEqual(requests, [], 'the report fetches nothing');
    mkdirSync('test-artifacts', { recursive: true });
    await page.screenshot({ path: join('test-artifacts', 'report.png'), fullPage: true });
    assert.ok(readFileSync(join('test-artifacts', 'report.png')).length > 10_000);
  } finally {
    await browser.close();
  }
});
