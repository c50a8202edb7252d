// A Parquet corpus (written by pyarrow, several row groups, a null text)
// through index build -> serve -> eval, on the command line, against the
// same corpus as JSONL (a bad line where the null text is): the same index
// bytes, the same neighbours served, the same curves. Real tiny models, real
// shard servers on 127.0.0.1.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { manualSeed } from '../../src/engine/index.js';
import { Gpt2LMHeadModel, RobertaModel, saveModel } from '../../src/models/index.js';
import { readToken, writeNewToken } from '../../src/retrieval/auth.js';
import { RetrievalClient } from '../../src/retrieval/client.js';
import { gpt2Tokenizer, robertaTokenizerFromGpt2, saveTokenizer } from '../../src/tokenizers/index.js';
import { startFleetProcess, type FleetProcess } from '../helpers/fleet.js';
import { runPythonWith } from '../helpers/python.js';
import { refVenvPython } from '../helpers/ref-venv.js';
import { readResultLines } from '../helpers/results.js';

const CLI = new URL('../../../bin/tttnn.js', import.meta.url).pathname;
const WRITER = readFileSync(new URL('../../../test/reference/write_parquet.py', import.meta.url), 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'tttnn-parquet-pipeline-'));
const TASKS = ['Gutenberg (PG-19)', 'Github', 'DM Mathematics', 'FreeLaw'];
const TOPICS = ['The lighthouse keeper counted ships in the fog every night', 'def parse(tokens): return [t.strip() for t in tokens if t]', 'Solve 3*x + 7 = 22 for x. The answer is 5', 'The licence grants permission to copy and modify the software'];
const testTexts: (string | null)[] = TOPICS.map((t, i) => `${t}. ${t.split(' ').reverse().join(' ')} ${i}. ${t}.`);
// The training corpus holds every test document verbatim among others, and a null text at row 5.
const trainTexts: (string | null)[] = [...testTexts, ...Array.from({ length: 30 }, (_, i) => `${TOPICS[i % 4]} variant ${i} with more words ${i * 7}`)];
trainTexts[5] = null;
testTexts.splice(2, 0, null); // the test file too: row 2

const fleets: FleetProcess[] = [];
after(async () => {
  for (const fleet of fleets) await fleet.stop();
});

function cli(args: string[]): string {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, `tttnn ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** The corpus as Parquet (pyarrow, row groups of `groupSize`) and as JSONL (a line with a null text where the null text is). */
function writeBoth(name: string, texts: (string | null)[], groupSize: number): { parquet: string; jsonl: string } {
  const rows = texts.map((text, i) => ({ text, task: TASKS[i % 4]! }));
  const parquet = join(dir, `${name}.parquet`);
  const written = runPythonWith<{ row_groups: number[] }>(refVenvPython(), WRITER, { path: parquet, rows, row_group_size: groupSize, meta: 'struct', compression: 'zstd' });
  assert.ok(written.row_groups.length > 1, `${name}: several row groups (${written.row_groups.join(', ')})`);
  const jsonl = join(dir, `${name}.jsonl`);
  writeFileSync(jsonl, rows.map((r) => JSON.stringify({ text: r.text, meta: { pile_set_name: r.task } })).join('\n') + '\n');
  return { parquet, jsonl };
}

test('a Parquet corpus goes through index build -> serve -> eval with the results of the same corpus as JSONL', async () => {
  const train = writeBoth('train', trainTexts, 8);
  const testData = writeBoth('test', testTexts, 2);
  manualSeed(4);
  const encoder = RobertaModel.random({ model_type: 'roberta', vocab_size: 50261, hidden_size: 16, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 32, max_position_embeddings: 66 }, false);
  const enc = join(dir, 'enc');
  saveModel(encoder, enc);
  saveTokenizer(robertaTokenizerFromGpt2(), enc);
  encoder.dispose();
  manualSeed(21);
  const gpt = Gpt2LMHeadModel.random({ model_type: 'gpt2', vocab_size: 50257, n_positions: 64, n_embd: 32, n_layer: 2, n_head: 2, embd_pdrop: 0, attn_pdrop: 0, resid_pdrop: 0 });
  const model = join(dir, 'gpt');
  saveModel(gpt, model);
  saveTokenizer(gpt2Tokenizer(), model);
  gpt.dispose();
  const tokenFile = join(dir, 'token');
  writeNewToken(tokenFile);

  // index build: the null text refused by default (naming the row), embedded as '' with --on-bad-line skip, as the JSONL's bad line.
  const refused = spawnSync(process.execPath, [CLI, 'index', 'build', '--data', train.parquet, '--embedder', enc, '--out', join(dir, 'refused')], { encoding: 'utf8' });
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /train\.parquet: row 5: "text" is null \(use --on-bad-line skip to embed it as ' '\)/);
  const indexes: Record<'parquet' | 'jsonl', string> = { parquet: '', jsonl: '' };
  for (const format of ['parquet', 'jsonl'] as const) {
    const out = join(dir, `index-${format}`);
    const built = JSON.parse(cli(['index', 'build', '--data', train[format], '--embedder', enc, '--out', out, '--on-bad-line', 'skip', '--batch-size', '5'])) as { vectors: number; path: string };
    assert.equal(built.vectors, trainTexts.length);
    indexes[format] = built.path;
  }
  assert.deepEqual(readFileSync(indexes.parquet), readFileSync(indexes.jsonl), 'the same vectors under the same ids');

  // serve both, 2 slices each; eval ttt through each on its own test file.
  const lines: Record<string, ReturnType<typeof readResultLines>> = {};
  for (const format of ['parquet', 'jsonl'] as const) {
    const addresses = join(dir, `addresses-${format}`);
    const fleet = await startFleetProcess({ data: train[format], index: indexes[format], slices: 2, replicas: 1, addresses, tokenFile });
    fleets.push(fleet);
    if (format === 'parquet') {
      // Texts by id from the Parquet fleet, across both slices and several row groups; the null row as ''.
      const client = await RetrievalClient.connect({ addresses: fleet.addresses, token: readToken(tokenFile) });
      const docs = await client.documents([33, 0, 5, 17]);
      assert.deepEqual(docs.map((d) => d.text), [trainTexts[33], trainTexts[0], '', trainTexts[17]]);
    }
    const results = join(dir, `results-${format}`);
    cli(['eval', '--method', 'ttt', '--model', model, '--embedder', enc, '--addresses', addresses, '--token-file', tokenFile, '--data', testData[format], '--results-dir', results, '--num-neighbors', '2', '--val-portion', '1', '--learning-rate', '1e-3', '--distance-threshold', 'inf']);
    lines[format] = readResultLines(results, 'ttt').sort((a, b) => a.doc_id - b.doc_id);
  }
  const parquet = lines['parquet']!;
  const jsonl = lines['jsonl']!;
  assert.deepEqual(parquet.map((l) => l.doc_id), [0, 1, 3, 4], 'the null test row skipped, the others under their row ids');
  for (const [i, line] of parquet.entries()) {
    const other = jsonl[i]!;
    assert.equal(line.doc_id, other.doc_id);
    assert.equal(line.task, other.task);
    assert.deepEqual(line.neighbor_ids, other.neighbor_ids);
    assert.deepEqual(line.neighbor_distances, other.neighbor_distances);
    assert.equal(line.duplicate_neighbors, other.duplicate_neighbors, 'the served texts are the same (duplicates are found by text)');
    assert.deepEqual(line.loglikelihoods, other.loglikelihoods, `document ${line.doc_id}: the same curve`);
    assert.equal(line.loglikelihoods!.length, 3);
  }
  assert.ok(parquet.some((l) => (l.duplicate_neighbors ?? 0) > 0), 'the verbatim copies in the training corpus were served and recognised');
});
