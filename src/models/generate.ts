// Text generation for causal LMs: greedy or sampled, one token at a time.
// (No key/value cache: every step re-reads the whole window, which is
// simple and fast enough for the small models and short continuations this
// tool generates; the window slides when the context is full.)
import { inference, rand, softmax, tensor } from '../engine/index.js';
import type { CausalLM } from './language-model.js';

export interface GenerateOptions {
  maxNewTokens: number;
  /** Greedy when 0 or absent; otherwise sample from softmax(logits / temperature). Seed with manualSeed. */
  temperature?: number;
  /** Sample only among the k most likely tokens. */
  topK?: number;
  /** Stop after producing this token. */
  eosTokenId?: number;
}

/** The prompt's ids followed by the generated ones. */
export function generate(model: CausalLM, prompt: readonly number[], options: GenerateOptions): number[] {
  if (prompt.length === 0) throw new RangeError('generate: the prompt needs at least one token');
  const wasTraining = model.training;
  model.training = false;
  const out = [...prompt];
  const device = model.parameters.device;
  try {
    for (let step = 0; step < options.maxNewTokens; step++) {
      const next = inference(() => {
        const window = out.slice(-model.contextLength);
        const ids = tensor(window, { dtype: 'int64', shape: [1, window.length], device });
        const logits = model.logits(ids).select(1, window.length - 1).select(0, 0); // [V]
        if (!options.temperature) return logits.argmax().item();
        let scaled = logits.div(options.temperature);
        if (options.topK !== undefined && options.topK < scaled.numel) {
          const kth = scaled.topk(options.topK).values.select(0, options.topK - 1).item();
          scaled = scaled.maskedFill(scaled.lt(kth), -Infinity);
        }
        // Inverse-CDF sampling from the softmax with one uniform draw.
        const cdf = softmax(scaled, 0).cumsum(0);
        const u = rand([1], { device }).mul(cdf.select(0, cdf.numel - 1)).item();
        return Math.min(cdf.lt(u).sum().item(), cdf.numel - 1);
      });
      out.push(next);
      if (next === options.eosTokenId) break;
    }
  } finally {
    model.training = wasTraining;
  }
  return out;
}
