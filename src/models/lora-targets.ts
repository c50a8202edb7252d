// LoRA's default target modules per architecture, declared in one place as
// PEFT declares them (peft/utils/constants.py,
// TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING; lines of peft 0.21.0).
// A name matches a dense layer whose module name equals it or ends with
// "." + it (peft/tuners/tuners_utils.py check_target_module_exists). An
// architecture gets LoRA with one entry here, provided its dense layers are
// built with layers.ts denseParams / conv1DParams.

export interface LoraTargets {
  modules: readonly string[];
  /** Where PEFT declares it. */
  source: string;
}

export const LORA_TARGET_MODULES: Readonly<Record<string, LoraTargets>> = {
  gpt2: { modules: ['c_attn'], source: 'peft/utils/constants.py:71 (peft 0.21.0)' },
  gpt_neo: { modules: ['q_proj', 'v_proj'], source: 'peft/utils/constants.py:77 (peft 0.21.0)' },
  llama: { modules: ['q_proj', 'v_proj'], source: 'peft/utils/constants.py:85 (peft 0.21.0)' },
  mistral: { modules: ['q_proj', 'v_proj'], source: 'peft/utils/constants.py:95 (peft 0.21.0)' },
  qwen2: { modules: ['q_proj', 'v_proj'], source: 'peft/utils/constants.py:103 (peft 0.21.0)' },
  // phi3 (fused qkv_proj) has no entry in PEFT's mapping: --lora-targets names its modules.
};

/** The default targets of `modelType`, or an error that says to pass --lora-targets. */
export function defaultLoraTargets(modelType: string): readonly string[] {
  const targets = LORA_TARGET_MODULES[modelType];
  if (!targets) throw new Error(`no default LoRA target modules for model type ${modelType}: pass --lora-targets (module names, e.g. q_proj,v_proj)`);
  return targets.modules;
}
