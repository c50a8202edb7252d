// tttnn train --lora: an adapter trained offline on a frozen base, saved in
// PEFT's format; PEFT (reference venv) loads it with
// PeftModel.from_pretrained and gives tttnn's logits; `tttnn score --adapter`
// scores with base + adapter; a run stopped and resumed ends with the
// adapter of an uninterrupted one; the base checkpoint is untouched.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { inference, manualSeed, tensor } from '../../src/engine/index.js';
import { rollingLoglikelihood } from '../../src/eval/loglikelihood.js';
import { loadSafetensors } from '../../src/io/safetensors.js';
import { Gpt2LMHeadModel, loadCausalLM, LoraAdapter, readAdapterConfig, saveModel } from '../../src/models/index.js';
import { gpt2Tokenizer, saveTokenizer } from '../../src/tokenizers/index.js';
import { assertClose } from '../helpers/assert-close.js';
import { runPython } from '../helpers/python.js';
import { refVenvPython } from '../helpers/ref-venv.js';

const CLI = new URL('../../../bin/tttnn.js', import.meta.url).pathname;
const REFERENCE = readFileSync(new URL('../../../test/reference/peft_lora.py', import.meta.url), 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'tttnn-lora-train-'));
const tokenizer = gpt2Tokenizer();
const modelDir = join(dir, 'base');
const data = join(dir, 'train.jsonl');

function cli(args: string[]): string {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

const train = (out: string, steps: number): string =>
  cli(['train', '--init', modelDir, '--data', data, '--out', out, '--max-steps', String(steps), '--batch-size', '2', '--seq-len', '16', '--lr', '1e-2', '--lora', '--lora-rank', '4', '--lora-alpha', '16', '--save-every', '2']);

test('train --lora: PEFT loads the adapter with the same logits, score --adapter scores base + adapter, a resumed run equals an uninterrupted one, the base is untouched', () => {
  manualSeed(5);
  const base = Gpt2LMHeadModel.random({ model_type: 'gpt2', vocab_size: 50257, n_positions: 32, n_embd: 16, n_layer: 2, n_head: 2, embd_pdrop: 0, attn_pdrop: 0, resid_pdrop: 0 });
  saveModel(base, modelDir);
  saveTokenizer(tokenizer, modelDir);
  base.dispose();
  writeFileSync(data, Array.from({ length: 40 }, (_, i) => JSON.stringify({ text: `Line ${i}: the quick brown fox jumps over the lazy dog ${i * 3} times.` })).join('\n') + '\n');
  const baseBytes = readFileSync(join(modelDir, 'model.safetensors'));

  const whole = join(dir, 'whole');
  train(whole, 5);
  const adapterDir = join(whole, 'checkpoint-5');
  assert.ok(existsSync(join(adapterDir, 'adapter_config.json')) && existsSync(join(adapterDir, 'adapter_model.safetensors')));
  assert.ok(!existsSync(join(adapterDir, 'model.safetensors')), 'a LoRA checkpoint holds the adapter, not the model');
  assert.deepEqual(readFileSync(join(modelDir, 'model.safetensors')), baseBytes, 'the base checkpoint is untouched');
  assert.deepEqual(readAdapterConfig(adapterDir), { rank: 4, alpha: 16, dropout: 0, targets: ['c_attn'], rsLora: false });

  // Interrupted after 2 steps (its checkpoint), then resumed to 5: the same adapter.
  const resumed = join(dir, 'resumed');
  train(resumed, 2);
  train(resumed, 5);
  const a = loadSafetensors(join(adapterDir, 'adapter_model.safetensors'));
  const b = loadSafetensors(join(resumed, 'checkpoint-5', 'adapter_model.safetensors'));
  assert.deepEqual([...a.keys()], [...b.keys()]);
  for (const [name, t] of a) assert.deepEqual(b.get(name)!.toNumbers(), t.toNumbers(), `${name}: resumed = uninterrupted`);
  assert.ok([...a].some(([name, t]) => name.includes('lora_B') && t.toNumbers().some((v) => v !== 0)), 'training moved B away from zero');

  const ids = [464, 2068, 7586, 21831, 18045, 625, 262, 16931, 3290, 13];
  const model = loadCausalLM(modelDir);
  try {
    const plain = rollingLoglikelihood(model, ids, tokenizer.eosTokenId!);
    const adapter = LoraAdapter.attach(model, readAdapterConfig(adapterDir), { from: 'directory', dir: adapterDir });
    const ours = inference(() => model.logits(tensor(ids, { dtype: 'int64', shape: [1, ids.length] })).toNumbers());
    const theirs = runPython<{ logits: number[] }>(REFERENCE, { model_dir: modelDir, adapter_dir: adapterDir, mode: 'logits', ids }, 300_000, {}, refVenvPython());
    assertClose(ours, theirs.logits, 1e-5, 'logits of base + trained adapter, tttnn vs PEFT');

    const text = tokenizer.decode(ids);
    const textFile = join(dir, 'text.txt');
    writeFileSync(textFile, text);
    const withAdapter = rollingLoglikelihood(model, tokenizer.encode(text), tokenizer.eosTokenId!);
    const scored = JSON.parse(cli(['score', '--model', modelDir, '--adapter', adapterDir, '--text-file', textFile, '--json'])) as { loglikelihood: number };
    assert.ok(Math.abs(scored.loglikelihood - withAdapter) < 1e-6, `score --adapter ${scored.loglikelihood} = base + adapter ${withAdapter}`);
    assert.ok(Math.abs(withAdapter - plain) > 1e-3, 'the trained adapter changes the score');
    adapter.detach();
  } finally {
    model.dispose();
  }
});
