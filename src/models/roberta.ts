// RoBERTa (Hugging Face RobertaModel / RobertaForMaskedLM), readable top to
// bottom, plus the mean-pooled sentence embedding TTT-NN indexes with.
//
// Parity details: position ids count only non-padding tokens and start
// after padding_idx; LayerNorm comes after each residual (post-LN); GELU is
// exact; the MLM decoder shares the word embedding matrix and has its own
// bias (lm_head.bias).
// Shapes: B batch, T tokens, C = hidden_size, H = heads, V = vocab_size.
import { dropout, embedding, gelu, layerNorm, linear, ones, randn, tidy, withPrecision, zeros, type Tensor } from '../engine/index.js';
import { attend, mergeHeads, paddingBlocked, splitHeads } from './attention.js';
import { ConfigReader, geluVariant, type RawConfig } from './config.js';
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

export function parseRobertaConfig(raw: RawConfig, origin: string): RobertaConfig {
  const r = new ConfigReader(raw, origin);
  const config: RobertaConfig = {
    vocabSize: r.int('vocab_size', 50265),
    hiddenSize: r.int('hidden_size', 768),
    numLayers: r.int('num_hidden_layers', 12),
    numHeads: r.int('num_attention_heads', 12),
    intermediateSize: r.int('intermediate_size', 3072),
    maxPositions: r.int('max_position_embeddings', 514),
    typeVocabSize: r.int('type_vocab_size', 1),
    layerNormEps: r.number('layer_norm_eps', 1e-5),
    padTokenId: r.int('pad_token_id', 1),
    activation: geluVariant(r, 'hidden_act', 'gelu'),
    hiddenDropout: r.number('hidden_dropout_prob', 0.1),
    attentionDropout: r.number('attention_probs_dropout_prob', 0.1),
    initializerRange: r.number('initializer_range', 0.02),
  };
  r.divisible('hidden_size', config.hiddenSize, config.numHeads, 'num_attention_heads');
  const positionType = r.string('position_embedding_type', 'absolute');
  if (positionType !== 'absolute') throw new Error(`${origin}: position_embedding_type "${positionType}" is not supported (supported: absolute)`);
  return config;
}

function robertaSpec(c: RobertaConfig, withMlmHead: boolean): ParameterSpec {
  const C = c.hiddenSize;
  const I = c.intermediateSize;
  const e = 'roberta.embeddings.';
  const spec: ParameterSpec = new Map([
    [`${e}word_embeddings.weight`, [c.vocabSize, C]],
    [`${e}position_embeddings.weight`, [c.maxPositions, C]],
    [`${e}token_type_embeddings.weight`, [c.typeVocabSize, C]],
    [`${e}LayerNorm.weight`, [C]],
    [`${e}LayerNorm.bias`, [C]],
  ]);
  for (let i = 0; i < c.numLayers; i++) {
    const p = `roberta.encoder.layer.${i}.`;
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

/** Checkpoint name -> ours; null for the tied decoder, the pooler and buffers. */
function canonicalRobertaName(name: string): string | null {
  if (name === 'lm_head.decoder.weight' || name === 'lm_head.decoder.bias') return null;
  if (name.endsWith('position_ids') || name.includes('pooler.')) return null;
  if (name.startsWith('lm_head.') || name.startsWith('roberta.')) return name;
  return `roberta.${name}`; // RobertaModel checkpoints have no prefix
}

export class RobertaModel implements EncoderModel {
  readonly kind = 'encoder';
  readonly modelType = 'roberta';
  readonly config: RobertaConfig;
  training = false;

  private constructor(
    readonly rawConfig: RawConfig,
    readonly parameters: ParameterSet,
    readonly hasMlmHead: boolean,
    origin: string,
  ) {
    this.config = parseRobertaConfig(rawConfig, origin);
  }

  get contextLength(): number {
    // Positions start after padding_idx: 514 embeddings hold 512 tokens.
    return this.config.maxPositions - this.config.padTokenId - 1;
  }
  get vocabSize(): number {
    return this.config.vocabSize;
  }
  get hiddenSize(): number {
    return this.config.hiddenSize;
  }

  static random(rawConfig: RawConfig, withMlmHead = true, placement: PlacementOptions = {}): RobertaModel {
    const c = parseRobertaConfig(rawConfig, 'config');
    const init = (name: string, shape: number[]): Tensor => {
      if (/LayerNorm\.weight$|layer_norm\.weight$/.test(name)) return ones(shape);
      if (name.endsWith('.bias') || name === 'lm_head.bias') return zeros(shape);
      return tidy(() => {
        const w = randn(shape).mul(c.initializerRange);
        // nn.Embedding(padding_idx): the padding row starts at zero.
        if (name.endsWith('word_embeddings.weight') || name.endsWith('position_embeddings.weight')) w.narrow(0, c.padTokenId, 1).fill_(0);
        return w;
      });
    };
    return new RobertaModel(rawConfig, ParameterSet.initialized(robertaSpec(c, withMlmHead), init, placement), withMlmHead, 'config');
  }

  static fromWeights(rawConfig: RawConfig, weights: Iterable<[string, Tensor]>, origin: string, placement: PlacementOptions = {}): RobertaModel {
    const c = parseRobertaConfig(rawConfig, origin);
    const all = [...weights];
    const withMlmHead = all.some(([name]) => name.startsWith('lm_head.'));
    const { parameters } = ParameterSet.fromCheckpoint(robertaSpec(c, withMlmHead), all, canonicalRobertaName, origin, placement);
    return new RobertaModel(rawConfig, parameters, withMlmHead, origin);
  }

  /** Position ids as Hugging Face's create_position_ids_from_input_ids: [B, T]. */
  positionIds(ids: Tensor): Tensor {
    const notPad = ids.ne(this.config.padTokenId).to({ dtype: 'int64' });
    return notPad.cumsum(1).mul(notPad).add(this.config.padTokenId);
  }

  hiddenStates(ids: Tensor, attentionMask?: Tensor): Tensor {
    const c = this.config;
    const [, T] = ids.shape as [number, number];
    if (T > this.contextLength) throw new RangeError(`input of ${T} tokens is longer than the encoder's context (${this.contextLength})`);
    const p = (name: string): Tensor => this.parameters.get(name);
    const drop = (x: Tensor, rate: number): Tensor => dropout(x, rate, this.training);
    const ln = (x: Tensor, prefix: string): Tensor => layerNorm(x, [c.hiddenSize], p(`${prefix}.weight`), p(`${prefix}.bias`), c.layerNormEps);
    const e = 'roberta.embeddings.';

    let x = embedding(p(`${e}word_embeddings.weight`), ids)
      .add(embedding(p(`${e}position_embeddings.weight`), this.positionIds(ids)))
      .add(p(`${e}token_type_embeddings.weight`).select(0, 0)); // token type 0 everywhere: [B, T, C]
    x = drop(ln(x, `${e}LayerNorm`), c.hiddenDropout);
    const blocked = attentionMask ? paddingBlocked(attentionMask) : undefined; // [B, 1, 1, T], true at padding keys

    // One scope per layer, so intermediates are freed as each layer returns.
    for (let i = 0; i < c.numLayers; i++) {
      const input = x;
      x = tidy(() => this.layer(i, input, blocked));
    }
    return x;
  }

  /** One encoder layer (post-LN): x [B, T, C] -> [B, T, C]; blocked [B, 1, 1, T] or undefined. */
  private layer(i: number, x: Tensor, blocked: Tensor | undefined): Tensor {
    const c = this.config;
    const p = (name: string): Tensor => this.parameters.get(name);
    const drop = (t: Tensor, rate: number): Tensor => dropout(t, rate, this.training);
    const ln = (t: Tensor, prefix: string): Tensor => layerNorm(t, [c.hiddenSize], p(`${prefix}.weight`), p(`${prefix}.bias`), c.layerNormEps);
    const l = `roberta.encoder.layer.${i}.`;
    const proj = (name: string): Tensor => splitHeads(linear(x, p(`${l}attention.self.${name}.weight`), p(`${l}attention.self.${name}.bias`)), c.numHeads);
    const scale = 1 / Math.sqrt(c.hiddenSize / c.numHeads);
    const y = attend(proj('query'), proj('key'), proj('value'), { scale, blocked, dropoutP: c.attentionDropout, training: this.training });
    const attnOut = linear(mergeHeads(y), p(`${l}attention.output.dense.weight`), p(`${l}attention.output.dense.bias`));
    const x1 = ln(drop(attnOut, c.hiddenDropout).add(x), `${l}attention.output.LayerNorm`);
    const hidden = gelu(linear(x1, p(`${l}intermediate.dense.weight`), p(`${l}intermediate.dense.bias`)), c.activation); // [B, T, I]
    const out = linear(hidden, p(`${l}output.dense.weight`), p(`${l}output.dense.bias`));
    return ln(drop(out, c.hiddenDropout).add(x1), `${l}output.LayerNorm`);
  }

  mlmLogits(ids: Tensor, attentionMask?: Tensor): Tensor {
    if (!this.hasMlmHead) throw new Error('this RoBERTa checkpoint has no masked-LM head (lm_head.*)');
    const c = this.config;
    const p = (name: string): Tensor => this.parameters.get(name);
    const hidden = this.hiddenStates(ids, attentionMask); // [B, T, C]
    // The head runs in fp32 under bf16 mixed precision, as the causal LMs' output layer (see decoder.ts).
    return withPrecision('fp32', () => {
      const h = gelu(linear(hidden, p('lm_head.dense.weight'), p('lm_head.dense.bias')), 'none');
      const normed = layerNorm(h, [c.hiddenSize], p('lm_head.layer_norm.weight'), p('lm_head.layer_norm.bias'), c.layerNormEps);
      return linear(normed, p('roberta.embeddings.word_embeddings.weight'), p('lm_head.bias')); // tied decoder: [B, T, V]
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
 * non-padding tokens. ids, attentionMask [B, T] -> [B, C].
 */
export function meanPooledEmbedding(model: EncoderModel, ids: Tensor, attentionMask: Tensor): Tensor {
  const hidden = model.hiddenStates(ids, attentionMask); // [B, T, C]
  const mask = attentionMask.to({ dtype: hidden.dtype }).unsqueeze(-1); // [B, T, 1]
  return hidden.mul(mask).sum([1]).div(mask.sum([1]).clamp(1e-9)); // [B, C]
}
