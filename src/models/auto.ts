// AutoModel: picks the architecture by config.json's model_type, loads the
// weights in whichever format the directory has, and saves models back in
// the same Hugging Face layout.
import { join } from 'node:path';
import type { Tensor } from '../engine/index.js';
import { readModelConfig, readWeights, saveCheckpoint } from '../io/checkpoint.js';
import type { Architecture } from './architecture.js';
import type { RawConfig } from './config.js';
import { BERT_ARCHITECTURE } from './bert.js';
import { GPT_NEO_ARCHITECTURE } from './gpt-neo.js';
import { GPT2_ARCHITECTURE } from './gpt2.js';
import type { AnyModel, CausalLM, EncoderModel } from './language-model.js';
import { LLAMA_ARCHITECTURE } from './llama.js';
import { MISTRAL_ARCHITECTURE } from './mistral.js';
import { describeModelTypes } from './model-types.js';
import { placeTensor, type PlacementOptions } from './parameter-set.js';
import { PHI3_ARCHITECTURE } from './phi3.js';
import { QWEN2_ARCHITECTURE } from './qwen2.js';
import { ROBERTA_ARCHITECTURE } from './roberta.js';

/** Every architecture tttnn loads, by model_type. */
export const ARCHITECTURES: readonly Architecture[] = [
  GPT2_ARCHITECTURE,
  GPT_NEO_ARCHITECTURE,
  ROBERTA_ARCHITECTURE,
  LLAMA_ARCHITECTURE,
  MISTRAL_ARCHITECTURE,
  QWEN2_ARCHITECTURE,
  PHI3_ARCHITECTURE,
  BERT_ARCHITECTURE,
];

export const SUPPORTED_MODEL_TYPES: readonly string[] = ARCHITECTURES.map((a) => a.modelType);

const typesOf = (kind: AnyModel['kind']): string => ARCHITECTURES.filter((a) => a.kind === kind).map((a) => a.modelType).join(', ');
for (const kind of ['causal', 'encoder'] as const) {
  if (typesOf(kind) !== describeModelTypes(kind)) throw new Error(`models/model-types.ts lists ${describeModelTypes(kind)} as ${kind}, the registry ${typesOf(kind)}`);
}

/** The architecture config.json names. */
/** The architecture of `modelType`, or undefined. */
export function findArchitecture(modelType: string): Architecture | undefined {
  return ARCHITECTURES.find((a) => a.modelType === modelType);
}

export function architectureOf(config: RawConfig, origin: string): Architecture {
  const type = config['model_type'];
  if (typeof type !== 'string') throw new Error(`${origin}: no "model_type" (supported: ${SUPPORTED_MODEL_TYPES.join(', ')})`);
  const architecture = findArchitecture(type);
  if (!architecture) throw new Error(`${origin}: model_type "${type}" is not supported (supported: ${SUPPORTED_MODEL_TYPES.join(', ')})`);
  return architecture;
}

/**
 * Loads a Hugging Face checkpoint directory. Each tensor is converted to the
 * placement's dtype and device as it is read, so a bf16 or fp16 checkpoint
 * is never held beside its float32 copy (peak: the float32 weights plus one
 * tensor as stored).
 */
export function loadModel(dir: string, placement: PlacementOptions = {}): AnyModel {
  const config = readModelConfig(dir);
  const architecture = architectureOf(config, join(dir, 'config.json'));
  const weights: [string, Tensor][] = [];
  try {
    readWeights(dir, (name, t) => weights.push([name, placeTensor(t, placement)]));
  } catch (error) {
    for (const [, t] of weights) t.dispose();
    throw error;
  }
  try {
    return architecture.fromWeights(config, weights, dir, placement);
  } catch (error) {
    for (const [, t] of weights) t.dispose(); // idempotent: adopted ones are already freed
    throw error;
  }
}

export function loadCausalLM(dir: string, placement: PlacementOptions = {}): CausalLM {
  const model = loadModel(dir, placement);
  if (model.kind !== 'causal') {
    model.dispose();
    throw new Error(`${dir}: a causal language model is needed here (${typesOf('causal')}), not ${model.modelType}`);
  }
  return model;
}

export function loadEncoder(dir: string, placement: PlacementOptions = {}): EncoderModel {
  const model = loadModel(dir, placement);
  if (model.kind !== 'encoder') {
    model.dispose();
    throw new Error(`${dir}: an encoder is needed here (${typesOf('encoder')}), not ${model.modelType}`);
  }
  return model;
}

/** A randomly initialised model of the given config (seed with manualSeed first). */
export function createModel(config: RawConfig, placement: PlacementOptions = {}): AnyModel {
  return architectureOf(config, 'config').random(config, placement);
}

/** Writes config.json and model.safetensors (sharded above maxShardBytes). */
export function saveModel(model: AnyModel, dir: string, maxShardBytes = Infinity): void {
  saveCheckpoint(dir, model.rawConfig, model.checkpointWeights(), maxShardBytes);
}
