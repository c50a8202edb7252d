// RoBERTa (Hugging Face RobertaModel / RobertaForMaskedLM), readable top to
// bottom, plus the mean-pooled sentence embedding TTT-NN indexes with. BERT
// (bert.ts) is the same encoder with positions counted from 0: one class
// runs both, told apart by an EncoderFlavor.
//
// Parity details: position ids count only non-padding tokens and start
// after padding_idx; LayerNorm comes after each residual (post-LN); GELU is
// exact; the MLM decoder shares the word embedding matrix and has its own
// bias (lm_head.bias).
// Shapes: B batch, T tokens, C = hidden_size, H = heads, V = vocab_size.
import { arange, dropout, embedding, gelu, linear, ones, randn, tidy, withPrecision, zeros, type Tensor } from '../engine/index.js';
import { attend, mergeHeads, paddingBlocked, splitHeads } from './attention.js';
import { ConfigReader, MAX_LAYERS, checkModelFits, geluVariant, type RawConfig } from './config.js';
import { applyLinear, applyNorm, denseParams, normParams, runLayers, type Dense, type Norm } from './layers.js';
import type { Architecture } from './architecture.js';
import { ORIGINAL_POOLING, poolHiddenStates } from './pooling.js';
import type { EncoderModel } from './language-model.js';
import { ParameterSet, type ParameterSpec, type PlacementOptions } from './parameter-set.js';

export interface RobertaConfig {
  vocabSize: number;
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  intermediateSize: number;
  maxPositions: number;
  typeVocabSize: number;
  layerNormEps: number;
  padTokenId: number;
  activation: 'none' | 'tanh';
  hiddenDropout: number;
  attentionDropout: number;
  initializerRange: number;
}

/** What tells BERT and RoBERTa apart (the layers are the same, with the same names). */
export interface EncoderFlavor {
  readonly modelType: 'roberta' | 'bert';
  /** The prefix of ForMaskedLM checkpoints' encoder weights (bare *Model checkpoints have none). */
  readonly prefix: 'roberta.' | 'bert.';
  /** RoBERTa's position ids count non-padding tokens from pad_token_id + 1; BERT's are 0, 1, 2, … */
  readonly positions: 'after-padding' | 'from-zero';
}

export const ROBERTA_FLAVOR: EncoderFlavor = { modelType: 'roberta', prefix: 'roberta.', positions: 'after-padding' };

export function parseRobertaConfig(raw: RawConfig, origin: string, flavor: EncoderFlavor = ROBERTA_FLAVOR): RobertaConfig {
  const r = new ConfigReader(raw, origin);
  const config: RobertaConfig = {
    vocabSize: r.size('vocab_size', 50265),
    hiddenSize: r.size('hidden_size', 768),
    numLayers: r.size('num_hidden_layers', 12, MAX_LAYERS),
    numHeads: r.size('num_attention_heads', 12),
    intermediateSize: r.size('intermediate_size', 3072),
    maxPositions: r.size('max_position_embeddings', 514),
    typeVocabSize: r.size('type_vocab_size', 1),
    layerNormEps: r.epsilon('layer_norm_eps', 1e-5),
    padTokenId: r.int('pad_token_id', flavor.positions === 'after-padding' ? 1 : 0),
    activation: geluVariant(r, 'hidden_act', 'gelu'),
    hiddenDropout: r.probability('hidden_dropout_prob', 0.1),
    attentionDropout: r.probability('attention_probs_dropout_prob', 0.1),
    initializerRange: r.nonNegative('initializer_range', 0.02),
  };
  r.divisible('hidden_size', config.hiddenSize, config.numHeads, 'num_attention_heads');
  if (config.padTokenId >= config.vocabSize || (flavor.positions === 'after-padding' && config.padTokenId + 1 >= config.maxPositions)) {
    throw new Error(`${origin}: pad_token_id (${config.padTokenId}) must be below vocab_size (${config.vocabSize}) and below max_position_embeddings - 1 (${config.maxPositions - 1}): RoBERTa's positions start after it`);
  }
  const positionType = r.string('position_embedding_type', 'absolute');
  if (positionType !== 'absolute') throw new Error(`${origin}: position_embedding_type "${positionType}" is not supported (supported: absolute)`);
  checkModelFits(robertaSpec(config, true, flavor), origin, 'vocab_size, max_position_embeddings, hidden_size, intermediate_size and num_hidden_layers');
  return config;
}

function robertaSpec(c: RobertaConfig, withMlmHead: boolean, flavor: EncoderFlavor): ParameterSpec {
  const C = c.hiddenSize;
  const I = c.intermediateSize;
  const e = `${flavor.prefix}embeddings.`;
  const spec: ParameterSpec = new Map([
    [`${e}word_embeddings.weight`, [c.vocabSize, C]],
    [`${e}position_embeddings.weight`, [c.maxPositions, C]],
    [`${e}token_type_embeddings.weight`, [c.typeVocabSize, C]],
    [`${e}LayerNorm.weight`, [C]],
    [`${e}LayerNorm.bias`, [C]],
  ]);
  for (let i = 0; i < c.numLayers; i++) {
    const p = `${flavor.prefix}encoder.layer.${i}.`;
    for (const proj of ['query', 'key', 'value']) spec.set(`${p}attention.self.${proj}.weight`, [C, C]).set(`${p}attention.self.${proj}.bias`, [C]);
    spec.set(`${p}attention.output.dense.weight`, [C, C]).set(`${p}attention.output.dense.bias`, [C]);
    spec.set(`${p}attention.output.LayerNorm.weight`, [C]).set(`${p}attention.output.LayerNorm.bias`, [C]);
    spec.set(`${p}intermediate.dense.weight`, [I, C]).set(`${p}intermediate.dense.bias`, [I]);
    spec.set(`${p}output.dense.weight`, [C, I]).set(`${p}output.dense.bias`, [C]);
    spec.set(`${p}output.LayerNorm.weight`, [C]).set(`${p}output.LayerNorm.bias`, [C]);
  }
  if (withMlmHead) {
    spec.set('lm_head.dense.weight', [C, C]).set('lm_head.dense.bias', [C]);
    spec.set('lm_head.layer_norm.weight', [C]).set('lm_head.layer_norm.bias', [C]);
    spec.set('lm_head.bias', [c.vocabSize]);
  }
  return spec;
}

/** The embeddings' parameters. */
interface RobertaEmbeddings {
  word: Tensor;
  position: Tensor;
  tokenType: Tensor;
  ln: Norm;
}

/** One encoder layer's parameters (nn.Linear weights [out, in]; post-LN: each norm after its residual). */
interface RobertaLayer {
  attn: { q: Dense; k: Dense; v: Dense; out: Dense; ln: Norm };
  mlp: { fc: Dense; out: Dense; ln: Norm };
}

/** The masked-LM head (its decoder is tied to the word embeddings). */
interface RobertaMlmHead {
  dense: Dense;
  ln: Norm;
  bias: Tensor;
}

function robertaLayer(p: ParameterSet, i: number, flavor: EncoderFlavor): RobertaLayer {
  const l = `${flavor.prefix}encoder.layer.${i}.`;
  return {
    attn: {
      q: denseParams(p, `${l}attention.self.query`),
      k: denseParams(p, `${l}attention.self.key`),
      v: denseParams(p, `${l}attention.self.value`),
      out: denseParams(p, `${l}attention.output.dense`),
      ln: normParams(p, `${l}attention.output.LayerNorm`),
    },
    mlp: { fc: denseParams(p, `${l}intermediate.dense`), out: denseParams(p, `${l}output.dense`), ln: normParams(p, `${l}output.LayerNorm`) },
  };
}

/**
 * Checkpoint name -> ours; null for the tied decoder, the pooler and buffers,
 * and for BERT's pre-training heads (cls.*: tttnn reads BERT as an embedder
 * only).
 */
function canonicalEncoderName(name: string, flavor: EncoderFlavor): string | null {
  if (name === 'lm_head.decoder.weight' || name === 'lm_head.decoder.bias') return null;
  if (name.endsWith('position_ids') || name.includes('pooler.') || name.startsWith('cls.')) return null;
  if (name.startsWith('lm_head.') || name.startsWith(flavor.prefix)) return name;
  return `${flavor.prefix}${name}`; // RobertaModel / BertModel checkpoints have no prefix
}

export class RobertaModel implements EncoderModel {
  readonly kind = 'encoder';
  readonly modelType: EncoderFlavor['modelType'];
  readonly config: RobertaConfig;
  training = false;
  private readonly embeddings: RobertaEmbeddings;
  private readonly layers: RobertaLayer[];
  private readonly mlmHead: RobertaMlmHead | undefined;

  private constructor(
    readonly rawConfig: RawConfig,
    readonly parameters: ParameterSet,
    readonly hasMlmHead: boolean,
    origin: string,
    readonly flavor: EncoderFlavor,
  ) {
    this.modelType = flavor.modelType;
    this.config = parseRobertaConfig(rawConfig, origin, flavor);
    const e = `${flavor.prefix}embeddings.`;
    this.embeddings = {
      word: parameters.get(`${e}word_embeddings.weight`),
      position: parameters.get(`${e}position_embeddings.weight`),
      tokenType: parameters.get(`${e}token_type_embeddings.weight`),
      ln: normParams(parameters, `${e}LayerNorm`),
    };
    this.layers = Array.from({ length: this.config.numLayers }, (_, i) => robertaLayer(parameters, i, flavor));
    this.mlmHead = hasMlmHead ? { dense: denseParams(parameters, 'lm_head.dense'), ln: normParams(parameters, 'lm_head.layer_norm'), bias: parameters.get('lm_head.bias') } : undefined;
  }

  get contextLength(): number {
    // RoBERTa's positions start after padding_idx: 514 embeddings hold 512 tokens.
    return this.flavor.positions === 'after-padding' ? this.config.maxPositions - this.config.padTokenId - 1 : this.config.maxPositions;
  }
  get vocabSize(): number {
    return this.config.vocabSize;
  }
  get hiddenSize(): number {
    return this.config.hiddenSize;
  }

  static random(rawConfig: RawConfig, withMlmHead = true, placement: PlacementOptions = {}, flavor: EncoderFlavor = ROBERTA_FLAVOR): RobertaModel {
    const c = parseRobertaConfig(rawConfig, 'config', flavor);
    const init = (name: string, shape: number[]): Tensor => {
      if (/LayerNorm\.weight$|layer_norm\.weight$/.test(name)) return ones(shape);
      if (name.endsWith('.bias') || name === 'lm_head.bias') return zeros(shape);
      return tidy(() => {
        const w = randn(shape).mul(c.initializerRange);
        // nn.Embedding(padding_idx): the padding row starts at zero (BERT's positions have none).
        const padded = name.endsWith('word_embeddings.weight') || (flavor.positions === 'after-padding' && name.endsWith('position_embeddings.weight'));
        if (padded) w.narrow(0, c.padTokenId, 1).fill_(0);
        return w;
      });
    };
    return new RobertaModel(rawConfig, ParameterSet.initialized(robertaSpec(c, withMlmHead, flavor), init, placement), withMlmHead, 'config', flavor);
  }

  static fromWeights(rawConfig: RawConfig, weights: Iterable<[string, Tensor]>, origin: string, placement: PlacementOptions = {}, flavor: EncoderFlavor = ROBERTA_FLAVOR): RobertaModel {
    const c = parseRobertaConfig(rawConfig, origin, flavor);
    const all = [...weights];
    const withMlmHead = flavor.modelType === 'roberta' && all.some(([name]) => name.startsWith('lm_head.'));
    const parameters = ParameterSet.fromCheckpoint(robertaSpec(c, withMlmHead, flavor), all, (name) => canonicalEncoderName(name, flavor), origin, placement);
    return new RobertaModel(rawConfig, parameters, withMlmHead, origin, flavor);
  }

  /** Position ids: RoBERTa's as Hugging Face's create_position_ids_from_input_ids, BERT's 0..T-1: [B, T]. */
  positionIds(ids: Tensor): Tensor {
    if (this.flavor.positions === 'from-zero') {
      const [B, T] = ids.shape as [number, number];
      return arange(0, T, 1, { dtype: 'int64', device: ids.device }).unsqueeze(0).expand([B, T]);
    }
    const notPad = ids.ne(this.config.padTokenId).to({ dtype: 'int64' });
    return notPad.cumsum(1).mul(notPad).add(this.config.padTokenId);
  }

  hiddenStates(ids: Tensor, attentionMask?: Tensor): Tensor {
    const c = this.config;
    const [, T] = ids.shape as [number, number];
    if (T > this.contextLength) throw new RangeError(`input of ${T} tokens is longer than the encoder's context (${this.contextLength})`);
    const E = this.embeddings;
    const x = embedding(E.word, ids)
      .add(embedding(E.position, this.positionIds(ids)))
      .add(E.tokenType.select(0, 0)); // token type 0 everywhere: [B, T, C]
    const embedded = dropout(applyNorm(x, E.ln, c.layerNormEps), c.hiddenDropout, this.training);
    const blocked = attentionMask ? paddingBlocked(attentionMask) : undefined; // [B, 1, 1, T], true at padding keys
    return runLayers(embedded, this.layers, (L, h) => this.layer(L, h, blocked));
  }

  /** One encoder layer (post-LN): x [B, T, C] -> [B, T, C]; blocked [B, 1, 1, T] or undefined. */
  private layer(L: RobertaLayer, x: Tensor, blocked: Tensor | undefined): Tensor {
    const c = this.config;
    const drop = (t: Tensor): Tensor => dropout(t, c.hiddenDropout, this.training);
    const [q, k, v] = [L.attn.q, L.attn.k, L.attn.v].map((proj) => splitHeads(applyLinear(x, proj), c.numHeads)) as [Tensor, Tensor, Tensor]; // [B, H, T, D]
    const scale = 1 / Math.sqrt(c.hiddenSize / c.numHeads);
    const y = attend(q, k, v, { scale, blocked, dropoutP: c.attentionDropout, training: this.training });
    const x1 = applyNorm(drop(applyLinear(mergeHeads(y), L.attn.out)).add(x), L.attn.ln, c.layerNormEps);
    const hidden = gelu(applyLinear(x1, L.mlp.fc), c.activation); // [B, T, I]
    return applyNorm(drop(applyLinear(hidden, L.mlp.out)).add(x1), L.mlp.ln, c.layerNormEps);
  }

  mlmLogits(ids: Tensor, attentionMask?: Tensor): Tensor {
    const head = this.mlmHead;
    if (!head) throw new Error(`this ${this.modelType} checkpoint has no masked-LM head tttnn reads (RoBERTa's lm_head.*)`);
    const hidden = this.hiddenStates(ids, attentionMask); // [B, T, C]
    // The head runs in fp32 under bf16 mixed precision, as the causal LMs' output layer (see decoder.ts).
    return withPrecision('fp32', () => {
      const h = gelu(applyLinear(hidden, head.dense), 'none');
      return linear(applyNorm(h, head.ln, this.config.layerNormEps), this.embeddings.word, head.bias); // tied decoder: [B, T, V]
    });
  }

  checkpointWeights(): Map<string, Tensor> {
    return new Map(this.parameters.entries());
  }

  dispose(): void {
    this.parameters.dispose();
  }
}

/**
 * The original's sentence embedding: the mean of the last hidden states over
 * non-padding tokens (tttlm code/text_embedding.py:67-73). ids, attentionMask [B, T] -> [B, C].
 */
export function meanPooledEmbedding(model: EncoderModel, ids: Tensor, attentionMask: Tensor): Tensor {
  return poolHiddenStates(model.hiddenStates(ids, attentionMask), attentionMask, ORIGINAL_POOLING);
}

export const ROBERTA_ARCHITECTURE: Architecture = {
  modelType: 'roberta',
  kind: 'encoder',
  tokenizers: ['byte-level BPE'],
  fromWeights: (config, weights, origin, placement) => RobertaModel.fromWeights(config, weights, origin, placement),
  random: (config, placement) => RobertaModel.random(config, true, placement),
};
