// The decoder Llama, Mistral, Qwen2 and Phi-3 share (Hugging Face's
// LlamaForCausalLM and its descendants), readable top to bottom: token
// embeddings, pre-norm blocks of RMSNorm -> grouped-query attention with
// rotary positions -> RMSNorm -> gated SiLU MLP, a final RMSNorm and the
// output layer (tied to the embeddings or its own lm_head).
//
// What differs between the families is declared, not branched on by name:
// each family file (llama.ts, mistral.ts, qwen2.ts, phi3.ts) states its
// biases, whether q/k/v and gate/up come fused in one matrix (Phi-3), and
// which layers attend through a sliding window. Weight names and [out, in]
// layouts are Hugging Face's, so the directories load as the Hub ships them.
// Shapes: B batch, T tokens, C = hidden_size, H = num_attention_heads,
// K = num_key_value_heads, D = head_dim, I = intermediate_size, V = vocab_size.
import { dropout, embedding, ones, randn, tidy, zeros, type Tensor } from '../engine/index.js';
import { attend, causalMask, localCausalMask, offsetCausalMask, paddingBlocked } from './attention.js';
import type { Architecture } from './architecture.js';
import { ConfigReader, type RawConfig } from './config.js';
import { MaskCache, outputLogits } from './decoder.js';
import type { KvCache } from './kv-cache.js';
import { applyLinear, denseParams, runLayers, type Dense } from './layers.js';
import type { CausalLM, OutputLayerInput } from './language-model.js';
import { ParameterSet, type ParameterSpec, type PlacementOptions } from './parameter-set.js';
import { applyRotary, inverseFrequencies, parseRope, rotaryTables, type RopeConfig } from './rope.js';

/** What one family changes in the shared decoder. */
export interface RopeDecoderFamily {
  modelType: string;
  /** Biases of the q/k/v projections, of o_proj and of the MLP, from the config. */
  biases(r: ConfigReader): { qkv: boolean; o: boolean; mlp: boolean };
  /** q/k/v as one `qkv_proj` [(H + 2K) D, C] and gate/up as one `gate_up_proj` [2I, C] (Phi-3). */
  fused: boolean;
  /** The sliding window of each layer (undefined: full causal attention). */
  slidingWindows(r: ConfigReader, numLayers: number): (number | undefined)[];
  /** Dropout on attention's and the MLP's outputs before each residual add (Phi-3's resid_pdrop); default 0. */
  residualDropout?(r: ConfigReader): number;
}

export interface RopeDecoderConfig {
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  maxPositions: number;
  /** The embedding row that gets no gradient (nn.Embedding padding_idx = pad_token_id), or -1. */
  padTokenId: number;
  rmsNormEps: number;
  tieWordEmbeddings: boolean;
  rope: RopeConfig;
  biases: { qkv: boolean; o: boolean; mlp: boolean };
  slidingWindows: (number | undefined)[];
  attentionDropout: number;
  residDropout: number;
  initializerRange: number;
}

export function parseRopeDecoderConfig(family: RopeDecoderFamily, raw: RawConfig, origin: string): RopeDecoderConfig {
  const r = new ConfigReader(raw, origin);
  const hiddenSize = r.int('hidden_size', 4096);
  const numHeads = r.int('num_attention_heads', 32);
  const numLayers = r.int('num_hidden_layers', 32);
  const numKvHeads = raw['num_key_value_heads'] == null ? numHeads : r.int('num_key_value_heads');
  const headDim = raw['head_dim'] == null ? hiddenSize / numHeads : r.int('head_dim');
  if (raw['head_dim'] == null) r.divisible('hidden_size', hiddenSize, numHeads, 'num_attention_heads');
  r.divisible('num_attention_heads', numHeads, numKvHeads, 'num_key_value_heads');
  const act = r.string('hidden_act', 'silu');
  if (act !== 'silu') throw new Error(`${origin}: hidden_act "${act}" is not supported (supported: silu)`);
  const maxPositions = r.int('max_position_embeddings', 2048);
  return {
    vocabSize: r.int('vocab_size', 32000),
    hiddenSize,
    intermediateSize: r.int('intermediate_size', 11008),
    numLayers,
    numHeads,
    numKvHeads,
    headDim,
    maxPositions,
    padTokenId: raw['pad_token_id'] == null ? -1 : r.int('pad_token_id'),
    rmsNormEps: r.number('rms_norm_eps', 1e-6),
    tieWordEmbeddings: r.bool('tie_word_embeddings', false),
    rope: parseRope(r, headDim, maxPositions),
    biases: family.biases(r),
    slidingWindows: family.slidingWindows(r, numLayers),
    attentionDropout: r.number('attention_dropout', 0),
    residDropout: family.residualDropout?.(r) ?? 0,
    initializerRange: r.number('initializer_range', 0.02),
  };
}

/** Parameter names and shapes (nn.Linear weights [out, in]). */
function ropeDecoderSpec(family: RopeDecoderFamily, c: RopeDecoderConfig): ParameterSpec {
  const { hiddenSize: C, intermediateSize: I, headDim: D, numHeads: H, numKvHeads: K } = c;
  const spec: ParameterSpec = new Map([['model.embed_tokens.weight', [c.vocabSize, C]]]);
  const dense = (name: string, out: number, inp: number, bias: boolean): void => {
    spec.set(`${name}.weight`, [out, inp]);
    if (bias) spec.set(`${name}.bias`, [out]);
  };
  for (let i = 0; i < c.numLayers; i++) {
    const p = `model.layers.${i}.`;
    spec.set(`${p}input_layernorm.weight`, [C]);
    if (family.fused) {
      dense(`${p}self_attn.qkv_proj`, (H + 2 * K) * D, C, c.biases.qkv);
    } else {
      dense(`${p}self_attn.q_proj`, H * D, C, c.biases.qkv);
      dense(`${p}self_attn.k_proj`, K * D, C, c.biases.qkv);
      dense(`${p}self_attn.v_proj`, K * D, C, c.biases.qkv);
    }
    dense(`${p}self_attn.o_proj`, C, H * D, c.biases.o);
    spec.set(`${p}post_attention_layernorm.weight`, [C]);
    if (family.fused) {
      dense(`${p}mlp.gate_up_proj`, 2 * I, C, c.biases.mlp);
    } else {
      dense(`${p}mlp.gate_proj`, I, C, c.biases.mlp);
      dense(`${p}mlp.up_proj`, I, C, c.biases.mlp);
    }
    dense(`${p}mlp.down_proj`, C, I, c.biases.mlp);
  }
  spec.set('model.norm.weight', [C]);
  if (!c.tieWordEmbeddings) spec.set('lm_head.weight', [c.vocabSize, C]);
  return spec;
}

/** One block's parameters. Fused families have `qkv` and `gateUp`; the others q/k/v and gate/up. */
interface RopeDecoderBlock {
  /** Sliding window of this layer's attention, or undefined for full causal attention. */
  window: number | undefined;
  inputNorm: Tensor;
  attn: { qkv?: Dense; q?: Dense; k?: Dense; v?: Dense; o: Dense };
  postNorm: Tensor;
  mlp: { gateUp?: Dense; gate?: Dense; up?: Dense; down: Dense };
}

function ropeDecoderBlock(family: RopeDecoderFamily, c: RopeDecoderConfig, p: ParameterSet, i: number): RopeDecoderBlock {
  const l = `model.layers.${i}.`;
  const d = (name: string, bias: boolean): Dense => denseParams(p, `${l}${name}`, bias);
  return {
    window: c.slidingWindows[i],
    inputNorm: p.get(`${l}input_layernorm.weight`),
    attn: family.fused
      ? { qkv: d('self_attn.qkv_proj', c.biases.qkv), o: d('self_attn.o_proj', c.biases.o) }
      : { q: d('self_attn.q_proj', c.biases.qkv), k: d('self_attn.k_proj', c.biases.qkv), v: d('self_attn.v_proj', c.biases.qkv), o: d('self_attn.o_proj', c.biases.o) },
    postNorm: p.get(`${l}post_attention_layernorm.weight`),
    mlp: family.fused
      ? { gateUp: d('mlp.gate_up_proj', c.biases.mlp), down: d('mlp.down_proj', c.biases.mlp) }
      : { gate: d('mlp.gate_proj', c.biases.mlp), up: d('mlp.up_proj', c.biases.mlp), down: d('mlp.down_proj', c.biases.mlp) },
  };
}

/**
 * RMSNorm as Hugging Face's LlamaRMSNorm: in float32,
 * x / sqrt(mean(x^2) + eps), back to the input's dtype, times the weight.
 */
export function applyRmsNorm(x: Tensor, weight: Tensor, eps: number): Tensor {
  const x32 = x.dtype === 'float32' ? x : x.to({ dtype: 'float32' });
  const normed = x32.mul(x32.pow(2).mean([-1], true).add(eps).rsqrt());
  return weight.mul(normed.dtype === x.dtype ? normed : normed.to({ dtype: x.dtype }));
}

/** [B, K, T, D] -> [B, K * n, T, D], each key/value head repeated n times in place (HF repeat_kv). */
function repeatKv(x: Tensor, n: number): Tensor {
  if (n === 1) return x;
  const [b, k, t, d] = x.shape as [number, number, number, number];
  return x.unsqueeze(2).expand([b, k, n, t, d]).reshape([b, k * n, t, d]);
}

/** [B, T, heads * D] -> [B, heads, T, D] */
function heads(x: Tensor, count: number, d: number): Tensor {
  const [b, t] = x.shape as [number, number, number];
  return x.view([b, t, count, d]).transpose(1, 2);
}

/** Checkpoint names we do not keep: old checkpoints' rotary buffers, and lm_head when tied. */
function canonicalName(c: RopeDecoderConfig): (name: string) => string | null {
  return (name) => (/\.rotary_emb\.inv_freq$/.test(name) || (c.tieWordEmbeddings && name === 'lm_head.weight') ? null : name);
}

export class RopeDecoderForCausalLM implements CausalLM {
  readonly kind = 'causal';
  readonly modelType: string;
  readonly config: RopeDecoderConfig;
  training = false;
  private readonly masks = new MaskCache();
  private readonly embed: Tensor;
  private readonly finalNorm: Tensor;
  private readonly lmHead: Tensor;
  private readonly blocks: RopeDecoderBlock[];

  private constructor(
    readonly family: RopeDecoderFamily,
    readonly rawConfig: RawConfig,
    readonly parameters: ParameterSet,
    origin: string,
  ) {
    this.modelType = family.modelType;
    this.config = parseRopeDecoderConfig(family, rawConfig, origin);
    this.embed = parameters.get('model.embed_tokens.weight');
    this.finalNorm = parameters.get('model.norm.weight');
    this.lmHead = this.config.tieWordEmbeddings ? this.embed : parameters.get('lm_head.weight');
    this.blocks = Array.from({ length: this.config.numLayers }, (_, i) => ropeDecoderBlock(family, this.config, parameters, i));
  }

  /** The context HFLM scores with: max_position_embeddings. */
  get contextLength(): number {
    return this.config.maxPositions;
  }
  get vocabSize(): number {
    return this.config.vocabSize;
  }

  /** Randomly initialised as Hugging Face does: normal(0, initializer_range) weights, zero biases, unit norms. */
  static random(family: RopeDecoderFamily, rawConfig: RawConfig, placement: PlacementOptions = {}): RopeDecoderForCausalLM {
    const c = parseRopeDecoderConfig(family, rawConfig, 'config');
    const init = (name: string, shape: number[]): Tensor => {
      if (name.endsWith('layernorm.weight') || name === 'model.norm.weight') return ones(shape);
      if (name.endsWith('.bias')) return zeros(shape);
      return tidy(() => randn(shape).mul(c.initializerRange));
    };
    return new RopeDecoderForCausalLM(family, rawConfig, ParameterSet.initialized(ropeDecoderSpec(family, c), init, placement), 'config');
  }

  /** From checkpoint tensors (taken over). */
  static fromWeights(family: RopeDecoderFamily, rawConfig: RawConfig, weights: Iterable<[string, Tensor]>, origin: string, placement: PlacementOptions = {}): RopeDecoderForCausalLM {
    const c = parseRopeDecoderConfig(family, rawConfig, origin);
    const parameters = ParameterSet.fromCheckpoint(ropeDecoderSpec(family, c), weights, canonicalName(c), origin, placement);
    return new RopeDecoderForCausalLM(family, rawConfig, parameters, origin);
  }

  logits(ids: Tensor, attentionMask?: Tensor, cache?: KvCache): Tensor {
    return outputLogits(this.outputLayerInput(ids, attentionMask, cache));
  }

  outputLayerInput(ids: Tensor, attentionMask?: Tensor, cache?: KvCache): OutputLayerInput {
    const c = this.config;
    const T = ids.size(1);
    const past = cache?.length ?? 0;
    if (cache && attentionMask) throw new Error('logits: an attention mask with a key/value cache is not supported');
    if (past + T > c.maxPositions) throw new RangeError(`input of ${past + T} tokens is longer than the model's context (${c.maxPositions})`);
    const device = ids.device;
    const invFreq = this.masks.get(`rope@${device}`, () => inverseFrequencies(c.rope, device));
    // cos and sin [T, rotaryDim], made together once per length (from position
    // 0); a cached step's positions past..past+T-1 are made for that step.
    let cos: Tensor, sin: Tensor;
    if (past === 0) {
      cos = this.masks.get(`cos${T}@${device}`, () => {
        const tables = rotaryTables(invFreq, T);
        this.masks.get(`sin${T}@${device}`, () => tables.sin);
        return tables.cos;
      });
      sin = this.masks.get(`sin${T}@${device}`, () => rotaryTables(invFreq, T).sin);
    } else {
      ({ cos, sin } = rotaryTables(invFreq, T, past));
    }
    const padding = attentionMask ? paddingBlocked(attentionMask) : undefined; // [B, 1, 1, T]
    const x = embedding(this.embed, ids, c.padTokenId); // [B, T, C]
    const h = applyRmsNorm(
      runLayers(x, this.blocks, (L, xi, i) => this.block(L, xi, cos, sin, padding, past, cache, i)),
      this.finalNorm,
      c.rmsNormEps,
    );
    cache?.advance(T);
    return { hidden: h, weight: this.lmHead }; // the output layer: outputLogits (fp32 under bf16, see decoder.ts) or a fused loss
  }

  /** One block: x [B, T, C] at positions past.. -> [B, T, C]; with a cache, layer `index`'s keys and values join it. */
  private block(L: RopeDecoderBlock, x: Tensor, cos: Tensor, sin: Tensor, padding: Tensor | undefined, past: number, cache: KvCache | undefined, index: number): Tensor {
    const c = this.config;
    const { numHeads: H, numKvHeads: K, headDim: D } = c;
    const a = applyRmsNorm(x, L.inputNorm, c.rmsNormEps);
    let q: Tensor, k: Tensor, v: Tensor;
    if (L.attn.qkv) {
      [q, k, v] = applyLinear(a, L.attn.qkv).split([H * D, K * D, K * D], 2) as [Tensor, Tensor, Tensor];
    } else {
      [q, k, v] = [applyLinear(a, L.attn.q!), applyLinear(a, L.attn.k!), applyLinear(a, L.attn.v!)];
    }
    q = applyRotary(heads(q, H, D), cos, sin); // [B, H, T, D]
    k = applyRotary(heads(k, K, D), cos, sin); // [B, K, T, D]
    v = heads(v, K, D); // [B, K, T, D]
    if (cache) ({ k, v } = cache.extend(index, k, v)); // [B, K, past + T, D]
    const T = x.size(1);
    let blocked = past === 0 ? this.mask(L.window, T, x.device) : offsetCausalMask(past, T, L.window, x.device); // [T, past + T]
    if (padding) blocked = blocked!.logicalOr(padding);
    // Unpadded and uncached, the mask is exactly causal (or a sliding window) and the attention runs fused.
    const causal = padding || past > 0 ? {} : { causal: { window: L.window } };
    const y = attend(q, repeatKv(k, H / K), repeatKv(v, H / K), { scale: 1 / Math.sqrt(D), blocked, ...causal, dropoutP: c.attentionDropout, training: this.training });
    const [b, , t] = y.shape as [number, number, number, number];
    const x1 = x.add(dropout(applyLinear(y.transpose(1, 2).reshape([b, t, H * D]), L.attn.o), c.residDropout, this.training));
    const m = applyRmsNorm(x1, L.postNorm, c.rmsNormEps);
    let gate: Tensor, up: Tensor;
    if (L.mlp.gateUp) {
      [gate, up] = applyLinear(m, L.mlp.gateUp).chunk(2, -1) as [Tensor, Tensor];
    } else {
      [gate, up] = [applyLinear(m, L.mlp.gate!), applyLinear(m, L.mlp.up!)];
    }
    const hidden = gate.mul(gate.sigmoid()).mul(up); // SiLU(gate) * up: [B, T, I]
    return x1.add(dropout(applyLinear(hidden, L.mlp.down), c.residDropout, this.training));
  }

  private mask(window: number | undefined, t: number, device: string): Tensor {
    return this.masks.get(`${window ?? 'full'}:${t}@${device}`, () => (window === undefined ? causalMask(t, device) : localCausalMask(t, window, device)));
  }

  checkpointWeights(): Map<string, Tensor> {
    return new Map(this.parameters.entries());
  }

  dispose(): void {
    this.parameters.dispose();
    this.masks.dispose();
  }
}

/** `sliding_window` of a config: a positive integer, null (none), or `fallback` when the key is absent. */
export function slidingWindowOf(r: ConfigReader, fallback: number | undefined): number | undefined {
  const value = r.raw['sliding_window'];
  if (value === null) return undefined;
  if (value === undefined) return fallback;
  const window = r.int('sliding_window');
  if (window < 1) throw new Error(`${r.origin}: field "sliding_window" must be positive or null (got ${window})`);
  return window;
}

/** The Architecture (architecture.ts) of one family. */
export function ropeDecoderArchitecture(family: RopeDecoderFamily): Architecture {
  return {
    modelType: family.modelType,
    kind: 'causal',
    // Llama-3 and Qwen2 ship byte-level BPE; Llama-2, Mistral and Phi-3 a SentencePiece-style BPE.
    tokenizers: ['byte-level BPE', 'SentencePiece BPE'],
    fromWeights: (config, weights, origin, placement) => RopeDecoderForCausalLM.fromWeights(family, config, weights, origin, placement),
    random: (config, placement) => RopeDecoderForCausalLM.random(family, config, placement),
  };
}
