// tttnn report's lm-evaluation-harness files read by the harness's own code
// (reference venv): make_table prints the numbers our report computed, the
// samples file loads with datasets and its hashes and counts are what the
// harness computes from the documents of the test file.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { countBytes, countWords } from '../../src/eval/metrics.js';
import { dataFingerprint } from '../../src/eval/fingerprints.js';
import { claimResultsDirectory } from '../../src/eval/run-record.js';
import type { DocumentResult } from '../../src/eval/results.js';
import { harnessDateId } from '../../src/report/lm-eval-results.js';
import { runPythonWith } from '../helpers/python.js';
import { refVenvPython } from '../helpers/ref-venv.js';
import { writeLines } from './fixtures.js';

const CLI = new URL('../../../bin/tttnn.js', import.meta.url).pathname;
const READER = readFileSync(new URL('../../../test/reference/lm_eval_results.py', import.meta.url), 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'tttnn-lm-eval-'));

// A test file of three tasks: pile_github with four different documents, pile_arxiv with three identical ones
// (a bootstrap stderr of exactly 0), pile_enron with one (stderr "N/A", as the harness below two items).
const TASKS: [string, string][] = [['Github', 'pile_github'], ['Github', 'pile_github'], ['ArXiv', 'pile_arxiv'], ['Github', 'pile_github'], ['ArXiv', 'pile_arxiv'], ['Enron Emails', 'pile_enron'], ['ArXiv', 'pile_arxiv'], ['Github', 'pile_github']];
const texts = TASKS.map(([, task], i) => (task === 'pile_arxiv' ? 'We prove that the bound is tight.\nThe proof is by induction — n ≥ 1.' : `${task} document ${i}: ${'some text with words '.repeat(i + 1)}\tand "quotes" ✓`));
const data = join(dir, 'test.jsonl');
writeFileSync(data, TASKS.map(([name], i) => JSON.stringify({ text: texts[i], meta: { pile_set_name: name } })).join('\n') + '\n');

function line(method: string, id: number, curve: number[], extra: Partial<DocumentResult> = {}): DocumentResult {
  const text = texts[id]!;
  const bytes = countBytes(text);
  return { task: TASKS[id]![1], doc_id: id, method, bytes, words: countWords(text), tokens: bytes / 4, loglikelihoods: curve.map((bits) => -bits * bytes * Math.LN2), retrieval_seconds: 0.25, neighbor_ids: curve.slice(1).map((_, k) => 100 + id * 10 + k), neighbor_distances: curve.slice(1).map((_, k) => 0.5 + k), duplicate_neighbors: 0, train_seconds: curve.slice(1).map(() => 0.5), train_losses: curve.slice(1).map(() => [2.5]), ...extra };
}

test('lm-evaluation-harness reads results_<date>.json and samples_<task>_<date>.jsonl: make_table shows our report\'s numbers; hashes and counts are the harness\'s', () => {
  const results = join(dir, 'results');
  const bits = (id: number): number[] => (TASKS[id]![1] === 'pile_arxiv' ? [1.5, 1.25, 1.2] : [2 + id / 10, 1.8 + id / 20, 1.7 + id / 30]);
  const ttt = TASKS.map((_, id) => line('ttt', id, bits(id)));
  writeLines(results, 'ttt', 'all.rank0.jsonl', ttt);
  claimResultsDirectory(join(results, 'ttt'), { settings: { seed: 1216, numNeighbors: 2 }, precision: 'fp32', model: 'm'.repeat(64), tokenizer: 't'.repeat(64), data: dataFingerprint(data) });
  const alphas = [0, 0.1, 0.2];
  const interpolation = TASKS.map((_, id) => {
    const { loglikelihoods, ...rest } = line('interpolation', id, TASKS[id]![1] === 'pile_arxiv' ? [2.2, 2.0, 2.1] : [2.1 + id / 7, 1.9 + id / 11, 2.0 + id / 13]);
    return { ...rest, alphas, alpha_loglikelihoods: loglikelihoods!, neighbor_ids: [7], neighbor_distances: [1] };
  });
  writeLines(results, 'interpolation', 'all.rank0.jsonl', interpolation);
  const out = join(dir, 'report');
  const before = Date.now();
  const run = spawnSync(process.execPath, [CLI, 'report', '--results-dir', results, '--out', out, '--resamples', '300', '--log-samples', '--data', data], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  const aggregates = JSON.parse(readFileSync(join(out, 'aggregates.json'), 'utf8')) as { methods: { method: string; afterStep: number; pileAll: { after: { value: number }; curve: Record<string, number>[] }; tasks: { task: string; afterStep: number; curve: Record<string, number>[] }[] }[] };

  const files = readdirSync(join(out, 'lm-eval'), { recursive: true, encoding: 'utf8' }).map((f) => join(out, 'lm-eval', f)).filter((f) => f.endsWith('.json') || f.endsWith('.jsonl'));
  const resultsFiles = files.filter((f) => /\/results_[^/]+\.json$/.test(f)).sort();
  const sampleFiles = files.filter((f) => /\/samples_/.test(f)).sort();
  assert.deepEqual(resultsFiles.map((f) => f.split('/').at(-2)), ['interpolation', 'ttt']);
  assert.equal(sampleFiles.length, 6, 'three tasks x two methods');
  const read = runPythonWith<{ tables: Record<string, string>; groups: Record<string, string>; results_files: string[]; sample_files: string[]; dates: Record<string, string>; samples: Record<string, { task: string; rows: Record<string, unknown>[] }> }>(
    refVenvPython(), READER, { results: resultsFiles, samples: sampleFiles }, 300_000, { HF_DATASETS_CACHE: join(dir, 'hf-cache'), HF_DATASETS_OFFLINE: '1', HF_HUB_OFFLINE: '1' },
  );
  assert.deepEqual(read.results_files, resultsFiles, 'the harness recognises our results files by name');
  assert.deepEqual(read.sample_files, sampleFiles);
  for (const f of resultsFiles) {
    const id = read.dates[f]!;
    assert.match(id, /^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{6}$/, 'the harness reads the datetime id from the file name');
    assert.ok(id >= harnessDateId(new Date(before)).slice(0, 16), `${id} is now`);
  }

  for (const f of resultsFiles) {
    const method = aggregates.methods.find((m) => m.method === f.split('/').at(-2))!;
    // make_table's rows: | task | version | filter | n-shot | metric | | value | ± | stderr |
    const rows = read.tables[f]!.split('\n').slice(2).map((r) => r.split('|').slice(1, -1).map((c) => c.trim()));
    const table = new Map<string, Map<string, { value: string; stderr: string; version: string }>>();
    let task = '';
    let version = '';
    for (const [name, v, filter, nShot, metric, , value, , stderr] of rows) {
      if (name) [task, version] = [name.replace(/^- /, ''), v!];
      assert.equal(filter, 'none');
      if (name) assert.equal(nShot, task === 'pile_all' ? '' : '0');
      (table.get(task) ?? table.set(task, new Map()).get(task)!).set(metric!, { value: value!, stderr: stderr!, version });
    }
    assert.deepEqual([...table.keys()].sort(), ['pile_all', 'pile_arxiv', 'pile_enron', 'pile_github']);
    const expect = (name: string, point: Record<string, number>): void => {
      for (const metric of ['bits_per_byte', 'byte_perplexity', 'word_perplexity']) {
        const cell = table.get(name)!.get(metric)!;
        assert.equal(cell.value, point[metric]!.toFixed(4), `${method.method} ${name} ${metric}: make_table prints the report's number`);
        if (name !== 'pile_all') assert.equal(cell.version, '2.0', "the Pile tasks' version, a float as the harness writes it");
        if (name === 'pile_enron') assert.equal(cell.stderr, 'N/A', 'one document: no stderr, as the harness');
        else if (name === 'pile_arxiv') assert.equal(cell.stderr, '0.0000', 'identical documents: every resample the same');
        else assert.ok(Number(cell.stderr) > 0, `${name} ${metric} stderr ${cell.stderr}`);
      }
    };
    for (const t of method.tasks) expect(t.task, t.curve[t.afterStep]!);
    const pileAll = table.get('pile_all')!.get('bits_per_byte')!.value;
    assert.equal(pileAll, method.pileAll.after.value.toFixed(4), `${method.method}: pile_all bits per byte is the report's headline`);
    assert.match(read.groups[f]!, /\|pile_all\|/, 'pile_all is also a group');
  }

  for (const f of sampleFiles) {
    const { task, rows } = read.samples[f]!;
    const method = f.split('/').at(-2)!;
    const docs: DocumentResult[] = (method === 'ttt' ? ttt : interpolation).filter((d) => d.task === task);
    assert.deepEqual(rows.map((r) => r['doc_id']).sort(), docs.map((d) => d.doc_id).sort(), `${f}: the task's documents (the harness reads the task from the name)`);
    for (const r of rows) {
      for (const check of ['doc_hash_ok', 'prompt_hash_ok', 'target_hash_ok', 'bytes_ok', 'words_ok']) assert.equal(r[check], true, `${f} document ${String(r['doc_id'])}: ${check}`);
      const d = docs.find((x) => x.doc_id === r['doc_id'])!;
      if (method === 'ttt') {
        assert.equal(r['resp'], d.loglikelihoods!.at(-1), 'the response is the log-likelihood after the last neighbour');
        assert.deepEqual(r['neighbor_ids'], d.neighbor_ids);
      }
    }
  }

  // --log-samples with another data file than the evaluation's: refused, naming both.
  const other = join(dir, 'other.jsonl');
  writeFileSync(other, '{"text": "not the test file"}\n');
  const refused = spawnSync(process.execPath, [CLI, 'report', '--results-dir', results, '--out', join(dir, 'refused'), '--log-samples', '--data', other], { encoding: 'utf8' });
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /--data .*other\.jsonl is not the file .*ttt was evaluated on/);
});
