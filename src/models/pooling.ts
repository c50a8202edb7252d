// Sentence embeddings from an encoder's last hidden states: the pooling
// modes of sentence-transformers' Pooling module
// (sentence_transformers/sentence_transformer/modules/pooling.py,
// _forward_padded) and its Normalize module (F.normalize, p=2). Several
// modes are concatenated in the order given, as there. The original TTT-NN
// embedder is 'mean' without normalisation (tttlm code/text_embedding.py:67-73).
import { cat, type Tensor } from '../engine/index.js';

/** The modes tttnn computes (sentence-transformers' names). */
export const POOLING_MODES = ['cls', 'mean', 'max', 'mean_sqrt_len_tokens'] as const;
export type PoolingMode = (typeof POOLING_MODES)[number];

export interface Pooling {
  /** Concatenated in this order (usually one). */
  modes: readonly PoolingMode[];
  /** L2-normalise the pooled vector (a 2_Normalize module). */
  normalize: boolean;
}

/** The original's: mean over non-padding tokens, not normalised. */
export const ORIGINAL_POOLING: Pooling = { modes: ['mean'], normalize: false };

/** "mean", "cls+max, normalised": how index info and errors name a pooling. */
export function describePooling(p: Pooling): string {
  return `${p.modes.join('+')}${p.normalize ? ', normalised' : ''}`;
}

/** hidden [B, T, C] (right-padded), attentionMask [B, T] -> [B, C x modes]. */
export function poolHiddenStates(hidden: Tensor, attentionMask: Tensor, pooling: Pooling): Tensor {
  const mask = attentionMask.to({ dtype: hidden.dtype }).unsqueeze(-1); // [B, T, 1]
  const parts = pooling.modes.map((mode): Tensor => {
    switch (mode) {
      case 'cls':
        return hidden.select(1, 0); // the first token: batches are padded on the right
      case 'max':
        return hidden.maskedFill(mask.eq(0), -Infinity).maxAlong(1).values;
      case 'mean':
        return hidden.mul(mask).sum([1]).div(mask.sum([1]).clamp(1e-9));
      case 'mean_sqrt_len_tokens':
        return hidden.mul(mask).sum([1]).div(mask.sum([1]).clamp(1e-9).sqrt());
    }
  });
  const pooled = parts.length === 1 ? parts[0]! : cat(parts, 1);
  // F.normalize: x / max(||x||, 1e-12).
  return pooling.normalize ? pooled.div(pooled.norm(2, [1], true).clamp(1e-12)) : pooled;
}

