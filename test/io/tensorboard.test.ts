// TensorBoard event files written by hand (src/io/tensorboard-events.ts):
// CRC-32C against the published test vectors, the masked CRC against
// TensorBoard's own, and a real `tttnn train` run whose files TensorBoard's
// EventAccumulator reads back with every scalar log.jsonl records.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { manualSeed } from '../../src/engine/index.js';
import { crc32c, maskedCrc32c } from '../../src/io/tensorboard-events.js';
import { Gpt2LMHeadModel, saveModel } from '../../src/models/index.js';
import { runEvaluation } from '../../src/eval/runner.js';
import { writeReport } from '../../src/report/report.js';
import { readResultLines } from '../helpers/results.js';
import { gpt2Tokenizer, saveTokenizer } from '../../src/tokenizers/index.js';
import { runPythonWith } from '../helpers/python.js';
import { refVenvPython } from '../helpers/ref-venv.js';

const CLI = new URL('../../../bin/tttnn.js', import.meta.url).pathname;
const READER = readFileSync(new URL('../../../test/reference/tensorboard_scalars.py', import.meta.url), 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'tttnn-tensorboard-'));

interface Read {
  masked_crc32c: number[];
  scalars: Record<string, { step: number; value: number; wall_time: number }[]>;
}

test('CRC-32C matches the published vectors (RFC 3720 B.4, "123456789"); the masked CRC matches TensorBoard\'s', () => {
  assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
  assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
  assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
  assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e);
  assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i)), 0x113fdb5c);
  assert.equal(crc32c(new Uint8Array(0)), 0);
  const inputs = [Buffer.from('123456789'), Buffer.alloc(0), Buffer.from([0x10, 0, 0, 0, 0, 0, 0, 0]), Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 37 + 11) & 0xff))];
  const theirs = runPythonWith<Read>(refVenvPython(), READER, { crc_inputs: inputs.map((b) => b.toString('hex')) });
  assert.deepEqual(inputs.map((b) => maskedCrc32c(b)), theirs.masked_crc32c);
});

test('tttnn train writes TensorBoard event files that EventAccumulator reads: loss, learning rate, tokens/s, gradient norm per step, validation loss', () => {
  manualSeed(3);
  const model = Gpt2LMHeadModel.random({ model_type: 'gpt2', vocab_size: 50257, n_positions: 32, n_embd: 16, n_layer: 1, n_head: 2, embd_pdrop: 0, attn_pdrop: 0, resid_pdrop: 0 });
  const base = join(dir, 'base');
  saveModel(model, base);
  saveTokenizer(gpt2Tokenizer(), base);
  model.dispose();
  const data = join(dir, 'train.jsonl');
  writeFileSync(data, Array.from({ length: 30 }, (_, i) => JSON.stringify({ text: `Row ${i}: a small training text about foxes and dogs, ${i * 7}.` })).join('\n') + '\n');
  const out = join(dir, 'run');
  const r = spawnSync(process.execPath, [CLI, 'train', '--init', base, '--data', data, '--val', data, '--val-batches', '2', '--eval-every', '2', '--max-steps', '4', '--batch-size', '2', '--seq-len', '16', '--lr', '1e-2', '--warmup', '2', '--out', out], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(readdirSync(join(out, 'tensorboard')).filter((f) => f.startsWith('events.out.tfevents.')).length, 1);
  const log = readFileSync(join(out, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number | string>);
  const read = runPythonWith<Read>(refVenvPython(), READER, { logdir: join(out, 'tensorboard') });
  assert.deepEqual(Object.keys(read.scalars).sort(), ['train/grad_norm', 'train/learning_rate', 'train/loss', 'train/tokens_per_second', 'val/loss', 'val/perplexity']);
  const f32 = (v: number): number => Math.fround(v);
  const series = (type: string, field: string): { step: number; value: number }[] => log.filter((e) => e['type'] === type).map((e) => ({ step: e['step'] as number, value: f32(e[field] as number) }));
  const seen = (tag: string): { step: number; value: number }[] => read.scalars[tag]!.map(({ step, value }) => ({ step, value }));
  assert.deepEqual(seen('train/loss'), series('train', 'loss'));
  assert.deepEqual(seen('train/learning_rate'), series('train', 'lr'));
  assert.deepEqual(seen('train/grad_norm'), series('train', 'gradNorm'));
  assert.deepEqual(seen('train/tokens_per_second'), series('train', 'tokensPerSecond'));
  assert.deepEqual(seen('val/loss'), series('val', 'loss'));
  assert.deepEqual(seen('train/loss').map((e) => e.step), [1, 2, 3, 4]);
  assert.deepEqual(seen('val/loss').map((e) => e.step), [2, 4]);
  assert.ok(read.scalars['train/learning_rate']![0]!.value < read.scalars['train/learning_rate']![1]!.value, 'warm-up: the learning rate rises');
});

test('tttnn eval logs each document\'s curve and the running pile_all; EventAccumulator reads them, the last pile_all equal to the report\'s', async () => {
  manualSeed(8);
  const model = Gpt2LMHeadModel.random({ model_type: 'gpt2', vocab_size: 50257, n_positions: 64, n_embd: 16, n_layer: 1, n_head: 2, embd_pdrop: 0, attn_pdrop: 0, resid_pdrop: 0 });
  const data = join(dir, 'test.jsonl');
  const names = ['Github', 'ArXiv', 'Github', 'Enron Emails', 'ArXiv'];
  writeFileSync(data, names.map((name, i) => JSON.stringify({ text: `Document ${i} of ${name}: ${'several words of text here, '.repeat(i + 2)}the end.`, meta: { pile_set_name: name } })).join('\n') + '\n');
  const resultsDir = join(dir, 'results');
  try {
    await runEvaluation({ method: 'dynamic', model, tokenizer: gpt2Tokenizer(), data, tasks: 'pile_all', resultsDir, valPortion: 1, learningRate: 1e-3, progress: () => undefined });
  } finally {
    model.dispose();
  }
  const lines = readResultLines(resultsDir, 'dynamic');
  assert.equal(lines.length, 5);
  const read = runPythonWith<Read>(refVenvPython(), READER, { logdir: join(resultsDir, 'dynamic', 'tensorboard') });
  for (const line of lines) {
    const series = read.scalars[`documents/${line.task}/${line.doc_id}`]!;
    assert.deepEqual(series.map((e) => e.step), line.loglikelihoods!.map((_, i) => i));
    assert.deepEqual(series.map((e) => e.value), line.loglikelihoods!.map((ll) => Math.fround(-ll / line.bytes / Math.LN2)));
  }
  const after = read.scalars['pile_all/bits_per_byte_after']!;
  const before = read.scalars['pile_all/bits_per_byte_before']!;
  assert.deepEqual(after.map((e) => e.step), [1, 2, 3, 4, 5]);
  const report = await writeReport({ resultsDir, out: join(dir, 'report'), medianFilter: false, resamples: 10 });
  const method = report.summary.methods[0]!;
  assert.ok(Math.abs(after.at(-1)!.value - method.pileAll.after.value) < 1e-5, `running pile_all after ${after.at(-1)!.value} = report ${method.pileAll.after.value}`);
  assert.ok(Math.abs(before.at(-1)!.value - method.pileAll.before.value) < 1e-5);
  for (const t of method.tasks) assert.ok(Math.abs(read.scalars[`tasks/${t.task}/bits_per_byte_after`]!.at(-1)!.value - t.after.value) < 1e-5, t.task);
});
