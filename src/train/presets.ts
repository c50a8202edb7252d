// Presets: the small models the embedded default trains on this machine.
import type { RawConfig } from '../models/index.js';
import { gpt2Tokenizer, robertaTokenizerFromGpt2, type BpeTokenizer } from '../tokenizers/index.js';
import type { ScheduleKind } from './schedule.js';

export type Objective = 'mlm' | 'causal';

export interface Preset {
  description: string;
  objective: Objective;
  config: RawConfig;
  tokenizer: () => BpeTokenizer;
  defaults: { seqLen: number; batchSize: number; lr: number; warmup: number; schedule: ScheduleKind; weightDecay: number };
}

export const PRESETS: Record<string, Preset> = {
  'tiny-gpt': {
    description: 'GPT-2 architecture, 4 layers, d 256, 4 heads, context 256, GPT-2 tokenizer (causal LM)',
    objective: 'causal',
    config: {
      model_type: 'gpt2', architectures: ['GPT2LMHeadModel'], vocab_size: 50257, n_positions: 256, n_embd: 256, n_layer: 4, n_head: 4,
      activation_function: 'gelu_new', embd_pdrop: 0.1, attn_pdrop: 0.1, resid_pdrop: 0.1, layer_norm_epsilon: 1e-5,
      initializer_range: 0.02, bos_token_id: 50256, eos_token_id: 50256,
    },
    tokenizer: gpt2Tokenizer,
    defaults: { seqLen: 256, batchSize: 16, lr: 1e-3, warmup: 100, schedule: 'cosine', weightDecay: 0.01 },
  },
  'tiny-roberta': {
    description: 'RoBERTa architecture, 4 layers, d 256, 4 heads, 256 positions, GPT-2 BPE in RoBERTa layout (masked LM, for embeddings)',
    objective: 'mlm',
    config: {
      model_type: 'roberta', architectures: ['RobertaForMaskedLM'], vocab_size: 50261, hidden_size: 256, num_hidden_layers: 4,
      num_attention_heads: 4, intermediate_size: 1024, max_position_embeddings: 258, type_vocab_size: 1, pad_token_id: 1,
      bos_token_id: 0, eos_token_id: 2, hidden_act: 'gelu', hidden_dropout_prob: 0.1, attention_probs_dropout_prob: 0.1,
      layer_norm_eps: 1e-5, initializer_range: 0.02,
    },
    tokenizer: robertaTokenizerFromGpt2,
    defaults: { seqLen: 128, batchSize: 32, lr: 5e-4, warmup: 100, schedule: 'cosine', weightDecay: 0.01 },
  },
};

export function getPreset(name: string): Preset {
  const preset = PRESETS[name];
  if (!preset) throw new Error(`unknown preset "${name}" (presets: ${Object.keys(PRESETS).join(', ')})`);
  return preset;
}
