// Models with Hugging Face weight names: GPT-2, GPT-Neo, RoBERTa, Llama, Mistral, Qwen2, Phi-3.
export type { Model, CausalLM, EncoderModel, AnyModel, OutputLayerInput } from './language-model.js';
export type { RawConfig } from './config.js';
export type { PlacementOptions } from './parameter-set.js';
export { Gpt2LMHeadModel, parseGpt2Config, type Gpt2Config } from './gpt2.js';
export { GptNeoForCausalLM, parseGptNeoConfig, type GptNeoConfig } from './gpt-neo.js';
export { RobertaModel, meanPooledEmbedding, parseRobertaConfig, type RobertaConfig } from './roberta.js';
export { loadModel, loadCausalLM, loadEncoder, createModel, saveModel, architectureOf, ARCHITECTURES, SUPPORTED_MODEL_TYPES } from './auto.js';
export { RopeDecoderForCausalLM, type RopeDecoderConfig, type RopeDecoderFamily } from './rope-decoder.js';
export type { Architecture } from './architecture.js';
export { causalLmLoss, fusedOutputLoss, fusedOutputLossApplies, maskedLmLoss } from './losses.js';
export { outputLogits } from './decoder.js';
export { generate, type GenerateOptions } from './generate.js';
export { checkTokenIds, checkTokenizerFits } from './tokenizer-pairing.js';
export { LoraAdapter, type LoraInit } from './lora.js';
export { readAdapterConfig, matchesTarget, ADAPTER_CONFIG, ADAPTER_WEIGHTS, type LoraConfig } from './lora-config.js';
export { LORA_TARGET_MODULES, defaultLoraTargets } from './lora-targets.js';
