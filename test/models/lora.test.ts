// LoRA on GPT-2 and GPT-Neo against PEFT itself (reference venv): an adapter
// tttnn writes loads with PeftModel.from_pretrained and gives the same
// logits (B not zero, so the adapter counts); PEFT adapts the same modules;
// the base is frozen while an adapter is attached (no gradient on it) and
// unfrozen after; PEFT's default initialisation has A in ±1/sqrt(in), B zero.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { inference, manualSeed, noGrad, randn, tensor, tidy } from '../../src/engine/index.js';
import { causalLmLoss, createModel, LoraAdapter, LORA_TARGET_MODULES, readAdapterConfig, saveModel, type CausalLM, type RawConfig } from '../../src/models/index.js';
import { assertClose } from '../helpers/assert-close.js';
import { runPython } from '../helpers/python.js';
import { refVenvPython } from '../helpers/ref-venv.js';

const REFERENCE = readFileSync(new URL('../../../test/reference/peft_lora.py', import.meta.url), 'utf8');
const CONFIGS: Record<string, RawConfig> = {
  gpt2: { model_type: 'gpt2', vocab_size: 96, n_positions: 32, n_embd: 16, n_layer: 2, n_head: 2, embd_pdrop: 0, attn_pdrop: 0, resid_pdrop: 0 },
  gpt_neo: { model_type: 'gpt_neo', vocab_size: 96, max_position_embeddings: 32, hidden_size: 16, num_layers: 2, num_heads: 2, attention_types: [[['global', 'local'], 1]], window_size: 4 },
};

/** A tiny model saved to a directory, with an adapter whose B is random (not PEFT's zeros) saved beside it. */
export function modelWithAdapter(type: string, dir: string, rank = 4, alpha = 8): { model: CausalLM; adapter: LoraAdapter; modelDir: string; adapterDir: string } {
  manualSeed(11);
  const model = createModel(CONFIGS[type]!) as CausalLM;
  const modelDir = join(dir, `${type}-model`);
  saveModel(model, modelDir);
  const adapter = LoraAdapter.attach(model, { rank, alpha, dropout: 0, targets: LORA_TARGET_MODULES[type]!.modules }, { from: 'peft-default' });
  noGrad(() => adapter.list().forEach((t, i) => i % 2 === 1 && tidy(() => t.copy_(randn(t.shape).mul(0.1)))));
  const adapterDir = join(dir, `${type}-adapter`);
  adapter.save(adapterDir);
  return { model, adapter, modelDir, adapterDir };
}

for (const type of ['gpt2', 'gpt_neo']) {
  test(`${type}: an adapter tttnn saves loads in PEFT (PeftModel.from_pretrained) with the same logits and the same adapted modules`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'tttnn-lora-'));
    const { model, adapter, modelDir, adapterDir } = modelWithAdapter(type, dir);
    try {
      const ids = [5, 17, 3, 88, 42, 9, 9, 61, 0, 33];
      const ours = inference(() => model.logits(tensor(ids, { dtype: 'int64', shape: [1, ids.length] })).toNumbers());
      const theirs = runPython<{ logits: number[]; trainable: string[] }>(REFERENCE, { model_dir: modelDir, adapter_dir: adapterDir, mode: 'logits', ids }, 300_000, {}, refVenvPython());
      assertClose(ours, theirs.logits, 1e-5, `${type} logits with the adapter`);
      assert.deepEqual(theirs.trainable.map((n) => n.replace('.default.', '.')).sort(), adapter.names().sort(), 'PEFT adapts the same modules');
      const config = readAdapterConfig(adapterDir);
      assert.deepEqual({ rank: config.rank, alpha: config.alpha, targets: config.targets }, { rank: 4, alpha: 8, targets: LORA_TARGET_MODULES[type]!.modules });
      // The adapter changes the output: without it the logits differ.
      adapter.detach();
      const plain = inference(() => model.logits(tensor(ids, { dtype: 'int64', shape: [1, ids.length] })).toNumbers());
      assert.ok(plain.some((v, i) => Math.abs(v - ours[i]!) > 1e-3), 'the adapter (B not zero) changes the logits');
    } finally {
      model.dispose();
    }
  });
}

test('attached: only the adapter gets gradients (the base is frozen, no gradient buffers); detached: the base trains again', () => {
  manualSeed(3);
  const model = createModel(CONFIGS['gpt2']!) as CausalLM;
  try {
    const adapter = LoraAdapter.attach(model, { rank: 2, alpha: 4, dropout: 0, targets: ['c_attn'] }, { from: 'peft-default' });
    assert.deepEqual(adapter.modules(), ['transformer.h.0.attn.c_attn', 'transformer.h.1.attn.c_attn']);
    const [a, b] = adapter.list() as [ReturnType<typeof adapter.list>[0], ReturnType<typeof adapter.list>[0]];
    assert.deepEqual(a.shape, [2, 16]);
    assert.deepEqual(b.shape, [48, 2]);
    const bound = 1 / Math.sqrt(16);
    assert.ok(a.toNumbers().every((v) => Math.abs(v) <= bound) && a.toNumbers().some((v) => Math.abs(v) > bound / 2), "A is kaiming-uniform(a = sqrt 5): within ±1/sqrt(in)");
    assert.ok(b.toNumbers().every((v) => v === 0), 'B starts at zero');
    tidy(() => causalLmLoss(model, tensor([1, 2, 3, 4, 5], { dtype: 'int64', shape: [1, 5] })).backward());
    for (const [name, t] of model.parameters.entries()) assert.equal(t.grad, null, `${name} has no gradient`);
    assert.ok(adapter.list().every((t) => t.grad !== null), 'every adapter tensor has a gradient');
    assert.equal(a.grad!.abs().sum().item(), 0, "with B zero, A's gradient (through B) is zero");
    assert.ok(b.grad!.abs().sum().item() > 0, "B's gradient is not");
    adapter.detach();
    assert.ok(model.parameters.list().every((t) => t.requiresGrad), 'the base trains again once the adapter is gone');
  } finally {
    model.dispose();
  }
});

test('PEFT adapter configurations tttnn cannot reproduce are refused with the file named', () => {
  assert.throws(() => readAdapterConfig(mkdtempSync(join(tmpdir(), 'tttnn-noadapter-'))), /not a PEFT adapter directory \(no adapter_config.json/);
});
