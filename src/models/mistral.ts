// Mistral (Hugging Face MistralForCausalLM): Llama's decoder with
// sliding-window attention on every layer when `sliding_window` is set
// (a key sees the last `sliding_window` positions, itself included:
// transformers masking_utils sliding_window_overlay, kv > q - window).
// Mistral 7B v0.1 sets 4096 (the default when the key is absent); v0.3 null.
import { ropeDecoderArchitecture, slidingWindowOf, type RopeDecoderFamily } from './rope-decoder.js';

export const MISTRAL: RopeDecoderFamily = {
  modelType: 'mistral',
  fused: false,
  biases: () => ({ qkv: false, o: false, mlp: false }),
  slidingWindows: (r, numLayers) => new Array<number | undefined>(numLayers).fill(slidingWindowOf(r, 4096)),
};

export const MISTRAL_ARCHITECTURE = ropeDecoderArchitecture(MISTRAL);
