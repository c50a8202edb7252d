// Training losses with Hugging Face semantics.
import { crossEntropy, type Tensor } from '../engine/index.js';
import type { CausalLM, EncoderModel } from './language-model.js';

/**
 * Next-token loss: logits at position t predict labels at t + 1 (the shift
 * is done here, as GPT2LMHeadModel does); labels -100 are ignored.
 * ids, labels: [B, T] int64 -> mean loss (scalar).
 */
export function causalLmLoss(model: CausalLM, ids: Tensor, labels: Tensor = ids, attentionMask?: Tensor): Tensor {
  const logits = model.logits(ids, attentionMask); // [B, T, V]
  const [b, t, v] = logits.shape as [number, number, number];
  if (t < 2) throw new RangeError('a causal LM loss needs at least 2 tokens');
  const predictions = logits.narrow(1, 0, t - 1).reshape([b * (t - 1), v]);
  const targets = labels.narrow(1, 1, t - 1).reshape([b * (t - 1)]);
  return crossEntropy(predictions, targets, { ignoreIndex: -100 });
}

/** Masked-LM loss over positions whose label is not -100. ids, labels: [B, T]. */
export function maskedLmLoss(model: EncoderModel, ids: Tensor, labels: Tensor, attentionMask?: Tensor): Tensor {
  const logits = model.mlmLogits(ids, attentionMask); // [B, T, V]
  const v = logits.size(-1);
  return crossEntropy(logits.reshape([-1, v]), labels.reshape([-1]), { ignoreIndex: -100 });
}
