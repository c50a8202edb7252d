// The trunk GPT-2 and GPT-Neo share (their Hugging Face weight names are the
// same outside the blocks): token + position embeddings, the blocks (see
// runLayers), the final LayerNorm, and the output layer tied to the token
// embeddings.
import { arange, dropout, embedding, keep, linear, withPrecision, type Tensor } from '../engine/index.js';
import { applyNorm, normParams, runLayers, type Norm } from './layers.js';
import type { OutputLayerInput } from './language-model.js';
import type { ParameterSet } from './parameter-set.js';

/** The parameters outside the blocks. */
export interface DecoderTrunk {
  /** Token embeddings [V, C], also the output layer (tied lm_head). */
  wte: Tensor;
  /** Position embeddings [contextLength, C]. */
  wpe: Tensor;
  lnF: Norm;
}

export function decoderTrunk(parameters: ParameterSet): DecoderTrunk {
  return { wte: parameters.get('transformer.wte.weight'), wpe: parameters.get('transformer.wpe.weight'), lnF: normParams(parameters, 'transformer.ln_f') };
}

export interface DecoderShape {
  contextLength: number;
  layerNormEpsilon: number;
  embeddingDropout: number;
  training: boolean;
}

/**
 * ids [B, T] at positions past..past+T-1 -> logits [B, T, V]; `block(L, x, i)`
 * is layer i: [B, T, C] -> [B, T, C]. `past` is a key/value cache's length (0 without one).
 */
export function decoderLogits<L>(trunk: DecoderTrunk, ids: Tensor, shape: DecoderShape, layers: readonly L[], block: (layer: L, x: Tensor, index: number) => Tensor, past = 0): Tensor {
  return outputLogits(decoderOutputLayerInput(trunk, ids, shape, layers, block, past));
}

/** As decoderLogits, but stops before the output layer: the final hidden states [B, T, C] and its weight (wte, tied). */
export function decoderOutputLayerInput<L>(trunk: DecoderTrunk, ids: Tensor, shape: DecoderShape, layers: readonly L[], block: (layer: L, x: Tensor, index: number) => Tensor, past = 0): OutputLayerInput {
  const [, T] = ids.shape as [number, number];
  if (past + T > shape.contextLength) throw new RangeError(`input of ${past + T} tokens is longer than the model's context (${shape.contextLength})`);
  const positions = arange(past, past + T, 1, { device: ids.device });
  const x = dropout(embedding(trunk.wte, ids).add(embedding(trunk.wpe, positions)), shape.embeddingDropout, shape.training); // [B, T, C]
  const h = applyNorm(runLayers(x, layers, block), trunk.lnF, shape.layerNormEpsilon);
  // The output layer stays fp32 under bf16 mixed precision (unlike plain
  // torch.autocast). Its weight gradient sums p(token) * h over the window for
  // every vocabulary row, sums that cancel; with bf16 inputs their sign is
  // noise, and AdamW turns noise into full-size steps on all 50k rows. Measured
  // on the demo's tiny GPT (bench:precision; the same with torch.autocast): TTT
  // on three neighbours lowered bits per byte 3.23 -> 3.10 in fp32 and not at
  // all with a bf16 head; with an fp32 head, and backward passes outside
  // autocast (native/src/autocast.h), bf16 tracks fp32 step for step.
  return { hidden: h, weight: trunk.wte }; // tied lm_head
}

/** The output layer, fp32 under mixed precision (see above): [B, T, C] -> [B, T, V]. */
export function outputLogits(input: OutputLayerInput): Tensor {
  return withPrecision('fp32', () => linear(input.hidden, input.weight));
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
