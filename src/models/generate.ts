// Text generation for causal LMs: greedy or sampled (sampling.ts), one token
// at a time, with a key/value cache (kv-cache.ts) by default: the prompt is
// read once, then each step feeds only the newest token. Without the cache
// every step re-reads the whole window (the reference the cache is tested
// against, and measured by bench:generate).
//
// When prompt + continuation outgrow the model's context, both paths read
// the last `contextLength` tokens at positions 0.. every step (the window
// slides), so they still produce the same tokens; the cache is dropped then.
import { inference, rand, tensor, type Tensor } from '../engine/index.js';
import { yieldToEventLoop } from '../io/event-loop.js';
import { KvCache } from './kv-cache.js';
import type { CausalLM } from './language-model.js';
import { TokenSampler, type SamplingOptions } from './sampling.js';

export interface GenerateOptions extends SamplingOptions {
  maxNewTokens: number;
  /** Seed of the sampling draws; absent: one drawn from torch's generator (so manualSeed reproduces it). */
  seed?: number;
  /** Stop after producing this token (or any of these). */
  eosTokenId?: number | readonly number[];
  /** Decode with a key/value cache (default true). */
  cache?: boolean;
  /** Called with each new token as soon as it is chosen (streaming). */
  onToken?: (id: number) => void;
}

/** Yields the new tokens one by one; the model is in evaluation mode meanwhile. */
function* decode(model: CausalLM, prompt: readonly number[], options: GenerateOptions): Generator<number, void, void> {
  if (prompt.length === 0) throw new RangeError('generate: the prompt needs at least one token');
  if (!Number.isInteger(options.maxNewTokens) || options.maxNewTokens < 0) throw new RangeError(`generate: maxNewTokens must be an integer >= 0, got ${options.maxNewTokens}`);
  const seed = options.seed ?? inference(() => Math.floor(rand([1]).item() * 2 ** 32));
  const sampler = new TokenSampler(options, seed);
  const stops = new Set(options.eosTokenId === undefined ? [] : typeof options.eosTokenId === 'number' ? [options.eosTokenId] : options.eosTokenId);
  const wasTraining = model.training;
  model.training = false;
  const device = model.parameters.device;
  let cache = options.cache === false ? undefined : new KvCache();
  const out = [...prompt];
  try {
    for (let step = 0; step < options.maxNewTokens; step++) {
      if (cache && out.length > model.contextLength) {
        cache.dispose(); // the window slides from here: see the file's comment
        cache = undefined;
      }
      const next = inference(() => {
        // With a cache: the tokens it has not seen (the prompt, then the newest one).
        const fed = cache ? out.slice(cache.length) : out.slice(-model.contextLength);
        const ids: Tensor = tensor(fed, { dtype: 'int64', shape: [1, fed.length], device });
        return sampler.next(model.logits(ids, undefined, cache).select(1, fed.length - 1).select(0, 0)); // logits [V]
      });
      out.push(next);
      options.onToken?.(next);
      yield next;
      if (stops.has(next)) break;
    }
  } finally {
    cache?.dispose();
    model.training = wasTraining;
  }
}

/** The prompt's ids followed by the generated ones. */
export function generate(model: CausalLM, prompt: readonly number[], options: GenerateOptions): number[] {
  const out = [...prompt];
  for (const id of decode(model, prompt, options)) out.push(id);
  return out;
}

/**
 * As generate, giving the event loop a turn between tokens (a server's other
 * requests, a client's disconnect, Ctrl-C); stops early, returning what it
 * has, once `signal` is aborted.
 */
export async function generateAsync(model: CausalLM, prompt: readonly number[], options: GenerateOptions & { signal?: AbortSignal }): Promise<number[]> {
  const out = [...prompt];
  const steps = decode(model, prompt, options);
  try {
    for (;;) {
      await yieldToEventLoop();
      if (options.signal?.aborted) break;
      const step = steps.next();
      if (step.done) break;
      out.push(step.value);
    }
  } finally {
    steps.return();
  }
  return out;
}
