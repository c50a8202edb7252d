// What every model offers the rest of tttnn, whatever its architecture.
import type { Tensor } from '../engine/index.js';
import type { RawConfig } from './config.js';
import type { KvCache } from './kv-cache.js';
import type { ParameterSet } from './parameter-set.js';

export interface Model {
  /** Hugging Face model_type: gpt2, gpt_neo, roberta. */
  readonly modelType: string;
  /** config.json as loaded (written back on save). */
  readonly rawConfig: RawConfig;
  readonly parameters: ParameterSet;
  /** Dropout on (training) or off (evaluation). Models start in evaluation mode. */
  training: boolean;
  /** Weights with Hugging Face names, as the checkpoint stores them (tied copies omitted). */
  checkpointWeights(): Map<string, Tensor>;
  dispose(): void;
}

/** A decoder that predicts the next token (GPT-2, GPT-Neo). */
export interface CausalLM extends Model {
  readonly kind: 'causal';
  /** Longest input the positional embeddings allow. */
  readonly contextLength: number;
  readonly vocabSize: number;
  /**
   * ids [B, T] int64 -> next-token logits [B, T, V]. attentionMask [B, T]: 1 token, 0 padding.
   * With `cache` (incremental decoding, no attentionMask): ids are the tokens
   * after the cache's `length` positions; their keys and values join the cache.
   */
  logits(ids: Tensor, attentionMask?: Tensor, cache?: KvCache): Tensor;
  /**
   * What the output layer gets: the final hidden states [B, T, C] and the
   * output weight [V, C] (logits = hidden W^T, in fp32). For losses that fuse
   * the output layer with the cross entropy (models/losses.ts) instead of
   * making the [B, T, V] logits. `cache` as for logits.
   */
  outputLayerInput(ids: Tensor, attentionMask?: Tensor, cache?: KvCache): OutputLayerInput;
}

export interface OutputLayerInput {
  hidden: Tensor;
  weight: Tensor;
}

/** An encoder (RoBERTa): hidden states, masked-LM logits, sentence embeddings. */
export interface EncoderModel extends Model {
  readonly kind: 'encoder';
  readonly contextLength: number;
  readonly vocabSize: number;
  readonly hiddenSize: number;
  readonly hasMlmHead: boolean;
  /** ids [B, T], attentionMask [B, T] -> last hidden states [B, T, C]. */
  hiddenStates(ids: Tensor, attentionMask?: Tensor): Tensor;
  /** ids [B, T] -> masked-LM logits [B, T, V] (needs the MLM head). */
  mlmLogits(ids: Tensor, attentionMask?: Tensor): Tensor;
}

export type AnyModel = CausalLM | EncoderModel;
