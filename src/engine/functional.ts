// Functions of several tensors and the neural-network ops (as
// torch.nn.functional). Shapes: B batch, T tokens, C channels / classes.
import { native } from './native.js';
import { Tensor } from './tensor.js';
import { full } from './creation.js';

/** Concatenates along an existing dim. */
export function cat(tensors: readonly Tensor[], dim = 0): Tensor {
  return new Tensor(native.cat(tensors.map((t) => t.handle), dim));
}

/** Stacks along a new dim. */
export function stack(tensors: readonly Tensor[], dim = 0): Tensor {
  return new Tensor(native.stack(tensors.map((t) => t.handle), dim));
}

/** `condition ? a : b`, elementwise with broadcasting; a number stands for a 0-dim tensor like the other branch. */
export function where(condition: Tensor, a: Tensor | number, b: Tensor | number): Tensor {
  const like = typeof a === 'number' ? (typeof b === 'number' ? undefined : b) : a;
  const scalar = (v: number): Tensor => full([], v, like ? { dtype: like.dtype, device: like.device } : {});
  const x = typeof a === 'number' ? scalar(a) : a;
  const y = typeof b === 'number' ? scalar(b) : b;
  try {
    return new Tensor(native.where(condition.handle, x.handle, y.handle));
  } finally {
    if (x !== a) x.dispose();
    if (y !== b) y.dispose();
  }
}

/** x[..., in] @ weight[out, in].T + bias[out] */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  return new Tensor(native.linear(x.handle, weight.handle, bias?.handle ?? null));
}

/** Rows of weight[V, C] for integer ids[...] -> [..., C]; `paddingIdx` rows get no gradient. */
export function embedding(weight: Tensor, ids: Tensor, paddingIdx = -1): Tensor {
  return new Tensor(native.embedding(weight.handle, ids.handle, paddingIdx));
}

/** Normalises over the trailing `normalizedShape` dims, then scales and shifts. */
export function layerNorm(
  x: Tensor,
  normalizedShape: readonly number[],
  weight: Tensor | null,
  bias: Tensor | null,
  eps = 1e-5,
): Tensor {
  return new Tensor(native.layerNorm(x.handle, [...normalizedShape], weight?.handle ?? null, bias?.handle ?? null, eps));
}

/** GELU: exact erf form ("none", BERT/RoBERTa) or tanh approximation ("tanh", GPT-2's gelu_new). */
export function gelu(x: Tensor, approximate: 'none' | 'tanh' = 'none'): Tensor {
  return new Tensor(native.gelu(x.handle, approximate));
}

export function softmax(x: Tensor, dim: number): Tensor {
  return new Tensor(native.softmax(x.handle, dim));
}

/** Softmax over `dim` with the positions where `blocked` (bool, broadcastable) is true excluded; fully blocked rows give 0. */
export function maskedSoftmax(x: Tensor, blocked: Tensor, dim: number): Tensor {
  return new Tensor(native.maskedSoftmax(x.handle, blocked.handle, dim));
}

/**
 * softmax(q k^T * scale, causal) v, dropout `dropoutP` on the probabilities:
 * one fused kernel (native/src/causal_attention.cc), or PyTorch's
 * scaled_dot_product_attention on libtorch >= 2.1 when there is no dropout
 * and `useSdpa`. Query i sees keys [i - window + 1, i] (window 0: [0, i]).
 * q, k, v: [B, H, T, D] fp32 on the CPU -> [B, H, T, D].
 */
export function causalAttention(q: Tensor, k: Tensor, v: Tensor, options: { scale: number; window: number; dropoutP: number; useSdpa?: boolean }): Tensor {
  return new Tensor(native.causalAttention(q.handle, k.handle, v.handle, options.scale, options.window, options.dropoutP, options.useSdpa ?? true));
}

export function logSoftmax(x: Tensor, dim: number): Tensor {
  return new Tensor(native.logSoftmax(x.handle, dim));
}

/** Zeroes elements with probability p and scales the rest by 1/(1-p) when training. */
export function dropout(x: Tensor, p: number, training: boolean): Tensor {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`dropout probability ${p} is not in [0, 1]`);
  return new Tensor(native.dropout(x.handle, p, training));
}

export interface CrossEntropyOptions {
  /** Targets equal to this are skipped (default -100, as torch and Hugging Face). */
  ignoreIndex?: number;
  reduction?: 'mean' | 'sum' | 'none';
  labelSmoothing?: number;
}

/**
 * Cross entropy of the output layer's logits h[N, C] weight[V, C]^T (+ bias)
 * against integer targets[N], without making the [N, V] logits: a chunk of
 * rows at a time (native/src/linear_cross_entropy.cc). 'mean' and 'sum' are
 * differentiable; 'none' (per-row losses [N]) is for no-grad scoring. fp32
 * CPU tensors.
 */
export function linearCrossEntropy(h: Tensor, weight: Tensor, bias: Tensor | null, targets: Tensor, options: { ignoreIndex?: number; reduction?: 'mean' | 'sum' | 'none' } = {}): Tensor {
  return new Tensor(native.linearCrossEntropy(h.handle, weight.handle, bias?.handle ?? null, targets.handle, options.ignoreIndex ?? -100, options.reduction ?? 'mean'));
}

/** Cross entropy of logits[N, C] against integer targets[N]. */
export function crossEntropy(logits: Tensor, targets: Tensor, options: CrossEntropyOptions = {}): Tensor {
  return new Tensor(
    native.crossEntropy(
      logits.handle,
      targets.handle,
      options.ignoreIndex ?? -100,
      options.reduction ?? 'mean',
      options.labelSmoothing ?? 0,
    ),
  );
}
