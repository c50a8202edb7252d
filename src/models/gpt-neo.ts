// GPT-Neo (Hugging Face GPTNeoForCausalLM), readable top to bottom.
//
// Differences from GPT-2 that matter for exact parity: q/k/v are nn.Linear
// layers without bias (weights [out, in]), attention scores are NOT scaled
// by 1/sqrt(D), and layers alternate between global attention and local
// attention that only sees the last `window_size` tokens
// (config.attention_types, e.g. [[["global", "local"], 12]]).
// Shapes: B batch, T tokens, C = hidden_size, H = num_heads, V = vocab_size.
import { dropout, gelu, ones, randn, tidy, zeros, type Tensor } from '../engine/index.js';
import { attend, causalMask, localCausalMask, mergeHeads, offsetCausalMask, paddingBlocked, splitHeads } from './attention.js';
import type { KvCache } from './kv-cache.js';
import { ConfigReader, MAX_LAYERS, checkModelFits, geluVariant, type RawConfig } from './config.js';
import { MaskCache, canonicalDecoderName, decoderOutputLayerInput, decoderTrunk, outputLogits, type DecoderTrunk } from './decoder.js';
import { applyLinear, applyNorm, denseParams, normParams, type Dense, type Norm } from './layers.js';
import type { Architecture } from './architecture.js';
import type { CausalLM, OutputLayerInput } from './language-model.js';
import { ParameterSet, type ParameterSpec, type PlacementOptions } from './parameter-set.js';

export interface GptNeoConfig {
  vocabSize: number;
  maxPositions: number;
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  intermediateSize: number;
  /** One entry per layer. */
  attentionLayers: ('global' | 'local')[];
  windowSize: number;
  layerNormEpsilon: number;
  activation: 'none' | 'tanh';
  embedDropout: number;
  attentionDropout: number;
  residDropout: number;
  initializerRange: number;
}

export function parseGptNeoConfig(raw: RawConfig, origin: string): GptNeoConfig {
  const r = new ConfigReader(raw, origin);
  const hiddenSize = r.size('hidden_size', 2048);
  const numLayers = r.size('num_layers', 24, MAX_LAYERS);
  const attentionLayers = expandAttentionTypes(raw['attention_types'] ?? [[['global', 'local'], numLayers / 2]], origin);
  if (attentionLayers.length !== numLayers) {
    throw new Error(`${origin}: attention_types describes ${attentionLayers.length} layers but num_layers is ${numLayers}`);
  }
  const config: GptNeoConfig = {
    vocabSize: r.size('vocab_size', 50257),
    maxPositions: r.size('max_position_embeddings', 2048),
    hiddenSize,
    numLayers,
    numHeads: r.size('num_heads', 16),
    intermediateSize: raw['intermediate_size'] == null ? 4 * hiddenSize : r.size('intermediate_size'),
    attentionLayers,
    windowSize: r.size('window_size', 256),
    layerNormEpsilon: r.epsilon('layer_norm_epsilon', 1e-5),
    activation: geluVariant(r, 'activation_function', 'gelu_new'),
    embedDropout: r.probability('embed_dropout', 0),
    attentionDropout: r.probability('attention_dropout', 0),
    residDropout: r.probability('resid_dropout', 0),
    initializerRange: r.nonNegative('initializer_range', 0.02),
  };
  r.divisible('hidden_size', hiddenSize, config.numHeads, 'num_heads');
  checkModelFits(gptNeoSpec(config), origin, 'vocab_size, max_position_embeddings, hidden_size, intermediate_size and num_layers');
  return config;
}

/** [[["global", "local"], 12]] -> ["global", "local", "global", ...] (24 entries). */
function expandAttentionTypes(types: unknown, origin: string): ('global' | 'local')[] {
  const out: ('global' | 'local')[] = [];
  if (!Array.isArray(types)) throw new Error(`${origin}: attention_types must be a list like [[["global", "local"], 12]]`);
  for (const entry of types as unknown[]) {
    const [kinds, repeat] = entry as [unknown, unknown];
    if (!Array.isArray(entry) || !Array.isArray(kinds) || typeof repeat !== 'number' || !Number.isSafeInteger(repeat) || repeat < 0 || kinds.some((k) => k !== 'global' && k !== 'local')) {
      throw new Error(`${origin}: attention_types entry ${JSON.stringify(entry).slice(0, 200)} is not [["global" | "local", ...], count]`);
    }
    if (out.length + repeat * kinds.length > MAX_LAYERS) throw new Error(`${origin}: attention_types describes more than ${MAX_LAYERS} layers`);
    for (let i = 0; i < repeat; i++) for (const kind of kinds as ('global' | 'local')[]) out.push(kind);
  }
  return out;
}

function gptNeoSpec(c: GptNeoConfig): ParameterSpec {
  const C = c.hiddenSize;
  const I = c.intermediateSize;
  const spec: ParameterSpec = new Map([
    ['transformer.wte.weight', [c.vocabSize, C]],
    ['transformer.wpe.weight', [c.maxPositions, C]],
  ]);
  for (let i = 0; i < c.numLayers; i++) {
    const p = `transformer.h.${i}.`;
    spec.set(`${p}ln_1.weight`, [C]).set(`${p}ln_1.bias`, [C]);
    for (const proj of ['q_proj', 'k_proj', 'v_proj']) spec.set(`${p}attn.attention.${proj}.weight`, [C, C]);
    spec.set(`${p}attn.attention.out_proj.weight`, [C, C]).set(`${p}attn.attention.out_proj.bias`, [C]);
    spec.set(`${p}ln_2.weight`, [C]).set(`${p}ln_2.bias`, [C]);
    spec.set(`${p}mlp.c_fc.weight`, [I, C]).set(`${p}mlp.c_fc.bias`, [I]);
    spec.set(`${p}mlp.c_proj.weight`, [C, I]).set(`${p}mlp.c_proj.bias`, [C]);
  }
  spec.set('transformer.ln_f.weight', [C]).set('transformer.ln_f.bias', [C]);
  return spec;
}

/** One block's parameters (nn.Linear weights [out, in]; q, k, v without bias) and its attention kind. */
interface GptNeoBlock {
  attention: 'global' | 'local';
  ln1: Norm;
  attn: { q: Dense; k: Dense; v: Dense; out: Dense };
  ln2: Norm;
  mlp: { fc: Dense; proj: Dense };
}

function gptNeoBlock(p: ParameterSet, i: number, attention: 'global' | 'local'): GptNeoBlock {
  const h = `transformer.h.${i}.`;
  const a = `${h}attn.attention.`;
  return {
    attention,
    ln1: normParams(p, `${h}ln_1`),
    attn: { q: denseParams(p, `${a}q_proj`, false), k: denseParams(p, `${a}k_proj`, false), v: denseParams(p, `${a}v_proj`, false), out: denseParams(p, `${a}out_proj`) },
    ln2: normParams(p, `${h}ln_2`),
    mlp: { fc: denseParams(p, `${h}mlp.c_fc`), proj: denseParams(p, `${h}mlp.c_proj`) },
  };
}

function canonicalGptNeoName(name: string): string | null {
  return canonicalDecoderName(name, /\.attn\.attention\.(masked_)?bias$/);
}

export class GptNeoForCausalLM implements CausalLM {
  readonly kind = 'causal';
  readonly modelType = 'gpt_neo';
  readonly config: GptNeoConfig;
  training = false;
  private readonly masks = new MaskCache();
  private readonly trunk: DecoderTrunk;
  private readonly blocks: GptNeoBlock[];

  private constructor(
    readonly rawConfig: RawConfig,
    readonly parameters: ParameterSet,
    origin: string,
  ) {
    this.config = parseGptNeoConfig(rawConfig, origin);
    this.trunk = decoderTrunk(parameters);
    this.blocks = this.config.attentionLayers.map((kind, i) => gptNeoBlock(parameters, i, kind));
  }

  get contextLength(): number {
    return this.config.maxPositions;
  }
  get vocabSize(): number {
    return this.config.vocabSize;
  }

  static random(rawConfig: RawConfig, placement: PlacementOptions = {}): GptNeoForCausalLM {
    const c = parseGptNeoConfig(rawConfig, 'config');
    const init = (name: string, shape: number[]): Tensor => {
      if (/ln_\d\.weight$|ln_f\.weight$/.test(name)) return ones(shape);
      if (name.endsWith('.bias')) return zeros(shape);
      return tidy(() => randn(shape).mul(c.initializerRange));
    };
    return new GptNeoForCausalLM(rawConfig, ParameterSet.initialized(gptNeoSpec(c), init, placement), 'config');
  }

  static fromWeights(rawConfig: RawConfig, weights: Iterable<[string, Tensor]>, origin: string, placement: PlacementOptions = {}): GptNeoForCausalLM {
    const c = parseGptNeoConfig(rawConfig, origin);
    const parameters = ParameterSet.fromCheckpoint(gptNeoSpec(c), weights, canonicalGptNeoName, origin, placement);
    return new GptNeoForCausalLM(rawConfig, parameters, origin);
  }

  logits(ids: Tensor, attentionMask?: Tensor, cache?: KvCache): Tensor {
    return outputLogits(this.outputLayerInput(ids, attentionMask, cache));
  }

  outputLayerInput(ids: Tensor, attentionMask?: Tensor, cache?: KvCache): OutputLayerInput {
    const c = this.config;
    if (cache && attentionMask) throw new Error('logits: an attention mask with a key/value cache is not supported');
    const past = cache?.length ?? 0;
    const padding = attentionMask ? paddingBlocked(attentionMask) : undefined; // [B, 1, 1, T]
    const shape = { contextLength: c.maxPositions, layerNormEpsilon: c.layerNormEpsilon, embeddingDropout: c.embedDropout, training: this.training };
    const out = decoderOutputLayerInput(this.trunk, ids, shape, this.blocks, (L, x, i) => this.block(L, x, padding, past, cache, i), past);
    cache?.advance(ids.size(1));
    return out;
  }

  /**
   * One transformer block (pre-LN): x [B, T, C] at positions past.. -> [B, T, C];
   * padding [B, 1, 1, T] or undefined; with a cache, layer `index`'s keys and values join it.
   */
  private block(L: GptNeoBlock, x: Tensor, padding: Tensor | undefined, past: number, cache: KvCache | undefined, index: number): Tensor {
    const c = this.config;
    const drop = (t: Tensor, rate: number): Tensor => dropout(t, rate, this.training);
    const a = applyNorm(x, L.ln1, c.layerNormEpsilon);
    const [q, kNew, vNew] = [L.attn.q, L.attn.k, L.attn.v].map((proj) => splitHeads(applyLinear(a, proj), c.numHeads)) as [Tensor, Tensor, Tensor]; // [B, H, T, D]
    const { k, v } = cache ? cache.extend(index, kNew, vNew) : { k: kNew, v: vNew }; // [B, H, past + T, D]
    const T = x.size(1);
    let blocked = past === 0 ? this.mask(L.attention, T, x.device) : offsetCausalMask(past, T, L.attention === 'local' ? c.windowSize : undefined, x.device); // [T, past + T]
    if (padding) blocked = blocked!.logicalOr(padding);
    // Unpadded and uncached, the mask is exactly causal (local: a window) and the attention runs fused.
    const causal = padding || past > 0 ? {} : { causal: { window: L.attention === 'global' ? undefined : c.windowSize } };
    const y = attend(q, k, v, { scale: 1, blocked, ...causal, dropoutP: c.attentionDropout, training: this.training }); // no 1/sqrt(D)
    const x1 = x.add(drop(applyLinear(mergeHeads(y), L.attn.out), c.residDropout));
    const m = applyNorm(x1, L.ln2, c.layerNormEpsilon);
    const hidden = gelu(applyLinear(m, L.mlp.fc), c.activation); // [B, T, I]
    return x1.add(drop(applyLinear(hidden, L.mlp.proj), c.residDropout));
  }

  private mask(kind: 'global' | 'local', t: number, device: string): Tensor {
    return this.masks.get(`${kind}:${t}@${device}`, () => (kind === 'global' ? causalMask(t, device) : localCausalMask(t, this.config.windowSize, device)));
  }

  checkpointWeights(): Map<string, Tensor> {
    return new Map(this.parameters.entries());
  }

  dispose(): void {
    this.parameters.dispose();
    this.masks.dispose();
  }
}

export const GPT_NEO_ARCHITECTURE: Architecture = {
  modelType: 'gpt_neo',
  kind: 'causal',
  tokenizers: ['byte-level BPE'],
  fromWeights: (config, weights, origin, placement) => GptNeoForCausalLM.fromWeights(config, weights, origin, placement),
  random: (config, placement) => GptNeoForCausalLM.random(config, placement),
};
