// Today's decoder families against transformers and lm-evaluation-harness in
// the reference venv (test/reference/hf_decoders.py): tiny random
// checkpoints written by transformers' own save_pretrained — one per family,
// plus a bf16, sharded copy with transformers 4.x's config keys — load as
// shipped; logits and the loss equal transformers'; documents tokenized by
// the family's tokenizer.json score to HFLM.loglikelihood_rolling's
// log-likelihood (so bits per byte) within 1e-4 relative, with HFLM's context
// length and prefix token.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { tensor, tidy } from '../../src/engine/index.js';
import { rollingLoglikelihood } from '../../src/eval/loglikelihood.js';
import { causalLmLoss, loadModel, type CausalLM } from '../../src/models/index.js';
import { loadTokenizer } from '../../src/tokenizers/index.js';
import { assertClose } from '../helpers/assert-close.js';
import { runRefVenvPython } from '../helpers/ref-venv.js';
import type { ScoreResult } from '../../src/cli/score.js';
import { trainingTexts } from '../helpers/hf-tokenizers.js';
import { readResultLines } from '../helpers/results.js';

const CLI = new URL('../../../bin/tttnn.js', import.meta.url).pathname;

interface Reference {
  logits: number[];
  loss: number;
  rolling: number[];
  max_length: number;
  prefix_token_id: number;
  tokens: number[][];
  default_tokens: number[][];
}

const IDS = [
  [5, 17, 3, 88, 42, 42, 9, 61, 0, 33, 7, 250, 18, 91],
  [70, 2, 2, 19, 64, 7, 1, 95, 50, 12, 300, 4, 4, 4],
];
const MASK = [IDS[0]!.map(() => 1), IDS[1]!.map((_, i) => (i < 10 ? 1 : 0))];

/** Documents that span several 32-token windows, with text outside the tokenizers' alphabets. */
export const DOCS = [
  'Test-time training on nearest neighbours fine-tunes the model on each retrieved text before scoring the document.',
  'naïve café — 日本語 🙂 and then some plain words again, numbers 1234567 and symbols {}[]();',
  readFileSync(new URL('../../../src/models/rope.ts', import.meta.url), 'utf8').slice(0, 700),
];

const SMALL = { hidden_size: 48, intermediate_size: 80, num_hidden_layers: 2, num_attention_heads: 4, max_position_embeddings: 32, rms_norm_eps: 1e-5 };

/** config.json as written. */
interface WrittenConfig {
  rope_parameters?: { rope_type: string };
  rope_theta?: number;
  rope_scaling?: { rope_type: string };
  torch_dtype?: string;
}
const writtenConfig = (dir: string): WrittenConfig => JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as WrittenConfig;

interface Case {
  name: string;
  family: string;
  config: Record<string, unknown>;
  tokenizer: { kind: string; vocab_size: number };
  dtype?: string;
  layout?: '4' | '5';
  shard?: string;
  check?: (dir: string, model: CausalLM) => void;
}

const CASES: Case[] = [
  {
    name: 'Llama 3: GQA, head_dim 16 != 48/4, attention and MLP biases, tied embeddings, rope llama3, byte-level BPE',
    family: 'llama',
    config: {
      ...SMALL, vocab_size: 400, num_key_value_heads: 2, head_dim: 16, tie_word_embeddings: true, attention_bias: true, mlp_bias: true, bos_token_id: 0, eos_token_id: 1,
      rope_parameters: { rope_type: 'llama3', rope_theta: 500000, factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8 },
    },
    tokenizer: { kind: 'llama3', vocab_size: 400 },
    check: (dir, model) => {
      assert.equal(writtenConfig(dir).rope_parameters?.rope_type, 'llama3', 'the 5.x layout');
      assert.equal(model.parameters.names().includes('lm_head.weight'), false, 'tied: no lm_head of its own');
    },
  },
  {
    name: 'Llama 2 as transformers 4.x wrote it: bf16, sharded with model.safetensors.index.json, rope_theta + rope_scaling linear, SentencePiece BPE',
    family: 'llama',
    config: { ...SMALL, vocab_size: 600, num_key_value_heads: 4, bos_token_id: 1, eos_token_id: 2, rope_parameters: { rope_type: 'linear', rope_theta: 10000, factor: 2 } },
    tokenizer: { kind: 'sentencepiece', vocab_size: 600 },
    dtype: 'bfloat16',
    layout: '4',
    shard: '40KB',
    check: (dir) => {
      const config = writtenConfig(dir);
      assert.equal(config.rope_parameters, undefined);
      assert.deepEqual([config.rope_theta, config.rope_scaling?.rope_type, config.torch_dtype], [10000, 'linear', 'bfloat16'], 'the 4.x layout');
      const shards = readdirSync(dir).filter((f) => /^model-\d+-of-\d+\.safetensors$/.test(f));
      assert.ok(shards.length > 1 && readdirSync(dir).includes('model.safetensors.index.json'), `sharded: ${readdirSync(dir).join(', ')}`);
    },
  },
  {
    name: 'Mistral: sliding-window attention (window 5 of 32), GQA, SentencePiece BPE',
    family: 'mistral',
    config: { ...SMALL, vocab_size: 600, num_key_value_heads: 1, sliding_window: 5, bos_token_id: 1, eos_token_id: 2 },
    tokenizer: { kind: 'sentencepiece', vocab_size: 600 },
  },
  {
    name: 'Qwen2: q/k/v biases, tied embeddings, layer 1 in a sliding window, no BOS (EOS prefix)',
    family: 'qwen2',
    config: { ...SMALL, vocab_size: 400, num_key_value_heads: 2, tie_word_embeddings: true, use_sliding_window: true, sliding_window: 6, max_window_layers: 1, rope_parameters: { rope_type: 'default', rope_theta: 1000000 } },
    tokenizer: { kind: 'qwen2', vocab_size: 400 },
    check: (dir, model) => assert.deepEqual((model as unknown as { config: { slidingWindows: unknown[] } }).config.slidingWindows, [undefined, 6]),
  },
  {
    name: 'Phi-3: fused qkv_proj and gate_up_proj, partial rotary 0.5, sliding window 7, SentencePiece BPE',
    family: 'phi3',
    config: { ...SMALL, vocab_size: 600, num_key_value_heads: 2, sliding_window: 7, pad_token_id: 0, bos_token_id: 1, eos_token_id: 2, rope_parameters: { rope_type: 'default', rope_theta: 10000, partial_rotary_factor: 0.5 } },
    tokenizer: { kind: 'sentencepiece', vocab_size: 600 },
    check: (_dir, model) => assert.ok(model.parameters.names().includes('model.layers.0.self_attn.qkv_proj.weight')),
  },
];

for (const c of CASES) {
  test(`${c.name}: logits, loss and rolling bits per byte equal transformers and lm-eval's HFLM`, () => {
    const dir = mkdtempSync(join(tmpdir(), `tttnn-${c.family}-`));
    const reference = runRefVenvPython<Reference>('import hf_decoders; hf_decoders.main()', {
      family: c.family, config: c.config, dir, seed: 0, dtype: c.dtype ?? 'float32', layout: c.layout ?? '5', max_shard_size: c.shard,
      tokenizer: { ...c.tokenizer, texts: trainingTexts() }, ids: IDS, attention_mask: MASK, docs: DOCS,
    });
    const model = loadModel(dir) as CausalLM;
    try {
      assert.equal(model.kind, 'causal');
      assert.equal(model.modelType, c.family);
      c.check?.(dir, model);
      tidy(() => {
        const ids = tensor(IDS, { dtype: 'int64' });
        const mask = tensor(MASK, { dtype: 'int64' });
        assertClose(model.logits(ids, mask).toNumbers(), reference.logits, 1e-4, `${c.family} logits`, 1e-4);
        const labels = tensor(IDS.map((row, r) => row.map((id, i) => (MASK[r]![i] ? id : -100))), { dtype: 'int64' });
        assertClose([causalLmLoss(model, ids, labels, mask).item()], [reference.loss], 1e-5, `${c.family} loss`, 1e-5);
      });
      const tokenizer = loadTokenizer(dir);
      assert.equal(model.contextLength, reference.max_length, "HFLM's max_length (max_position_embeddings)");
      assert.equal(tokenizer.scoringPrefixTokenId, reference.prefix_token_id, "HFLM's prefix_token_id");
      DOCS.forEach((doc, i) => {
        const tokens = tokenizer.encode(doc);
        assert.deepEqual(tokens, reference.tokens[i], `document ${i}: HFLM's tokens`);
        assert.ok(tokens.length > model.contextLength || i < 2, 'the long document spans several windows');
        const ll = rollingLoglikelihood(model, tokens, tokenizer.scoringPrefixTokenId!, model.contextLength);
        assertClose([ll], [reference.rolling[i]!], 0, `${c.family} document ${i} log-likelihood`, 1e-4);
      });
    } finally {
      model.dispose();
    }
    // The command: `tttnn score` prints the architecture and HFLM's number.
    const docFile = join(dir, 'doc.txt');
    writeFileSync(docFile, DOCS[2]!);
    const scored = JSON.parse(execFileSync(process.execPath, [CLI, 'score', '--model', dir, '--text-file', docFile, '--json'], { encoding: 'utf8' })) as ScoreResult;
    assert.equal(scored.model_type, c.family);
    assert.equal(scored.prefix_token_id, reference.prefix_token_id);
    assertClose([scored.loglikelihood], [reference.rolling[2]!], 0, `tttnn score on ${c.family}`, 1e-4);
    if (c.family === 'phi3') {
      // `tttnn eval` (dynamic evaluation needs no servers) runs on the family too.
      const data = join(dir, 'test.jsonl');
      writeFileSync(data, DOCS.map((text) => JSON.stringify({ text, meta: { pile_set_name: 'Github' } })).join('\n') + '\n');
      const results = join(dir, 'results');
      execFileSync(process.execPath, [CLI, 'eval', '--method', 'dynamic', '--model', dir, '--data', data, '--results-dir', results, '--val-portion', '1', '--learning-rate', '1e-3', '--num-neighbors', '2'], { stdio: 'pipe' });
      const lines = readResultLines(results, 'dynamic');
      assert.equal(lines.length, DOCS.length);
    }
  });
}
