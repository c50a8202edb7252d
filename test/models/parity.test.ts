// Each architecture against a PyTorch reference forward (test/reference/hf_models.py), on a
// tiny randomly initialised checkpoint that python3-torch writes with
// Hugging Face's parameter names: logits to 1e-4, and the loss and every
// gradient of one training step. The models run on TTTNN_TEST_DEVICE (cpu;
// scripts/gpu-check.sh sets cuda), the reference on the CPU.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { tensor, tidy } from '../../src/engine/index.js';
import { causalLmLoss, loadModel, maskedLmLoss, meanPooledEmbedding, type CausalLM, type EncoderModel } from '../../src/models/index.js';
import { assertClose } from '../helpers/assert-close.js';
import { runPython } from '../helpers/python.js';
import { TEST_DEVICE } from '../helpers/device.js';

const TOL = 1e-4;

// The reference (test/reference/hf_models.py) writes the checkpoint (weights in
// `format`) and prints logits, loss and gradients keyed by parameter name.
const REFERENCE = 'import hf_models; hf_models.main()';

interface Reference {
  logits: number[];
  loss: number;
  grads: Record<string, number[]>;
  embedding?: number[];
}

function checkGradients(model: CausalLM | EncoderModel, reference: Reference): void {
  const names = model.parameters.names();
  assert.deepEqual(names.slice().sort(), Object.keys(reference.grads).sort());
  for (const [name, p] of model.parameters.entries()) {
    assertClose(p.grad!.toNumbers(), reference.grads[name]!, TOL, `gradient of ${name}`, 1e-3);
  }
}

const IDS = [
  [5, 17, 3, 88, 42, 42, 9, 61, 0, 33],
  [70, 2, 2, 19, 64, 7, 1, 95, 50, 12],
];

test('GPT-2 matches the PyTorch reference: logits, loss and gradients (pytorch_model.bin)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tttnn-gpt2-'));
  const config = { model_type: 'gpt2', vocab_size: 100, n_positions: 16, n_embd: 32, n_layer: 2, n_head: 4, layer_norm_epsilon: 1e-5, activation_function: 'gelu_new' };
  const reference = runPython<Reference>(REFERENCE, { config, dir, ids: IDS, format: 'bin' });
  const model = loadModel(dir, { device: TEST_DEVICE }) as CausalLM;
  tidy(() => {
    const ids = tensor(IDS, { dtype: 'int64', device: TEST_DEVICE });
    assertClose(model.logits(ids).toNumbers(), reference.logits, TOL, 'GPT-2 logits');
    const loss = causalLmLoss(model, ids);
    assertClose([loss.item()], [reference.loss], TOL, 'GPT-2 loss');
    loss.backward();
    checkGradients(model, reference);
  });
  model.dispose();
});

test('GPT-Neo matches the PyTorch reference with global and local (window 3) layers (safetensors)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tttnn-neo-'));
  const config = {
    model_type: 'gpt_neo', vocab_size: 100, max_position_embeddings: 16, hidden_size: 32, num_layers: 2, num_heads: 4,
    attention_types: [[['global', 'local'], 1]], window_size: 3, layer_norm_epsilon: 1e-5, activation_function: 'gelu_new',
  };
  const reference = runPython<Reference>(REFERENCE, { config, dir, ids: IDS, format: 'safetensors' });
  const model = loadModel(dir, { device: TEST_DEVICE }) as CausalLM;
  tidy(() => {
    const ids = tensor(IDS, { dtype: 'int64', device: TEST_DEVICE });
    assertClose(model.logits(ids).toNumbers(), reference.logits, TOL, 'GPT-Neo logits');
    const loss = causalLmLoss(model, ids);
    assertClose([loss.item()], [reference.loss], TOL, 'GPT-Neo loss');
    loss.backward();
    checkGradients(model, reference);
  });
  model.dispose();
});

test('RoBERTa matches the PyTorch reference with padding: MLM logits, loss, gradients, mean-pooled embedding', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tttnn-roberta-'));
  const config = {
    model_type: 'roberta', vocab_size: 100, max_position_embeddings: 20, hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 4,
    intermediate_size: 48, pad_token_id: 1, layer_norm_eps: 1e-5, hidden_act: 'gelu', type_vocab_size: 1,
  };
  // Second row padded (id 1) after 6 tokens; labels only at a few positions.
  const ids = [[0, 17, 3, 88, 42, 42, 9, 61, 33, 2], [0, 2 + 5, 19, 64, 7, 2, 1, 1, 1, 1]];
  const mask = ids.map((row, r) => row.map((_, i) => (r === 1 && i >= 6 ? 0 : 1)));
  const labels = ids.map((row) => row.map((id, i) => (i % 3 === 1 ? id : -100)));
  const reference = runPython<Reference>(REFERENCE, { config, dir, ids, attention_mask: mask, labels, format: 'bin' });
  const model = loadModel(dir, { device: TEST_DEVICE }) as EncoderModel;
  assert.equal(model.hasMlmHead, true);
  tidy(() => {
    const idsT = tensor(ids, { dtype: 'int64', device: TEST_DEVICE });
    const maskT = tensor(mask, { dtype: 'int64', device: TEST_DEVICE });
    assertClose(model.mlmLogits(idsT, maskT).toNumbers(), reference.logits, TOL, 'RoBERTa MLM logits');
    assertClose(meanPooledEmbedding(model, idsT, maskT).toNumbers(), reference.embedding!, TOL, 'mean-pooled embedding');
    const loss = maskedLmLoss(model, idsT, tensor(labels, { dtype: 'int64', device: TEST_DEVICE }), maskT);
    assertClose([loss.item()], [reference.loss], TOL, 'RoBERTa MLM loss');
    loss.backward();
    checkGradients(model, reference);
  });
  model.dispose();
});

test('bad checkpoints: wrong shape names the parameter and both shapes; unsupported model_type lists the supported', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tttnn-bad-'));
  const config = { model_type: 'gpt2', vocab_size: 100, n_positions: 16, n_embd: 32, n_layer: 1, n_head: 4, layer_norm_epsilon: 1e-5 };
  runPython(REFERENCE, { config, dir, ids: IDS, format: 'safetensors' });
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, n_embd: 64, n_head: 4 }));
  assert.throws(() => loadModel(dir), /parameter transformer\.wte\.weight has shape \[100, 32\] but the config implies \[100, 64\]/);
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, n_layer: 2 }));
  assert.throws(() => loadModel(dir), /missing parameters: transformer\.h\.1\.ln_1\.weight/);
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, model_type: 'gemma' }));
  assert.throws(() => loadModel(dir), /model_type "gemma" is not supported \(supported: gpt2, gpt_neo, roberta, llama, mistral, qwen2, phi3, bert\)/);
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, n_head: 5 }));
  assert.throws(() => loadModel(dir), /n_embd \(32\) must be divisible by n_head \(5\)/);
});
