// The rotary decoders' config reading without a checkpoint: both layouts give
// the same settings; unsupported RoPE types and bad fields are refused with
// the file and field named.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createModel, type RopeDecoderForCausalLM } from '../../src/models/index.js';

const BASE = { model_type: 'llama', vocab_size: 50, hidden_size: 16, intermediate_size: 24, num_hidden_layers: 1, num_attention_heads: 2, max_position_embeddings: 64 };
const make = (extra: Record<string, unknown>): RopeDecoderForCausalLM => createModel({ ...BASE, ...extra }) as RopeDecoderForCausalLM;

test('transformers 4.x (rope_theta, rope_scaling) and 5.x (rope_parameters) layouts read the same RoPE', () => {
  const llama3 = { factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 32 };
  const old = make({ rope_theta: 500000, rope_scaling: { rope_type: 'llama3', ...llama3 }, torch_dtype: 'bfloat16' });
  const older = make({ rope_theta: 500000, rope_scaling: { type: 'llama3', ...llama3 } });
  const now = make({ rope_parameters: { rope_type: 'llama3', rope_theta: 500000, ...llama3 }, dtype: 'bfloat16' });
  assert.deepEqual(old.config.rope, now.config.rope);
  assert.deepEqual(older.config.rope, now.config.rope);
  assert.deepEqual(now.config.rope, { theta: 500000, rotaryDim: 8, scaling: { type: 'llama3', factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 32 } });
  assert.deepEqual(make({}).config.rope, { theta: 10000, rotaryDim: 8, scaling: { type: 'default' } });
  for (const m of [old, older, now]) m.dispose();
});

test('Phi-3 128k longrope / su, yarn and dynamic RoPE are refused with the field named', () => {
  assert.throws(() => make({ model_type: 'phi3', rope_scaling: { type: 'su', short_factor: [1], long_factor: [1] } }), /config: rope_scaling type "su" is not supported \(the long-context RoPE of Phi-3 128k/);
  assert.throws(() => make({ model_type: 'phi3', rope_parameters: { rope_type: 'longrope', rope_theta: 10000 } }), /rope_parameters type "longrope" is not supported/);
  assert.throws(() => make({ rope_scaling: { rope_type: 'yarn', factor: 4 } }), /rope_scaling type "yarn" is not supported \(supported: default, linear, llama3\)/);
  assert.throws(() => make({ rope_scaling: { rope_type: 'llama3', factor: 8 } }), /field "rope_scaling.low_freq_factor" must be a number/);
  assert.throws(() => make({ hidden_act: 'gelu' }), /hidden_act "gelu" is not supported \(supported: silu\)/);
  assert.throws(() => make({ num_key_value_heads: 3 }), /num_attention_heads \(2\) must be divisible by num_key_value_heads \(3\)/);
  assert.throws(() => make({ model_type: 'mistral', sliding_window: 0 }), /field "sliding_window" must be positive or null/);
});

test('sliding windows: Mistral defaults to 4096 when the key is absent and none when null; Qwen2 by layer_types', () => {
  const windows = (extra: Record<string, unknown>): unknown[] => {
    const m = make(extra);
    const w = m.config.slidingWindows;
    m.dispose();
    return w;
  };
  assert.deepEqual(windows({ model_type: 'mistral' }), [4096]);
  assert.deepEqual(windows({ model_type: 'mistral', sliding_window: null }), [undefined]);
  assert.deepEqual(windows({ model_type: 'qwen2', num_hidden_layers: 2, use_sliding_window: true, sliding_window: 8, layer_types: ['sliding_attention', 'full_attention'] }), [8, undefined]);
  assert.deepEqual(windows({ model_type: 'qwen2', num_hidden_layers: 2, use_sliding_window: false, sliding_window: 8, max_window_layers: 0 }), [undefined, undefined]);
  assert.throws(() => windows({ model_type: 'qwen2', layer_types: ['nope'] }), /"layer_types" must list "full_attention" or "sliding_attention" for each of the 1 layers/);
});
