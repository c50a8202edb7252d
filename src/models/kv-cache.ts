// Key/value cache for incremental decoding (Hugging Face's past_key_values):
// each attention layer keeps the keys and values of every position it has
// seen, so a decoding step feeds only the new token instead of re-reading the
// whole prefix. A forward pass with a cache reads `length` (the position of
// its first token), hands each layer's new k, v to `extend` and calls
// `advance` once its layers have run.
//
// The tensors are kept out of every scope (keep()): they live from one call
// to the next and the cache's owner disposes them (`dispose`).
import { cat, keep, type Tensor } from '../engine/index.js';

export class KvCache {
  private readonly layers: ({ k: Tensor; v: Tensor } | undefined)[] = [];
  private cached = 0;

  /** Positions already cached: the position of the next token fed. */
  get length(): number {
    return this.cached;
  }

  /**
   * Layer `layer`'s keys and values for every position so far: the cached
   * ones followed by `k`, `v` [B, heads, T, D]. The result is kept for the
   * next call (the previous one is freed).
   */
  extend(layer: number, k: Tensor, v: Tensor): { k: Tensor; v: Tensor } {
    const past = this.layers[layer];
    const next = past ? { k: keep(cat([past.k, k], 2)), v: keep(cat([past.v, v], 2)) } : { k: keep(k.contiguous()), v: keep(v.contiguous()) };
    if (past) {
      past.k.dispose();
      past.v.dispose();
    }
    this.layers[layer] = next;
    return next;
  }

  /** After a forward pass of `t` tokens through every layer. */
  advance(t: number): void {
    this.cached += t;
  }

  dispose(): void {
    for (const entry of this.layers) {
      entry?.k.dispose();
      entry?.v.dispose();
    }
    this.layers.length = 0;
    this.cached = 0;
  }
}
