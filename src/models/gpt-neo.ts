// GPT-Neo (Hugging Face GPTNeoForCausalLM), readable top to bottom.
//
// Differences from GPT-2 that matter for exact parity: q/k/v are nn.Linear
// layers without bias (weights [out, in]), attention scores are NOT scaled
// by 1/sqrt(D), and layers alternate between global attention and local
// attention that only sees the last `window_size` tokens
// (config.attention_types, e.g. [[["global", "local"], 12]]).
// Shapes: B batch, T tokens, C = hidden_size, H = num_heads, V = vocab_size.
import { dropout, gelu, layerNorm, linear, ones, randn, tidy, zeros, type Tensor } from '../engine/index.js';
import { attend, causalMask, localCausalMask, mergeHeads, paddingBlocked, splitHeads } from './attention.js';
import { ConfigReader, geluVariant, type RawConfig } from './config.js';
import { MaskCache, canonicalDecoderName, decoderLogits } from './decoder.js';
import type { CausalLM } from './language-model.js';
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
  const hiddenSize = r.int('hidden_size', 2048);
  const numLayers = r.int('num_layers', 24);
  const attentionLayers = expandAttentionTypes(raw['attention_types'] ?? [[['global', 'local'], numLayers / 2]], origin);
  if (attentionLayers.length !== numLayers) {
    throw new Error(`${origin}: attention_types describes ${attentionLayers.length} layers but num_layers is ${numLayers}`);
  }
  const config: GptNeoConfig = {
    vocabSize: r.int('vocab_size', 50257),
    maxPositions: r.int('max_position_embeddings', 2048),
    hiddenSize,
    numLayers,
    numHeads: r.int('num_heads', 16),
    intermediateSize: raw['intermediate_size'] == null ? 4 * hiddenSize : r.int('intermediate_size'),
    attentionLayers,
    windowSize: r.int('window_size', 256),
    layerNormEpsilon: r.number('layer_norm_epsilon', 1e-5),
    activation: geluVariant(r, 'activation_function', 'gelu_new'),
    embedDropout: r.number('embed_dropout', 0),
    attentionDropout: r.number('attention_dropout', 0),
    residDropout: r.number('resid_dropout', 0),
    initializerRange: r.number('initializer_range', 0.02),
  };
  r.divisible('hidden_size', hiddenSize, config.numHeads, 'num_heads');
  return config;
}

/** [[["global", "local"], 12]] -> ["global", "local", "global", ...] (24 entries). */
function expandAttentionTypes(types: unknown, origin: string): ('global' | 'local')[] {
  const out: ('global' | 'local')[] = [];
  if (!Array.isArray(types)) throw new Error(`${origin}: attention_types must be a list like [[["global", "local"], 12]]`);
  for (const entry of types as unknown[]) {
    const [kinds, repeat] = entry as [unknown, unknown];
    if (!Array.isArray(kinds) || typeof repeat !== 'number' || kinds.some((k) => k !== 'global' && k !== 'local')) {
      throw new Error(`${origin}: attention_types entry ${JSON.stringify(entry)} is not [["global" | "local", ...], count]`);
    }
    for (let i = 0; i < repeat; i++) out.push(...(kinds as ('global' | 'local')[]));
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

function canonicalGptNeoName(name: string): string | null {
  return canonicalDecoderName(name, /\.attn\.attention\.(masked_)?bias$/);
}

export class GptNeoForCausalLM implements CausalLM {
  readonly kind = 'causal';
  readonly modelType = 'gpt_neo';
  readonly config: GptNeoConfig;
  training = false;
  private readonly masks = new MaskCache();

  private constructor(
    readonly rawConfig: RawConfig,
    readonly parameters: ParameterSet,
    origin: string,
  ) {
    this.config = parseGptNeoConfig(rawConfig, origin);
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
    const { parameters } = ParameterSet.fromCheckpoint(gptNeoSpec(c), weights, canonicalGptNeoName, origin, placement);
    return new GptNeoForCausalLM(rawConfig, parameters, origin);
  }

  logits(ids: Tensor, attentionMask?: Tensor): Tensor {
    const c = this.config;
    const padding = attentionMask ? paddingBlocked(attentionMask) : undefined; // [B, 1, 1, T]
    const shape = { contextLength: c.maxPositions, layers: c.numLayers, hiddenSize: c.hiddenSize, layerNormEpsilon: c.layerNormEpsilon, embeddingDropout: c.embedDropout, training: this.training };
    return decoderLogits(this.parameters, ids, shape, (i, x) => this.block(i, x, padding));
  }

  /** One transformer block: x [B, T, C] -> [B, T, C]; padding [B, 1, 1, T] or undefined. */
  private block(i: number, x: Tensor, padding: Tensor | undefined): Tensor {
    const c = this.config;
    const p = (name: string): Tensor => this.parameters.get(name);
    const drop = (t: Tensor, rate: number): Tensor => dropout(t, rate, this.training);
    const T = x.size(1);
    const h = `transformer.h.${i}.`;
    const a = layerNorm(x, [c.hiddenSize], p(`${h}ln_1.weight`), p(`${h}ln_1.bias`), c.layerNormEpsilon);
    const q = splitHeads(linear(a, p(`${h}attn.attention.q_proj.weight`)), c.numHeads); // [B, H, T, D]
    const k = splitHeads(linear(a, p(`${h}attn.attention.k_proj.weight`)), c.numHeads);
    const v = splitHeads(linear(a, p(`${h}attn.attention.v_proj.weight`)), c.numHeads);
    let blocked = this.mask(c.attentionLayers[i] as 'global' | 'local', T, x.device); // [T, T]
    if (padding) blocked = blocked.logicalOr(padding);
    const y = attend(q, k, v, { scale: 1, blocked, dropoutP: c.attentionDropout, training: this.training }); // no 1/sqrt(D)
    const attnOut = linear(mergeHeads(y), p(`${h}attn.attention.out_proj.weight`), p(`${h}attn.attention.out_proj.bias`));
    const x1 = x.add(drop(attnOut, c.residDropout));
    const m = layerNorm(x1, [c.hiddenSize], p(`${h}ln_2.weight`), p(`${h}ln_2.bias`), c.layerNormEpsilon);
    const hidden = gelu(linear(m, p(`${h}mlp.c_fc.weight`), p(`${h}mlp.c_fc.bias`)), c.activation); // [B, T, I]
    return x1.add(drop(linear(hidden, p(`${h}mlp.c_proj.weight`), p(`${h}mlp.c_proj.bias`)), c.residDropout));
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
