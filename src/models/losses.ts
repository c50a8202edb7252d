// Training losses with Hugging Face semantics.
import { crossEntropy, linearCrossEntropy, withPrecision, type Tensor } from '../engine/index.js';
import type { CausalLM, EncoderModel, OutputLayerInput } from './language-model.js';
import { outputLogits } from './decoder.js';

/**
 * Next-token loss: logits at position t predict labels at t + 1 (the shift
 * is done here, as GPT2LMHeadModel does); labels -100 are ignored.
 * ids, labels: [B, T] int64 -> mean loss (scalar). On the CPU the output
 * layer and the cross entropy are one fused op (fusedOutputLoss); the
 * [B, T, V] logits are never made.
 */
export function causalLmLoss(model: CausalLM, ids: Tensor, labels: Tensor = ids, attentionMask?: Tensor): Tensor {
  const output = model.outputLayerInput(ids, attentionMask); // hidden [B, T, C]
  const [b, t, c] = output.hidden.shape as [number, number, number];
  if (t < 2) throw new RangeError('a causal LM loss needs at least 2 tokens');
  const targets = labels.narrow(1, 1, t - 1).reshape([b * (t - 1)]);
  const hidden = output.hidden.narrow(1, 0, t - 1).reshape([b * (t - 1), c]);
  if (fusedOutputLossApplies(output)) return fusedOutputLoss(hidden, output.weight, targets, 'mean');
  const logits = outputLogits({ hidden, weight: output.weight }); // [B (T - 1), V]
  return crossEntropy(logits, targets, { ignoreIndex: -100 });
}

/** Where the fused output-layer loss runs: fp32 weights on the CPU (hidden states of any float dtype). */
export function fusedOutputLossApplies(output: OutputLayerInput): boolean {
  return output.weight.device === 'cpu' && output.weight.dtype === 'float32';
}

/**
 * Cross entropy of hidden [N, C] through the output weight [V, C] against
 * targets [N] (-100 ignored), fused and in fp32 (the output layer stays fp32
 * under mixed precision: decoder.ts). 'none' gives the per-row losses, for
 * scoring under no-grad.
 */
export function fusedOutputLoss(hidden: Tensor, weight: Tensor, targets: Tensor, reduction: 'mean' | 'sum' | 'none'): Tensor {
  const h = hidden.dtype === 'float32' ? hidden : hidden.to({ dtype: 'float32' });
  return withPrecision('fp32', () => linearCrossEntropy(h, weight, null, targets, { ignoreIndex: -100, reduction }));
}
/** Masked-LM loss over positions whose label is not -100. ids, labels: [B, T]. */
export function maskedLmLoss(model: EncoderModel, ids: Tensor, labels: Tensor, attentionMask?: Tensor): Tensor {
  const logits = model.mlmLogits(ids, attentionMask); // [B, T, V]
  const v = logits.size(-1);
  return crossEntropy(logits.reshape([-1, v]), labels.reshape([-1]), { ignoreIndex: -100 });
}
