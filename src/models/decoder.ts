// The trunk GPT-2 and GPT-Neo share (their Hugging Face weight names are the
// same outside the blocks): token + position embeddings, the blocks — each in
// its own scope, so a block's intermediates are freed as soon as it returns
// (autograd keeps what backward needs) and memory does not grow with depth —
// the final LayerNorm, and the output layer tied to the token embeddings.
import { arange, dropout, embedding, keep, layerNorm, linear, tidy, withPrecision, type Tensor } from '../engine/index.js';
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
  // The output layer stays fp32 under bf16 mixed precision (unlike plain
  // torch.autocast). Its weight gradient sums p(token) * h over the window for
  // every vocabulary row, sums that cancel; with bf16 inputs their sign is
  // noise, and AdamW turns noise into full-size steps on all 50k rows. Measured
  // on the demo's tiny GPT (bench:precision; the same with torch.autocast): TTT
  // on three neighbours lowered bits per byte 3.23 -> 3.10 in fp32 and not at
  // all with a bf16 head; with an fp32 head, and backward passes outside
  // autocast (native/src/autocast.h), bf16 tracks fp32 step for step.
  return withPrecision('fp32', () => linear(x, wte)); // tied lm_head: [B, T, V]
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
