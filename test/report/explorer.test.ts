// The per-document explorer in report.html, clicked through in headless
// Chromium (Debian's, as the report test): from the tables' link to the
// explorer, sorted by gain, to the document that gained most; its
// neighbours (distances, the duplicate flagged, excerpts) and a curve per
// method are shown; re-sorting by document id reorders the index with CSS
// alone. Nothing is fetched. The screenshot is kept in test-artifacts/.
// Also: the command line's --data and --neighbour-data reach it, and a run
// of 700 documents with 2000 neighbours each gives a bounded page.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { countBytes, countWords } from '../../src/eval/metrics.js';
import type { DocumentResult } from '../../src/eval/results.js';
import { loadResults } from '../../src/report/aggregate.js';
import { EXPLORER_CURVE_POINTS } from '../../src/report/explorer-curve.js';
import { EXPLORER_DOCUMENTS, EXPLORER_LOSS_COLUMNS, EXPLORER_NEIGHBOURS, explorerHtml, explorerWants } from '../../src/report/explorer.js';
import { writeReport } from '../../src/report/report.js';
import { summarize } from '../../src/report/summary.js';
import { scored, writeLines } from './fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'tttnn-explorer-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const TASKS = ['Github', 'ArXiv', 'Github', 'FreeLaw', 'ArXiv', 'Github'];
const texts = TASKS.map((name, i) => `Test document ${i} (${name}): ${'a sentence about the topic of this document. '.repeat(3 + i)}`);
const neighbours = Array.from({ length: 40 }, (_, i) => `Training document ${i}: ${'other words in the corpus '.repeat(2 + (i % 5))}`);
// Neighbour 3 of every document is the test document itself (a duplicate, at distance 0 for document 4).
const neighbourIds = (id: number): number[] => [id * 5, id * 5 + 1, 30 + id];
neighbours[34] = texts[4]!;
/** Bits per byte before and after each of 3 neighbours: document 4 gains most under ttt. */
const tttBits = (id: number): number[] => (id === 4 ? [2.5, 2.0, 1.5, 1.1] : [2 + id / 10, 1.95 + id / 10, 1.9 + id / 10, 1.85 + id / 10]);

function line(method: string, id: number, bits: number[], extra: Partial<DocumentResult> = {}): DocumentResult {
  const text = texts[id]!;
  const bytes = countBytes(text);
  const ids = neighbourIds(id).slice(0, bits.length - 1);
  return {
    task: `pile_${TASKS[id]!.toLowerCase()}`, doc_id: id, method, bytes, words: countWords(text), tokens: Math.round(bytes / 4),
    loglikelihoods: bits.map((b) => -b * bytes * Math.LN2), retrieval_seconds: 0.1,
    neighbor_ids: ids, neighbor_distances: ids.map((n, k) => (n === 34 ? 0 : 0.5 + k / 4)),
    train_seconds: ids.map(() => 0.2), train_losses: ids.map((_, k) => [3 - k / 2, 2.9 - k / 2]), ...extra,
  };
}

// Two methods' results on the six documents, the test file and the indexed file.
const results = join(dir, 'results');
writeLines(results, 'ttt', 'all.rank0.jsonl', TASKS.map((_, id) => line('ttt', id, tttBits(id))));
writeLines(results, 'random', 'all.rank0.jsonl', TASKS.map((_, id) => line('random', id, [2 + id / 10, 2.01 + id / 10, 1.99 + id / 10, 2 + id / 10])));
const data = join(dir, 'test.jsonl');
writeFileSync(data, TASKS.map((name, i) => JSON.stringify({ text: texts[i], meta: { pile_set_name: name } })).join('\n') + '\n');
const train = join(dir, 'train.jsonl');
writeFileSync(train, neighbours.map((text) => JSON.stringify({ text })).join('\n') + '\n');

test('tttnn report --data --neighbour-data: the explorer gets both texts from the command line', () => {
  const out = join(dir, 'cli-report');
  const r = spawnSync(process.execPath, [resolve('bin/tttnn.js'), 'report', '--results-dir', results, '--out', out, '--resamples', '5', '--data', data, '--neighbour-data', train], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const html = readFileSync(join(out, 'report.html'), 'utf8');
  const entry = html.slice(html.indexOf('id="doc-4"'));
  assert.ok(entry.includes('Test document 4 (ArXiv)') && entry.includes('Training document 20:'));
  assert.match(entry, /<td class="distance">0\.0000<\/td><td class="duplicate">duplicate<\/td>/);
  assert.doesNotMatch(html, /<script/i, 'still no script');
});

test('the explorer: from the tables to the document that gained most, its neighbours and a curve per method, sorted by CSS; no network', async () => {
  await writeReport({ resultsDir: results, out: join(dir, 'report'), resamples: 20, explorerData: { documents: data, neighbours: train } });

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
    await page.goto(pathToFileURL(join(dir, 'report', 'report.html')).href, { waitUntil: 'load' });
    // From the tables: the link to the explorer.
    await page.click('.explorer-link a >> nth=0');
    assert.match(page.url(), /#explorer$/);
    // The index as laid out on screen (CSS order), top to bottom. (Strings: this project compiles without DOM types.)
    const visualOrder = `[...document.querySelectorAll('.explorer-index li')].map((li) => ({ top: li.getBoundingClientRect().top, href: li.querySelector('a').getAttribute('href'), gain: Number(li.dataset.gain) })).sort((a, b) => a.top - b.top)`;
    const byGain = await page.evaluate<{ href: string; gain: number }[]>(visualOrder);
    assert.equal(byGain.length, 6);
    assert.deepEqual(byGain.map((e) => e.gain), [...byGain.map((e) => e.gain)].sort((a, b) => b - a), 'largest gain first');
    assert.equal(byGain[0]!.href, '#doc-4');
    assert.ok(Math.abs(byGain[0]!.gain - 1.4) < 1e-9);
    await page.click('label[for="explorer-by-id"]');
    const byId = await page.evaluate<{ href: string }[]>(visualOrder);
    assert.deepEqual(byId.map((e) => e.href), ['#doc-0', '#doc-1', '#doc-2', '#doc-3', '#doc-4', '#doc-5'], 'by document id, by CSS alone');
    await page.click('label[for="explorer-by-gain"]');
    assert.equal((await page.evaluate<{ href: string }[]>(visualOrder))[0]!.href, '#doc-4', 'back to largest gain first');
    // The index's entry at the top goes to the document that gained most...
    await page.click(`.explorer-index a[href="${byGain[0]!.href}"]`);
    assert.match(page.url(), /#doc-4$/);
    // ...and so does the tables' own link, followed from the top of the report.
    await page.goto(pathToFileURL(join(dir, 'report', 'report.html')).href, { waitUntil: 'load' });
    assert.equal(await page.textContent('.explorer-link a.largest-gain >> nth=0'), 'document 4 (pile_arxiv, 1.4000 bits per byte)');
    await page.click('.explorer-link a.largest-gain >> nth=0');
    assert.match(page.url(), /#doc-4$/);
    const shown = await page.evaluate<{ heading: string; text: string; neighbours: string[][]; curves: string[]; curveBox: number; neighboursVisible: boolean; losses: number; visible: boolean }>(`(() => {
      const doc = document.querySelector('#doc-4');
      const box = doc.getBoundingClientRect();
      return {
        heading: doc.querySelector('h3').textContent,
        text: doc.querySelector('.doc-text').textContent,
        neighbours: [...doc.querySelectorAll('tr.neighbour')].map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)),
        curves: [...doc.querySelectorAll('svg.doc-curve polyline.curve')].map((p) => p.getAttribute('data-method') + ':' + p.getAttribute('points').split(' ').length),
        curveBox: (() => { const b = doc.querySelector('svg.doc-curve').getBoundingClientRect(); return b.width * b.height; })(),
        neighboursVisible: doc.querySelector('table.neighbours').getBoundingClientRect().height > 0,
        losses: doc.querySelectorAll('table.training-losses tbody tr').length,
        visible: box.top >= 0 && box.top < window.innerHeight,
      };
    })()`);
    assert.equal(shown.heading, 'Document 4 — pile_arxiv');
    assert.ok(shown.text.startsWith('Test document 4 (ArXiv)'));
    assert.ok(shown.visible, 'scrolled to the document');
    assert.deepEqual(shown.neighbours.map((r) => r.slice(0, 4)), [['1', '20', '0.5000', 'no'], ['2', '21', '0.7500', 'no'], ['3', '34', '0.0000', 'duplicate']]);
    assert.ok(shown.neighbours[0]![4]!.startsWith('Training document 20:'), 'the neighbour\'s excerpt');
    assert.ok(shown.neighbours[2]![4]!.startsWith('Test document 4 (ArXiv)'), 'the duplicate is the document itself');
    assert.deepEqual(shown.curves.sort(), ['random:4', 'ttt:4'], 'a curve per method, a point per neighbour count');
    assert.ok(shown.curveBox > 10_000 && shown.neighboursVisible, 'the curve and the neighbours are laid out on screen');
    assert.equal(shown.losses, 2, 'training losses of both methods');
    assert.deepEqual(errors, []);
    assert.deepEqual(requests, [], 'the report fetches nothing');
    mkdirSync('test-artifacts', { recursive: true });
    await page.screenshot({ path: join('test-artifacts', 'explorer.png') });
    assert.ok(readFileSync(join('test-artifacts', 'explorer.png')).length > 10_000);
  } finally {
    await browser.close();
  }
});

test('the explorer stays small for many documents with long curves: capped documents, neighbours, points and loss columns, said on the page', () => {
  // 700 documents with 2000 neighbours each: whole, this would be a page of hundreds of MB.
  const results = join(dir, 'many');
  const steps = 2001;
  const docs = Array.from({ length: 700 }, (_, id) => {
    const bits = Array.from({ length: steps }, (_, k) => 2 - (k / steps) * (id / 700));
    return scored('ttt', 'pile_github', id, bits, { neighbor_distances: bits.slice(1).map((_, k) => (k === 0 ? 0 : 1)), train_losses: bits.slice(1).map(() => [1.5]) });
  });
  writeLines(results, 'ttt', 'pile_github.rank0.jsonl', docs);
  const run = { label: 'many', loaded: loadResults(results) };
  const summary = summarize([run], { pile_github: 1 }, { resamples: 10 });
  const { html, largestGain } = explorerHtml(summary, run, {});
  // report.ts reads from --data and --neighbour-data only the texts shown.
  const wanted = explorerWants(summary, run);
  assert.equal(wanted.documents.size, EXPLORER_DOCUMENTS);
  assert.deepEqual([...wanted.neighbours].sort((a, b) => a - b), Array.from({ length: EXPLORER_NEIGHBOURS }, (_, i) => i));
  assert.ok(html.length < 6_000_000, `explorer of ${html.length} characters`);
  assert.equal(largestGain?.id, 699);
  assert.equal(html.match(/<section class="doc"/g)?.length, EXPLORER_DOCUMENTS);
  assert.ok(html.includes('id="doc-699"') && html.includes('id="doc-0"') && !html.includes('id="doc-350"'), 'the largest gains and the largest losses');
  assert.match(html, new RegExp(`The ${EXPLORER_DOCUMENTS / 2} largest gains and the ${EXPLORER_DOCUMENTS / 2} largest losses of 700 documents`));
  const entry = html.slice(html.indexOf('id="doc-699"'), html.indexOf('</section>', html.indexOf('id="doc-699"')));
  assert.equal(entry.match(/<tr class="neighbour">/g)?.length, EXPLORER_NEIGHBOURS);
  assert.match(entry, /the first 20 of 2000/);
  assert.equal(/points="([^"]*)"/.exec(entry)![1]!.split(' ').length, EXPLORER_CURVE_POINTS);
  assert.equal(entry.match(/<th>\d+<\/th>/g)?.length, EXPLORER_LOSS_COLUMNS);
  // Without texts only distance 0 tells a duplicate; the rest is unknown, not "no".
  assert.match(entry, /<td class="distance">0\.0000<\/td><td class="duplicate">duplicate<\/td>/);
  assert.match(entry, /<td class="distance">1\.0000<\/td><td class="duplicate-unknown">unknown \(no text\)<\/td>/);
  assert.match(html, /pass tttnn report --data/);
  assert.match(html, /--neighbour-data/);
});
