// GPT-2 (Hugging Face GPT2LMHeadModel), readable top to bottom.
//
// Weight names and layouts are Hugging Face's, so real checkpoints load
// unchanged: the projections are Conv1D layers whose weights are stored
// [in, out] (the transpose of nn.Linear), and lm_head shares wte's weight.
// Shapes: B batch, T tokens, C = n_embd, H = n_head, V = vocab_size.
import { dropout, gelu, randn, zeros, ones, tidy, type Tensor } from '../engine/index.js';
import { attend, causalMask, mergeHeads, offsetCausalMask, paddingBlocked, splitHeads } from './attention.js';
import type { KvCache } from './kv-cache.js';
import { ConfigReader, MAX_LAYERS, checkModelFits, geluVariant, type RawConfig } from './config.js';
import { MaskCache, canonicalDecoderName, decoderOutputLayerInput, decoderTrunk, outputLogits, type DecoderTrunk } from './decoder.js';
import { applyConv1D, applyNorm, conv1DParams, normParams, type Dense, type Norm } from './layers.js';
import type { Architecture } from './architecture.js';
import type { CausalLM, OutputLayerInput } from './language-model.js';
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
    vocabSize: r.size('vocab_size', 50257),
    nPositions: r.size('n_positions', 1024),
    nEmbd: r.size('n_embd', 768),
    nLayer: r.size('n_layer', 12, MAX_LAYERS),
    nHead: r.size('n_head', 12),
    layerNormEpsilon: r.epsilon('layer_norm_epsilon', 1e-5),
    activation: geluVariant(r, 'activation_function', 'gelu_new'),
    embdPdrop: r.probability('embd_pdrop', 0.1),
    attnPdrop: r.probability('attn_pdrop', 0.1),
    residPdrop: r.probability('resid_pdrop', 0.1),
    initializerRange: r.nonNegative('initializer_range', 0.02),
  };
  r.divisible('n_embd', config.nEmbd, config.nHead, 'n_head');
  if (r.bool('scale_attn_by_inverse_layer_idx', false) || r.bool('reorder_and_upcast_attn', false)) {
    throw new Error(`${origin}: scale_attn_by_inverse_layer_idx and reorder_and_upcast_attn are not supported`);
  }
  if (!r.bool('scale_attn_weights', true)) throw new Error(`${origin}: scale_attn_weights false is not supported`);
  checkModelFits(gpt2Spec(config), origin, 'vocab_size, n_positions, n_embd and n_layer');
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

/** One block's parameters (Conv1D weights [in, out]). */
interface Gpt2Block {
  ln1: Norm;
  attn: { qkv: Dense; proj: Dense };
  ln2: Norm;
  mlp: { fc: Dense; proj: Dense };
}

function gpt2Block(p: ParameterSet, i: number): Gpt2Block {
  const h = `transformer.h.${i}.`;
  return {
    ln1: normParams(p, `${h}ln_1`),
    attn: { qkv: conv1DParams(p, `${h}attn.c_attn`), proj: conv1DParams(p, `${h}attn.c_proj`) },
    ln2: normParams(p, `${h}ln_2`),
    mlp: { fc: conv1DParams(p, `${h}mlp.c_fc`), proj: conv1DParams(p, `${h}mlp.c_proj`) },
  };
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
  private readonly trunk: DecoderTrunk;
  private readonly blocks: Gpt2Block[];

  private constructor(
    readonly rawConfig: RawConfig,
    readonly parameters: ParameterSet,
    origin: string,
  ) {
    this.config = parseGpt2Config(rawConfig, origin);
    this.trunk = decoderTrunk(parameters);
    this.blocks = Array.from({ length: this.config.nLayer }, (_, i) => gpt2Block(parameters, i));
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
    const parameters = ParameterSet.fromCheckpoint(gpt2Spec(c), weights, canonicalGpt2Name, origin, placement);
    return new Gpt2LMHeadModel(rawConfig, parameters, origin);
  }

  logits(ids: Tensor, attentionMask?: Tensor, cache?: KvCache): Tensor {
    return outputLogits(this.outputLayerInput(ids, attentionMask, cache));
  }

  outputLayerInput(ids: Tensor, attentionMask?: Tensor, cache?: KvCache): OutputLayerInput {
    const c = this.config;
    const T = ids.size(1);
    const past = cache?.length ?? 0;
    if (cache && attentionMask) throw new Error('logits: an attention mask with a key/value cache is not supported');
    let blocked = past === 0 ? this.masks.get(`${T}@${ids.device}`, () => causalMask(T, ids.device)) : offsetCausalMask(past, T, undefined, ids.device); // [T, past + T]
    if (attentionMask) blocked = blocked!.logicalOr(paddingBlocked(attentionMask)); // [B, 1, T, T]
    const shape = { contextLength: c.nPositions, layerNormEpsilon: c.layerNormEpsilon, embeddingDropout: c.embdPdrop, training: this.training };
    const out = decoderOutputLayerInput(this.trunk, ids, shape, this.blocks, (L, x, i) => this.block(L, x, blocked, attentionMask !== undefined, cache, i), past);
    cache?.advance(T);
    return out;
  }

  /**
   * One transformer block (pre-LN): x [B, T, C] -> [B, T, C]; with a cache, layer `index`'s keys and
   * values join it. Unpadded, the attention is exactly causal and runs fused (attention.ts attend).
   */
  private block(L: Gpt2Block, x: Tensor, blocked: Tensor | undefined, padded: boolean, cache: KvCache | undefined, index: number): Tensor {
    const c = this.config;
    const drop = (t: Tensor, rate: number): Tensor => dropout(t, rate, this.training);
    // attention
    const a = applyNorm(x, L.ln1, c.layerNormEpsilon);
    const qkv = applyConv1D(a, L.attn.qkv); // [B, T, 3C]
    const [q, kNew, vNew] = qkv.split(c.nEmbd, 2).map((t) => splitHeads(t, c.nHead)) as [Tensor, Tensor, Tensor]; // [B, H, T, D]
    const { k, v } = cache ? cache.extend(index, kNew, vNew) : { k: kNew, v: vNew }; // [B, H, past + T, D]
    const y = attend(q, k, v, { scale: 1 / Math.sqrt(c.nEmbd / c.nHead), blocked, ...(padded ? {} : { causal: {} }), dropoutP: c.attnPdrop, training: this.training });
    const x1 = x.add(drop(applyConv1D(mergeHeads(y), L.attn.proj), c.residPdrop));
    // MLP
    const m = applyNorm(x1, L.ln2, c.layerNormEpsilon);
    const hidden = gelu(applyConv1D(m, L.mlp.fc), c.activation); // [B, T, 4C]
    return x1.add(drop(applyConv1D(hidden, L.mlp.proj), c.residPdrop));
  }

  checkpointWeights(): Map<string, Tensor> {
    return new Map(this.parameters.entries());
  }

  dispose(): void {
    this.parameters.dispose();
    this.masks.dispose();
  }
}

export const GPT2_ARCHITECTURE: Architecture = {
  modelType: 'gpt2',
  kind: 'causal',
  tokenizers: ['byte-level BPE'],
  fromWeights: (config, weights, origin, placement) => Gpt2LMHeadModel.fromWeights(config, weights, origin, placement),
  random: (config, placement) => Gpt2LMHeadModel.random(config, placement),
};
