// The trunk GPT-2 and GPT-Neo share (their Hugging Face weight names are the
// same outside the blocks): token + position embeddings, the blocks — each in
// its own scope, so a block's intermediates are freed as soon as it returns
// (autograd keeps what backward needs) and memory does not grow with depth —
// the final LayerNorm, and the output layer tied to the token embeddings.
import { arange, dropout, embedding, keep, layerNorm, linear, tidy, type Tensor } from '../engine/index.js';
import type { ParameterSet } from './parameter-set.js';

export interface DecoderShape {
  contextLength: number;
  layers: number;
  hiddenSize: number;
  layerNormEpsilon: number;
  embeddingDropout: number;
  training: boolean;
}

/** ids [B, T] -> logits [B, T, V]; `block(i, x)` is layer i: [B, T, C] -> [B, T, C]. */
export function decoderLogits(parameters: ParameterSet, ids: Tensor, shape: DecoderShape, block: (i: number, x: Tensor) => Tensor): Tensor {
  const [, T] = ids.shape as [number, number];
  if (T > shape.contextLength) throw new RangeError(`input of ${T} tokens is longer than the model's context (${shape.contextLength})`);
  const p = (name: string): Tensor => parameters.get(name);
  const wte = p('transformer.wte.weight');
  const positions = arange(0, T, 1, { device: ids.device });
  let x = dropout(embedding(wte, ids).add(embedding(p('transformer.wpe.weight'), positions)), shape.embeddingDropout, shape.training); // [B, T, C]
  for (let i = 0; i < shape.layers; i++) {
    const input = x;
    x = tidy(() => block(i, input));
  }
  x = layerNorm(x, [shape.hiddenSize], p('transformer.ln_f.weight'), p('transformer.ln_f.bias'), shape.layerNormEpsilon);
  const logits = linear(x, wte); // tied lm_head: [B, T, V]
  // Under bf16 autocast the lm_head runs in bf16; the log-probabilities
  // scored and trained on are taken in fp32 (a bf16 log-softmax keeps three
  // significant digits), so the logits leave the model as fp32.
  return logits.dtype === 'float32' ? logits : logits.to({ dtype: 'float32' });
}

/** Attention masks by key, made once and kept until the model is disposed. */
export class MaskCache {
  private readonly masks = new Map<string, Tensor>();

  get(key: string, make: () => Tensor): Tensor {
    let mask = this.masks.get(key);
    if (!mask) {
      mask = keep(make());
      this.masks.set(key, mask);
    }
    return mask;
  }

  dispose(): void {
    for (const m of this.masks.values()) m.dispose();
    this.masks.clear();
  }
}

/** Checkpoint name -> ours for GPT-2 and GPT-Neo: prefix "transformer."; null for the tied lm_head and `buffer` names. */
export function canonicalDecoderName(name: string, buffer: RegExp): string | null {
  if (name === 'lm_head.weight' || buffer.test(name)) return null;
  return name.startsWith('transformer.') ? name : `transformer.${name}`;
}
