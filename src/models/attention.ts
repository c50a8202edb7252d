// Multi-head attention pieces shared by GPT-2, GPT-Neo and RoBERTa.
// Shapes: B batch, T tokens, C channels, H heads, D = C / H head size.
import { arange, causalAttention, dropout, maskedSoftmax, ones, softmax, type Tensor } from '../engine/index.js';

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
 * What the caller knows about `blocked`: it is exactly the causal mask, with
 * `window` also blocking every key `window` or more positions back (GPT-Neo's
 * local layers, the sliding windows of the rotary families), and no padding.
 * The attention then runs as one fused kernel (engine causalAttention) that
 * never computes the blocked scores nor holds a T x T tensor.
 */
export interface CausalStructure {
  window?: number | undefined;
}

/**
 * softmax(q k^T * scale, masked) v with dropout on the probabilities.
 * q, k, v: [B, H, T, D]. `blocked`: bool, broadcastable to [B, H, T, T], true
 * where a query may not attend to a key. Returns [B, H, T, D].
 */
export function attend(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  options: { scale: number; blocked?: Tensor; causal?: CausalStructure; dropoutP: number; training: boolean },
): Tensor {
  if (options.causal && fusedCausalApplies(q, k)) {
    // bf16 projections (autocast, or bf16 weights): the kernel computes in
    // fp32, as the masked softmax does, and the result goes back to q's dtype
    // so that the output projection sees what the T x T path gives it.
    const [q32, k32, v32] = [q, k, v].map((t) => (t.dtype === 'float32' ? t : t.to({ dtype: 'float32' }))) as [Tensor, Tensor, Tensor];
    const dropoutP = options.training ? options.dropoutP : 0;
    const y = causalAttention(q32, k32, v32, { scale: options.scale, window: options.causal.window ?? 0, dropoutP }); // [B, H, T, D] fp32
    return q.dtype === 'float32' ? y : y.to({ dtype: q.dtype });
  }
  // Scaling q [B, H, T, D] costs T/D times less than scaling the scores.
  const scaled = options.scale === 1 ? q : q.mul(options.scale);
  const scores = scaled.matmul(k.transpose(-1, -2)); // [B, H, T, T]
  // One fused pass instead of masked_fill + softmax. Hugging Face fills
  // blocked scores with float32's lowest value instead, which gives the same
  // probabilities (exactly 0) wherever a row has any unblocked key.
  const probs = options.blocked ? maskedSoftmax(scores, options.blocked, -1) : softmax(scores, -1);
  return dropout(probs, options.dropoutP, options.training).matmul(v);
}

/** The fused kernel's domain: CPU tensors of fp32 or bf16, queries and keys of one length. */
function fusedCausalApplies(q: Tensor, k: Tensor): boolean {
  return q.device === 'cpu' && (q.dtype === 'float32' || q.dtype === 'bfloat16') && q.size(2) === k.size(2);
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

/** Attention mask [B, T] of 1 / 0 -> [B, 1, 1, T] bool, true at padding keys. */
export function paddingBlocked(attentionMask: Tensor): Tensor {
  const [b, t] = attentionMask.shape as [number, number];
  return attentionMask.eq(0).view([b, 1, 1, t]);
}

/**
 * The causal mask of `t` queries at positions past..past+t-1 over keys
 * 0..past+t-1 (decoding with a key/value cache): [T, past + T] bool, true
 * where the key is in the query's future or, with `window`, `window` or more
 * positions back (as localCausalMask). Undefined when nothing is blocked
 * (one new token with every cached key in reach), so attention needs no mask.
 */
export function offsetCausalMask(past: number, t: number, window: number | undefined, device: string): Tensor | undefined {
  if (t === 1 && (window === undefined || past < window)) return undefined;
  const queries = arange(past, past + t, 1, { dtype: 'int64', device }).unsqueeze(1); // [T, 1]
  const keys = arange(0, past + t, 1, { dtype: 'int64', device }).unsqueeze(0); // [1, past + T]
  const future = keys.gt(queries);
  return window === undefined ? future : future.logicalOr(keys.le(queries.sub(window)));
}
