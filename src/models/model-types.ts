// The model_type names tttnn loads, by kind, without loading the native
// engine: the CLI's --help states them before the addon is built
// (cli/precision-option.ts says why that matters). auto.ts checks at load
// that its registry of architectures names exactly these.
export const CAUSAL_MODEL_TYPES = ['gpt2', 'gpt_neo', 'llama', 'mistral', 'qwen2', 'phi3'] as const;
export const ENCODER_MODEL_TYPES = ['roberta', 'bert'] as const;

/** "gpt2, gpt_neo, …" for help texts and errors. */
export const describeModelTypes = (kind: 'causal' | 'encoder'): string => (kind === 'causal' ? CAUSAL_MODEL_TYPES : ENCODER_MODEL_TYPES).join(', ');
