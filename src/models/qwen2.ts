// Qwen2 and Qwen2.5 (Hugging Face Qwen2ForCausalLM): Llama's decoder with
// biases on q/k/v (not on o_proj or the MLP); the small models tie the
// output layer to the embeddings. Sliding windows per layer: transformers
// 5.x writes `layer_types`; 4.x configs say `use_sliding_window` (false in
// the released checkpoints) and `max_window_layers`, from which 5.x derives
// layer i as sliding when i >= max_window_layers (configuration_qwen2.py).
import { ropeDecoderArchitecture, slidingWindowOf, type RopeDecoderFamily } from './rope-decoder.js';

export const QWEN2: RopeDecoderFamily = {
  modelType: 'qwen2',
  fused: false,
  biases: () => ({ qkv: true, o: false, mlp: false }),
  slidingWindows: (r, numLayers) => {
    const useSliding = r.bool('use_sliding_window', false);
    const window = useSliding ? slidingWindowOf(r, 4096) : undefined;
    const types = r.raw['layer_types'];
    if (Array.isArray(types)) {
      if (types.length !== numLayers || types.some((t) => t !== 'full_attention' && t !== 'sliding_attention')) {
        throw new Error(`${r.origin}: field "layer_types" must list "full_attention" or "sliding_attention" for each of the ${numLayers} layers`);
      }
      return types.map((t) => (t === 'sliding_attention' ? window : undefined));
    }
    const firstSliding = r.int('max_window_layers', 28);
    return Array.from({ length: numLayers }, (_, i) => (window !== undefined && i >= firstSliding ? window : undefined));
  },
};

export const QWEN2_ARCHITECTURE = ropeDecoderArchitecture(QWEN2);
