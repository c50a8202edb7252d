// Multi-head attention pieces shared by GPT-2, GPT-Neo and RoBERTa.
// Shapes: B batch, T tokens, C channels, H heads, D = C / H head size.
import { dropout, ones, softmax, type Tensor } from '../engine/index.js';

/** float32's lowest value: what Hugging Face fills masked scores with. */
export const MASKED_SCORE = -3.4028234663852886e38;

/** [B, T, C] -> [B, H, T, D] */
export function splitHeads(x: Tensor, heads: number): Tensor {
  const [b, t, c] = x.shape as [number, number, number];
  return x.view([b, t, heads, c / heads]).transpose(1, 2);
}

/** [B, H, T, D] -> [B, T, C] */
export function mergeHeads(x: Tensor): Tensor {
  const [b, h, t, d] = x.shape as [number, number, number, number];
  return x.transpose(1, 2).reshape([b, t, h * d]);
}

/**
 * softmax(q k^T * scale, masked) v with dropout on the probabilities.
 * q, k, v: [B, H, T, D]. `blocked`: bool, broadcastable to [B, H, T, T], true
 * where a query may not attend to a key. `additive`: added to the scores
 * (RoBERTa's padding mask). Returns [B, H, T, D].
 */
export function attend(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  options: { scale: number; blocked?: Tensor; additive?: Tensor; dropoutP: number; training: boolean },
): Tensor {
  let scores = q.matmul(k.transpose(-1, -2)); // [B, H, T, T]
  if (options.scale !== 1) scores = scores.mul(options.scale);
  if (options.blocked) scores = scores.maskedFill(options.blocked, MASKED_SCORE);
  if (options.additive) scores = scores.add(options.additive);
  const probs = dropout(softmax(scores, -1), options.dropoutP, options.training);
  return probs.matmul(v);
}

/** [T, T] bool, true above the diagonal (future keys): the causal mask. */
export function causalMask(t: number, device: string): Tensor {
  return ones([t, t], { dtype: 'bool', device }).triu(1);
}

/** [T, T] bool: causal, and also blocking keys `window` or more positions back (GPT-Neo's local layers). */
export function localCausalMask(t: number, window: number, device: string): Tensor {
  const all = ones([t, t], { dtype: 'bool', device });
  return all.triu(1).logicalOr(all.tril(-window));
}

/** Attention mask [B, T] of 1 (token) / 0 (padding) -> [B, 1, 1, T] additive scores (HF's extended mask). */
export function additivePaddingMask(attentionMask: Tensor): Tensor {
  const [b, t] = attentionMask.shape as [number, number];
  // (mask - 1) * |min|: 0 for tokens, float32's lowest for padding.
  return attentionMask.to({ dtype: 'float32' }).view([b, 1, 1, t]).sub(1).mul(-MASKED_SCORE);
}

/** Attention mask [B, T] of 1 / 0 -> [B, 1, 1, T] bool, true at padding keys. */
export function paddingBlocked(attentionMask: Tensor): Tensor {
  const [b, t] = attentionMask.shape as [number, number];
  return attentionMask.eq(0).view([b, 1, 1, t]);
}
