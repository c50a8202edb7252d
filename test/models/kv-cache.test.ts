// The key/value cache (models/kv-cache.ts) against the uncached path and
// against transformers: for every decoder family (GPT-2, GPT-Neo with a local
// attention window, Llama, Mistral and Phi-3 with sliding windows, Qwen2), a
// tiny random checkpoint written by transformers' save_pretrained
// (test/reference/hf_generate.py) continues prompts greedily to the same
// tokens with and without the cache, and to the tokens transformers'
// generate(do_sample=False) gives; past the model's context the two paths
// still agree (the window slides).
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { generate, loadModel, type CausalLM } from '../../src/models/index.js';
import { runRefVenvPython } from '../helpers/ref-venv.js';

const CONTEXT = 32;
const PROMPTS = [
  [5, 17, 3, 88, 42, 42, 9],
  [70, 2, 19, 64, 7, 95, 50, 12, 150, 4, 4],
];
const ROPE = { vocab_size: 200, hidden_size: 48, intermediate_size: 80, num_hidden_layers: 3, num_attention_heads: 4, max_position_embeddings: CONTEXT, rms_norm_eps: 1e-5, bos_token_id: 0, eos_token_id: 1 };

const CASES: { name: string; family: string; config: Record<string, unknown> }[] = [
  { name: 'GPT-2', family: 'gpt2', config: { vocab_size: 200, n_positions: CONTEXT, n_embd: 32, n_layer: 2, n_head: 4, bos_token_id: 0, eos_token_id: 1 } },
  {
    name: 'GPT-Neo, local attention window 4 on every other layer',
    family: 'gpt_neo',
    config: { vocab_size: 200, max_position_embeddings: CONTEXT, hidden_size: 32, num_layers: 2, num_heads: 4, attention_types: [[['global', 'local'], 1]], window_size: 4, bos_token_id: 0, eos_token_id: 1 },
  },
  { name: 'Llama, GQA', family: 'llama', config: { ...ROPE, num_key_value_heads: 2 } },
  { name: 'Mistral, sliding window 5', family: 'mistral', config: { ...ROPE, num_key_value_heads: 1, sliding_window: 5 } },
  { name: 'Qwen2, layers 1-2 in a sliding window of 6, q/k/v biases', family: 'qwen2', config: { ...ROPE, num_key_value_heads: 2, use_sliding_window: true, sliding_window: 6, max_window_layers: 1 } },
  { name: 'Phi-3, fused projections, partial rotary, sliding window 7', family: 'phi3', config: { ...ROPE, num_key_value_heads: 2, sliding_window: 7, pad_token_id: 0, rope_parameters: { rope_type: 'default', rope_theta: 10000, partial_rotary_factor: 0.5 } } },
];

for (const c of CASES) {
  test(`${c.name}: greedy decoding with the key/value cache gives the tokens of the uncached path and of transformers' generate`, () => {
    const dir = mkdtempSync(join(tmpdir(), `tttnn-kv-${c.family}-`));
    const maxNewTokens = CONTEXT - Math.max(...PROMPTS.map((p) => p.length));
    const reference = runRefVenvPython<{ sequences: number[][] }>('import hf_generate; hf_generate.main()', { family: c.family, config: c.config, dir, seed: 1, prompts: PROMPTS, max_new_tokens: maxNewTokens });
    const model = loadModel(dir) as CausalLM;
    try {
      PROMPTS.forEach((prompt, i) => {
        const cached = generate(model, prompt, { maxNewTokens, eosTokenId: 1 });
        const uncached = generate(model, prompt, { maxNewTokens, eosTokenId: 1, cache: false });
        assert.deepEqual(cached, uncached, `prompt ${i}: cached vs uncached`);
        assert.deepEqual(cached, reference.sequences[i], `prompt ${i}: ours vs transformers`);
        assert.ok(cached.length - prompt.length >= 10, `prompt ${i}: the continuation is long enough to cross the windows (${cached.length - prompt.length} tokens)`);
        assert.ok(new Set(cached.slice(prompt.length)).size > 2, `prompt ${i}: the continuation is not one repeated token: ${cached.slice(prompt.length).join(' ')}`);
      });
      // Past the context: the window slides in both paths, identically.
      const long = { maxNewTokens: CONTEXT + 8 };
      assert.deepEqual(generate(model, PROMPTS[0]!, long), generate(model, PROMPTS[0]!, { ...long, cache: false }), 'beyond the context');
    } finally {
      model.dispose();
    }
  });
}
