// A PEFT LoRA adapter's configuration (adapter_config.json) and PEFT's
// target-module rule. No tensors here: the evaluation settings read an
// adapter's rank, alpha and targets as defaults without loading the engine.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface LoraConfig {
  rank: number;
  alpha: number;
  dropout: number;
  /** PEFT's target_modules: module-name suffixes, or one regular expression the whole name must match. */
  targets: readonly string[] | string;
  /** PEFT's use_rslora: scaling alpha / sqrt(r) instead of alpha / r. */
  rsLora?: boolean;
}

export const ADAPTER_CONFIG = 'adapter_config.json';
export const ADAPTER_WEIGHTS = 'adapter_model.safetensors';

/** PEFT's check_target_module_exists (peft/tuners/tuners_utils.py): a regex over the whole name, or an exact name / "." + suffix. */
export function matchesTarget(module: string, targets: LoraConfig['targets']): boolean {
  if (typeof targets === 'string') return new RegExp(`^(?:${targets})$`).test(module);
  return targets.some((t) => module === t || module.endsWith(`.${t}`));
}

/** PEFT's adapter_config.json fields tttnn reads, and refuses when they ask for what it does not implement. */
interface PeftAdapterConfig {
  peft_type?: string;
  r?: number;
  lora_alpha?: number;
  lora_dropout?: number;
  target_modules?: string[] | string | null;
  use_rslora?: boolean;
  use_dora?: boolean;
  bias?: string;
  modules_to_save?: unknown;
  layers_to_transform?: unknown;
  rank_pattern?: Record<string, unknown>;
  alpha_pattern?: Record<string, unknown>;
}

/** The LoRA configuration of a PEFT adapter directory (adapter_config.json), refusing what it cannot reproduce. */
export function readAdapterConfig(dir: string): LoraConfig {
  const path = join(dir, ADAPTER_CONFIG);
  if (!existsSync(path)) throw new Error(`${dir}: not a PEFT adapter directory (no ${ADAPTER_CONFIG}; it needs ${ADAPTER_CONFIG} and ${ADAPTER_WEIGHTS})`);
  let c: PeftAdapterConfig;
  try {
    c = JSON.parse(readFileSync(path, 'utf8')) as PeftAdapterConfig;
  } catch (error) {
    throw new Error(`${path}: malformed JSON: ${(error as Error).message}`);
  }
  const refuse = (what: string): never => {
    throw new Error(`${path}: ${what} is not supported (tttnn reads plain LoRA adapters)`);
  };
  if (c.peft_type !== 'LORA') refuse(`peft_type ${JSON.stringify(c.peft_type)}`);
  if (c.use_dora) refuse('use_dora');
  if ((c.bias ?? 'none') !== 'none') refuse(`bias ${JSON.stringify(c.bias)}`);
  if (c.modules_to_save != null) refuse('modules_to_save');
  if (c.layers_to_transform != null) refuse('layers_to_transform');
  if (Object.keys(c.rank_pattern ?? {}).length > 0 || Object.keys(c.alpha_pattern ?? {}).length > 0) refuse('rank_pattern / alpha_pattern');
  if (!(Number.isInteger(c.r) && (c.r as number) >= 1)) throw new Error(`${path}: "r" must be a positive integer, got ${JSON.stringify(c.r)}`);
  if (c.target_modules == null) throw new Error(`${path}: no "target_modules"`);
  return { rank: c.r as number, alpha: c.lora_alpha ?? 8, dropout: c.lora_dropout ?? 0, targets: c.target_modules, rsLora: c.use_rslora ?? false };
}

