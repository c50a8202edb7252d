// Phi-3 (Hugging Face Phi3ForCausalLM): Llama's decoder with q/k/v fused in
// one `qkv_proj` [(H + 2K) D, C] and gate/up in one `gate_up_proj` [2I, C]
// (gate first), no biases, `resid_pdrop` dropout before each residual add,
// `partial_rotary_factor` (rope.ts) and a sliding window on every layer when
// `sliding_window` is set (Phi-3-mini-4k: 2047). The long-context RoPE of the
// 128k checkpoints (rope_scaling "longrope"/"su") is refused by rope.ts.
import { ropeDecoderArchitecture, slidingWindowOf, type RopeDecoderFamily } from './rope-decoder.js';

export const PHI3: RopeDecoderFamily = {
  modelType: 'phi3',
  fused: true,
  biases: () => ({ qkv: false, o: false, mlp: false }),
  slidingWindows: (r, numLayers) => new Array<number | undefined>(numLayers).fill(slidingWindowOf(r, undefined)),
  residualDropout: (r) => r.number('resid_pdrop', 0),
};

export const PHI3_ARCHITECTURE = ropeDecoderArchitecture(PHI3);
