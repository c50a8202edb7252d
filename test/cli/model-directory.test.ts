// `--model`, `--adapter` (and `--embedder`, the same resolver) given the
// directory a real `tttnn train` run left: its newest complete checkpoint is
// used and named; a newer checkpoint whose files do not match its
// completeness marker is skipped and said so; a LoRA run's output directory
// works as --adapter; a final model directory is used as it is; anything else
// is an error naming the directory.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, truncateSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { manualSeed } from '../../src/engine/index.js';
import { Gpt2LMHeadModel, saveModel } from '../../src/models/index.js';
import { gpt2Tokenizer, saveTokenizer } from '../../src/tokenizers/index.js';
import { resolveModelDirectory } from '../../src/cli/model-directory.js';

const CLI = new URL('../../../bin/tttnn.js', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'tttnn-model-dir-'));
const base = join(dir, 'base');
const data = join(dir, 'train.jsonl');
const textFile = join(dir, 'text.txt');

function run(args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
}
function ok(args: string[]): { stdout: string; stderr: string } {
  const r = run(args);
  assert.equal(r.status, 0, r.stderr);
  return r;
}
const score = (...args: string[]): { loglikelihood: number; stderr: string } => {
  const r = ok(['score', '--text-file', textFile, '--json', ...args]);
  return { loglikelihood: (JSON.parse(r.stdout) as { loglikelihood: number }).loglikelihood, stderr: r.stderr };
};

test('a tttnn train output directory stands for its newest complete checkpoint', () => {
  manualSeed(3);
  const model = Gpt2LMHeadModel.random({ model_type: 'gpt2', vocab_size: 50257, n_positions: 32, n_embd: 16, n_layer: 1, n_head: 2, embd_pdrop: 0, attn_pdrop: 0, resid_pdrop: 0 });
  saveModel(model, base);
  saveTokenizer(gpt2Tokenizer(), base);
  model.dispose();
  writeFileSync(data, Array.from({ length: 30 }, (_, i) => JSON.stringify({ text: `Row ${i}: a small training text about foxes and dogs, ${i * 7}.` })).join('\n') + '\n');
  writeFileSync(textFile, 'The quick brown fox jumps over the lazy dog.');
  const common = ['--init', base, '--data', data, '--max-steps', '4', '--batch-size', '2', '--seq-len', '16', '--lr', '1e-2', '--save-every', '2', '--save-total-limit', '3'];

  const out = join(dir, 'full');
  ok(['train', ...common, '--out', out]);
  const newest = score('--model', out);
  assert.match(newest.stderr, new RegExp(`--model: ${out} is a tttnn train output directory; using its newest complete checkpoint ${join(out, 'checkpoint-4')}`));
  assert.equal(newest.loglikelihood, score('--model', join(out, 'checkpoint-4')).loglikelihood, 'the same numbers as naming checkpoint-4');
  const older = score('--model', join(out, 'checkpoint-2')).loglikelihood;
  assert.notEqual(older, newest.loglikelihood, 'checkpoints 2 and 4 differ (training moved the weights)');
  // A final model directory (config.json in it) is used as it is, without a word.
  const plain = score('--model', base);
  assert.doesNotMatch(plain.stderr, /train output directory/);

  // checkpoint-4's weights no longer match its marker (a crash, a copy cut short): checkpoint-2 is taken, and the skip is said.
  const weights = join(out, 'checkpoint-4', 'model.safetensors');
  truncateSync(weights, statSync(weights).size - 8);
  const fallback = score('--model', out);
  assert.equal(fallback.loglikelihood, older);
  assert.match(fallback.stderr, /--model: skipping .*checkpoint-4 \(model\.safetensors is \d+ bytes, checkpoint-complete\.json says \d+\): incomplete/);
  assert.match(fallback.stderr, /using its newest complete checkpoint .*checkpoint-2/);

  // A LoRA run's output directory as --adapter; the whole-model run's is refused there, and the LoRA one as --model.
  const lora = join(dir, 'lora');
  ok(['train', ...common, '--out', lora, '--lora', '--lora-rank', '4', '--lora-alpha', '16']);
  const adapted = score('--model', base, '--adapter', lora);
  assert.match(adapted.stderr, /--adapter: .*lora is a tttnn train output directory; using its newest complete checkpoint .*lora\/checkpoint-4/);
  assert.equal(adapted.loglikelihood, score('--model', base, '--adapter', join(lora, 'checkpoint-4')).loglikelihood);
  assert.notEqual(adapted.loglikelihood, plain.loglikelihood);
  const wrongAdapter = run(['score', '--model', base, '--adapter', out, '--text-file', textFile]);
  assert.equal(wrongAdapter.status, 1);
  assert.match(wrongAdapter.stderr, /--adapter .*full: its newest complete checkpoint .*checkpoint-2 has no adapter_config\.json: it holds a whole model/);
  const wrongModel = run(['score', '--model', lora, '--text-file', textFile]);
  assert.match(wrongModel.stderr, /--model .*lora: its newest complete checkpoint .*checkpoint-4 has no config\.json: it holds a LoRA adapter \(pass it with --adapter/);

  // Neither a model nor a training output; a training output with no complete checkpoint; no directory at all.
  const empty = join(dir, 'empty');
  mkdirSync(empty);
  assert.match(run(['score', '--model', empty, '--text-file', textFile]).stderr, new RegExp(`--model ${empty}: neither a model directory \\(no config\\.json\\) nor a tttnn train output directory`));
  const broken = join(dir, 'broken');
  mkdirSync(join(broken, 'checkpoint-9'), { recursive: true });
  assert.match(run(['score', '--model', broken, '--text-file', textFile]).stderr, /--model .*broken: a tttnn train output directory with no complete checkpoint: .*checkpoint-9 \(no checkpoint-complete\.json\); resume the training/);
  assert.match(run(['score', '--model', join(dir, 'nope'), '--text-file', textFile]).stderr, /--model .*nope: no such directory/);
});

test('--embedder resolves the same way (the resolver the index, eval, query and demo commands share)', () => {
  const said: string[] = [];
  const out = join(dir, 'full');
  // (Runs after the test above, which left checkpoint-4 cut short.)
  assert.equal(resolveModelDirectory(out, '--embedder', 'model', (line) => said.push(line)), join(out, 'checkpoint-2'));
  assert.equal(said.length, 2);
  assert.match(said[1]!, /^--embedder: .* using its newest complete checkpoint/);
  assert.equal(resolveModelDirectory(base, '--embedder', 'model', (line) => said.push(line)), base);
  assert.equal(said.length, 2);
});
