// Llama 2 and 3.x (Hugging Face LlamaForCausalLM) on the shared rotary
// decoder (rope-decoder.ts): grouped-query attention, RMSNorm, SwiGLU;
// `attention_bias` adds biases to q/k/v/o, `mlp_bias` to the MLP; `head_dim`
// may differ from hidden_size / heads; Llama-3.2 1B/3B tie the output layer
// to the embeddings; rope_scaling "llama3" (rope.ts).
import type { ConfigReader } from './config.js';
import { ropeDecoderArchitecture, type RopeDecoderFamily } from './rope-decoder.js';

export const LLAMA: RopeDecoderFamily = {
  modelType: 'llama',
  fused: false,
  biases: (r: ConfigReader) => {
    const attention = r.bool('attention_bias', false);
    return { qkv: attention, o: attention, mlp: r.bool('mlp_bias', false) };
  },
  slidingWindows: (_r, numLayers) => new Array<undefined>(numLayers).fill(undefined),
};

export const LLAMA_ARCHITECTURE = ropeDecoderArchitecture(LLAMA);
