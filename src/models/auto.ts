// AutoModel: picks the architecture by config.json's model_type, loads the
// weights in whichever format the directory has, and saves models back in
// the same Hugging Face layout.
import { join } from 'node:path';
import type { Tensor } from '../engine/index.js';
import { readModelConfig, readWeights, saveCheckpoint } from '../io/checkpoint.js';
import type { RawConfig } from './config.js';
import { GptNeoForCausalLM } from './gpt-neo.js';
import { Gpt2LMHeadModel } from './gpt2.js';
import type { AnyModel, CausalLM, EncoderModel } from './language-model.js';
import type { PlacementOptions } from './parameter-set.js';
import { RobertaModel } from './roberta.js';

export const SUPPORTED_MODEL_TYPES = ['gpt2', 'gpt_neo', 'roberta'] as const;

function modelType(config: RawConfig, origin: string): (typeof SUPPORTED_MODEL_TYPES)[number] {
  const type = config['model_type'];
  if (typeof type !== 'string') throw new Error(`${origin}: no "model_type" (supported: ${SUPPORTED_MODEL_TYPES.join(', ')})`);
  if (!(SUPPORTED_MODEL_TYPES as readonly string[]).includes(type)) {
    throw new Error(`${origin}: model_type "${type}" is not supported (supported: ${SUPPORTED_MODEL_TYPES.join(', ')})`);
  }
  return type as (typeof SUPPORTED_MODEL_TYPES)[number];
}

/** Loads a Hugging Face checkpoint directory. */
export function loadModel(dir: string, placement: PlacementOptions = {}): AnyModel {
  const config = readModelConfig(dir);
  const origin = join(dir, 'config.json');
  const type = modelType(config, origin);
  const weights: [string, Tensor][] = [];
  try {
    readWeights(dir, (name, t) => weights.push([name, t]));
  } catch (error) {
    for (const [, t] of weights) t.dispose();
    throw error;
  }
  try {
    switch (type) {
      case 'gpt2':
        return Gpt2LMHeadModel.fromWeights(config, weights, dir, placement);
      case 'gpt_neo':
        return GptNeoForCausalLM.fromWeights(config, weights, dir, placement);
      case 'roberta':
        return RobertaModel.fromWeights(config, weights, dir, placement);
    }
  } catch (error) {
    for (const [, t] of weights) t.dispose(); // idempotent: adopted ones are already freed
    throw error;
  }
}

export function loadCausalLM(dir: string, placement: PlacementOptions = {}): CausalLM {
  const model = loadModel(dir, placement);
  if (model.kind !== 'causal') {
    model.dispose();
    throw new Error(`${dir}: a causal language model is needed here (gpt2, gpt_neo), not ${model.modelType}`);
  }
  return model;
}

export function loadEncoder(dir: string, placement: PlacementOptions = {}): EncoderModel {
  const model = loadModel(dir, placement);
  if (model.kind !== 'encoder') {
    model.dispose();
    throw new Error(`${dir}: an encoder is needed here (roberta), not ${model.modelType}`);
  }
  return model;
}

/** A randomly initialised model of the given config (seed with manualSeed first). */
export function createModel(config: RawConfig, placement: PlacementOptions = {}): AnyModel {
  switch (modelType(config, 'config')) {
    case 'gpt2':
      return Gpt2LMHeadModel.random(config, placement);
    case 'gpt_neo':
      return GptNeoForCausalLM.random(config, placement);
    case 'roberta':
      return RobertaModel.random(config, true, placement);
  }
}

/** Writes config.json and model.safetensors (sharded above maxShardBytes). */
export function saveModel(model: AnyModel, dir: string, maxShardBytes = Infinity): void {
  saveCheckpoint(dir, model.rawConfig, model.checkpointWeights(), maxShardBytes);
}
