// GPT-2 (Hugging Face GPT2LMHeadModel), readable top to bottom.
//
// Weight names and layouts are Hugging Face's, so real checkpoints load
// unchanged: the projections are Conv1D layers whose weights are stored
// [in, out] (the transpose of nn.Linear), and lm_head shares wte's weight.
// Shapes: B batch, T tokens, C = n_embd, H = n_head, V = vocab_size.
import { dropout, gelu, layerNorm, linear, randn, zeros, ones, tidy, type Tensor } from '../engine/index.js';
import { attend, causalMask, mergeHeads, paddingBlocked, splitHeads } from './attention.js';
import { ConfigReader, geluVariant, type RawConfig } from './config.js';
import { MaskCache, canonicalDecoderName, decoderLogits } from './decoder.js';
import type { CausalLM } from './language-model.js';
import { ParameterSet, type ParameterSpec, type PlacementOptions } from './parameter-set.js';

export interface Gpt2Config {
  vocabSize: number;
  nPositions: number;
  nEmbd: number;
  nLayer: number;
  nHead: number;
  layerNormEpsilon: number;
  activation: 'none' | 'tanh';
  embdPdrop: number;
  attnPdrop: number;
  residPdrop: number;
  initializerRange: number;
}

export function parseGpt2Config(raw: RawConfig, origin: string): Gpt2Config {
  const r = new ConfigReader(raw, origin);
  const config: Gpt2Config = {
    vocabSize: r.int('vocab_size', 50257),
    nPositions: r.int('n_positions', 1024),
    nEmbd: r.int('n_embd', 768),
    nLayer: r.int('n_layer', 12),
    nHead: r.int('n_head', 12),
    layerNormEpsilon: r.number('layer_norm_epsilon', 1e-5),
    activation: geluVariant(r, 'activation_function', 'gelu_new'),
    embdPdrop: r.number('embd_pdrop', 0.1),
    attnPdrop: r.number('attn_pdrop', 0.1),
    residPdrop: r.number('resid_pdrop', 0.1),
    initializerRange: r.number('initializer_range', 0.02),
  };
  r.divisible('n_embd', config.nEmbd, config.nHead, 'n_head');
  if (r.bool('scale_attn_by_inverse_layer_idx', false) || r.bool('reorder_and_upcast_attn', false)) {
    throw new Error(`${origin}: scale_attn_by_inverse_layer_idx and reorder_and_upcast_attn are not supported`);
  }
  if (!r.bool('scale_attn_weights', true)) throw new Error(`${origin}: scale_attn_weights false is not supported`);
  return config;
}

/** Parameter names and shapes (Conv1D weights are [in, out]). */
function gpt2Spec(c: Gpt2Config): ParameterSpec {
  const C = c.nEmbd;
  const spec: ParameterSpec = new Map([
    ['transformer.wte.weight', [c.vocabSize, C]],
    ['transformer.wpe.weight', [c.nPositions, C]],
  ]);
  for (let i = 0; i < c.nLayer; i++) {
    const p = `transformer.h.${i}.`;
    spec.set(`${p}ln_1.weight`, [C]).set(`${p}ln_1.bias`, [C]);
    spec.set(`${p}attn.c_attn.weight`, [C, 3 * C]).set(`${p}attn.c_attn.bias`, [3 * C]);
    spec.set(`${p}attn.c_proj.weight`, [C, C]).set(`${p}attn.c_proj.bias`, [C]);
    spec.set(`${p}ln_2.weight`, [C]).set(`${p}ln_2.bias`, [C]);
    spec.set(`${p}mlp.c_fc.weight`, [C, 4 * C]).set(`${p}mlp.c_fc.bias`, [4 * C]);
    spec.set(`${p}mlp.c_proj.weight`, [4 * C, C]).set(`${p}mlp.c_proj.bias`, [C]);
  }
  spec.set('transformer.ln_f.weight', [C]).set('transformer.ln_f.bias', [C]);
  return spec;
}

/** Checkpoint name -> our name; null for what we do not store (tied lm_head, attention mask buffers). */
function canonicalGpt2Name(name: string): string | null {
  return canonicalDecoderName(name, /\.attn\.(masked_)?bias$/);
}

export class Gpt2LMHeadModel implements CausalLM {
  readonly kind = 'causal';
  readonly modelType = 'gpt2';
  readonly config: Gpt2Config;
  training = false;
  private readonly masks = new MaskCache();

  private constructor(
    readonly rawConfig: RawConfig,
    readonly parameters: ParameterSet,
    origin: string,
  ) {
    this.config = parseGpt2Config(rawConfig, origin);
  }

  get contextLength(): number {
    return this.config.nPositions;
  }
  get vocabSize(): number {
    return this.config.vocabSize;
  }

  /** Randomly initialised as Hugging Face does (normal(0, 0.02); residual projections scaled by 1/sqrt(2 n_layer)). */
  static random(rawConfig: RawConfig, placement: PlacementOptions = {}): Gpt2LMHeadModel {
    const c = parseGpt2Config(rawConfig, 'config');
    const std = c.initializerRange;
    const init = (name: string, shape: number[]): Tensor => {
      if (/ln_\d\.weight$|ln_f\.weight$/.test(name)) return ones(shape);
      if (name.endsWith('.bias')) return zeros(shape);
      const scale = name.endsWith('c_proj.weight') ? std / Math.sqrt(2 * c.nLayer) : std;
      return tidy(() => randn(shape).mul(scale));
    };
    return new Gpt2LMHeadModel(rawConfig, ParameterSet.initialized(gpt2Spec(c), init, placement), 'config');
  }

  /** From checkpoint tensors (taken over). */
  static fromWeights(rawConfig: RawConfig, weights: Iterable<[string, Tensor]>, origin: string, placement: PlacementOptions = {}): Gpt2LMHeadModel {
    const c = parseGpt2Config(rawConfig, origin);
    const { parameters } = ParameterSet.fromCheckpoint(gpt2Spec(c), weights, canonicalGpt2Name, origin, placement);
    return new Gpt2LMHeadModel(rawConfig, parameters, origin);
  }

  logits(ids: Tensor, attentionMask?: Tensor): Tensor {
    const c = this.config;
    const T = ids.size(1);
    let blocked = this.masks.get(`${T}@${ids.device}`, () => causalMask(T, ids.device)); // [T, T]
    if (attentionMask) blocked = blocked.logicalOr(paddingBlocked(attentionMask)); // [B, 1, T, T]
    const shape = { contextLength: c.nPositions, layers: c.nLayer, hiddenSize: c.nEmbd, layerNormEpsilon: c.layerNormEpsilon, embeddingDropout: c.embdPdrop, training: this.training };
    return decoderLogits(this.parameters, ids, shape, (i, x) => this.block(i, x, blocked));
  }

  /** One transformer block: x [B, T, C] -> [B, T, C]. */
  private block(i: number, x: Tensor, blocked: Tensor): Tensor {
    const c = this.config;
    const p = (name: string): Tensor => this.parameters.get(name);
    const drop = (t: Tensor, rate: number): Tensor => dropout(t, rate, this.training);
    const h = `transformer.h.${i}.`;
    // attention: Conv1D y = x W + b, W [in, out] -> linear with W^T (a view, no copy)
    const a = layerNorm(x, [c.nEmbd], p(`${h}ln_1.weight`), p(`${h}ln_1.bias`), c.layerNormEpsilon);
    const qkv = linear(a, p(`${h}attn.c_attn.weight`).transpose(0, 1), p(`${h}attn.c_attn.bias`)); // [B, T, 3C]
    const [q, k, v] = qkv.split(c.nEmbd, 2).map((t) => splitHeads(t, c.nHead)) as [Tensor, Tensor, Tensor]; // [B, H, T, D]
    const y = attend(q, k, v, { scale: 1 / Math.sqrt(c.nEmbd / c.nHead), blocked, dropoutP: c.attnPdrop, training: this.training });
    const attnOut = linear(mergeHeads(y), p(`${h}attn.c_proj.weight`).transpose(0, 1), p(`${h}attn.c_proj.bias`));
    const x1 = x.add(drop(attnOut, c.residPdrop));
    // MLP
    const m = layerNorm(x1, [c.nEmbd], p(`${h}ln_2.weight`), p(`${h}ln_2.bias`), c.layerNormEpsilon);
    const hidden = gelu(linear(m, p(`${h}mlp.c_fc.weight`).transpose(0, 1), p(`${h}mlp.c_fc.bias`)), c.activation); // [B, T, 4C]
    const mlpOut = linear(hidden, p(`${h}mlp.c_proj.weight`).transpose(0, 1), p(`${h}mlp.c_proj.bias`));
    return x1.add(drop(mlpOut, c.residPdrop));
  }

  checkpointWeights(): Map<string, Tensor> {
    return new Map(this.parameters.entries());
  }

  dispose(): void {
    this.parameters.dispose();
    this.masks.dispose();
  }
}
