// Reads of tensor data into JS, counted by the addon (hostReadCounts): each
// one is a device-to-host copy, and a wait for the device, when the model is
// on a GPU. A TTT step may read only its loss; scoring only one number per
// window; an embedding batch only its vectors. Runs on TTTNN_TEST_DEVICE
// (cpu here; cuda in scripts/gpu-check.sh), where `fromDevice` must equal
// `reads` for the model's tensors.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AdamW, clipGradNorm, hostReadCounts, manualSeed, ones, tensor, tidy } from '../../src/engine/index.js';
import { trainOnTokens } from '../../src/eval/ttt.js';
import { rollingLoglikelihood } from '../../src/eval/loglikelihood.js';
import { embedTexts } from '../../src/index/embed.js';
import { causalLmLoss, createModel, type CausalLM, type EncoderModel } from '../../src/models/index.js';
import { robertaTokenizerFromGpt2 } from '../../src/tokenizers/index.js';
import { TEST_DEVICE } from '../helpers/device.js';

const onDevice = TEST_DEVICE !== 'cpu';

/** Reads (and device-to-host copies) that `fn` performs. */
function readsOf(fn: () => void): { reads: number; fromDevice: number } {
  const before = hostReadCounts();
  fn();
  const after = hostReadCounts();
  return { reads: after.reads - before.reads, fromDevice: after.fromDevice - before.fromDevice };
}

function tinyGpt2(): CausalLM {
  manualSeed(3);
  const config = { model_type: 'gpt2', vocab_size: 64, n_positions: 32, n_embd: 32, n_layer: 2, n_head: 4, layer_norm_epsilon: 1e-5, activation_function: 'gelu_new' };
  return createModel(config, { device: TEST_DEVICE }) as CausalLM;
}

test('the counter counts item, toTypedArray and toNumbers, not views, clipping or a move to where the tensor already is', () => {
  tidy(() => {
    const t = ones([3], { device: TEST_DEVICE });
    const expected = (reads: number) => ({ reads, fromDevice: onDevice ? reads : 0 });
    assert.deepEqual(readsOf(() => void t.sum().item()), expected(1));
    assert.deepEqual(readsOf(() => void t.toTypedArray()), expected(1));
    assert.deepEqual(readsOf(() => void t.toNumbers()), expected(1));
    assert.deepEqual(readsOf(() => void t.mul(2).reshape([1, 3]).to({ device: TEST_DEVICE })), expected(0));
    // Moving to the CPU is a device-to-host copy only when the tensor was elsewhere.
    assert.deepEqual(readsOf(() => void t.to({ device: 'cpu' })), expected(onDevice ? 1 : 0));
    const p = ones([4], { device: TEST_DEVICE });
    p.requiresGrad_();
    p.mul(3).sum().backward();
    let norm = NaN;
    assert.deepEqual(readsOf(() => void clipGradNorm([p], 1)), expected(0), 'clipGradNorm returns a tensor and reads nothing');
    assert.deepEqual(readsOf(() => (norm = clipGradNorm([p], 1).item())), expected(1));
    assert.ok(Math.abs(norm - 1) < 1e-5, `the clipped gradient's norm is 1, got ${norm}`);
    return null;
  });
});

test('a TTT training step reads only its loss: one read per window, with every tensor on the model device', () => {
  const model = tinyGpt2();
  try {
    assert.equal(model.parameters.device, TEST_DEVICE === 'cuda' ? 'cuda:0' : TEST_DEVICE);
    const optimizer = new AdamW(model.parameters.list(), { lr: 1e-3, eps: 1e-8, weightDecay: 0.01 });
    const tokens = Array.from({ length: 40 }, (_, i) => (i * 7) % 64);
    let losses: number[] = [];
    // 40 tokens in windows of 16 every 16: 3 steps, the last on 8 tokens.
    const counts = readsOf(() => (losses = trainOnTokens(model, optimizer, tokens, { maxLength: 16, stride: 16, gradClip: 1 })));
    assert.equal(losses.length, 3);
    assert.ok(losses.every(Number.isFinite), `finite losses, got ${losses.join(', ')}`);
    assert.deepEqual(counts, { reads: 3, fromDevice: onDevice ? 3 : 0 });
    for (const p of model.parameters.list()) assert.equal(p.device, model.parameters.device, 'parameters stay on the model device');
  } finally {
    model.dispose();
  }
});

test('scoring reads one number per window; a bare training step (forward, backward, clip, AdamW) reads nothing', () => {
  const model = tinyGpt2();
  try {
    const tokens = Array.from({ length: 50 }, (_, i) => (i * 5) % 64);
    // Rolling windows of the 32-token context: 50 tokens + the prefix are 2 windows.
    assert.deepEqual(readsOf(() => void rollingLoglikelihood(model, tokens, 0, 32)), { reads: 2, fromDevice: onDevice ? 2 : 0 });
    const optimizer = new AdamW(model.parameters.list(), { lr: 1e-3 });
    const step = (): void =>
      tidy(() => {
        optimizer.zeroGrad();
        causalLmLoss(model, tensor(tokens.slice(0, 32), { dtype: 'int64', shape: [1, 32], device: model.parameters.device })).backward();
        clipGradNorm(model.parameters.list(), 1);
        optimizer.step();
      });
    assert.deepEqual(readsOf(step), { reads: 0, fromDevice: 0 });
  } finally {
    model.dispose();
  }
});

test('embedding a batch of texts (index build, retrieval queries) reads only the vectors, once', () => {
  manualSeed(4);
  const config = { model_type: 'roberta', vocab_size: 50265, max_position_embeddings: 40, hidden_size: 32, num_hidden_layers: 1, num_attention_heads: 4, intermediate_size: 64, pad_token_id: 1, layer_norm_eps: 1e-5, type_vocab_size: 1 };
  const model = createModel(config, { device: TEST_DEVICE }) as EncoderModel;
  try {
    const tokenizer = robertaTokenizerFromGpt2();
    let length = 0;
    const counts = readsOf(() => (length = embedTexts({ model, tokenizer, maxLength: 16 }, ['a short text', 'another, longer text about something']).length));
    assert.equal(length, 2 * 32);
    assert.deepEqual(counts, { reads: 1, fromDevice: onDevice ? 1 : 0 });
  } finally {
    model.dispose();
  }
});
