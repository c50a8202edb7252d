// Model configurations as Hugging Face's config.json states them, parsed and
// checked. Each model keeps the raw dictionary too and writes it back
// unchanged when it saves, so other tools read our checkpoints.
//
// Every value is checked for its type and range, and the whole model for the
// memory its weights take, before anything is allocated: a config with
// n_layer 1e7, n_embd 2^20, vocab_size 1e300 or layer_norm_epsilon -1 is an
// error naming the field, not a minute of work ending in a crash or a NaN.
import { totalmem } from 'node:os';
import type { ParameterSpec } from './parameter-set.js';

export type RawConfig = Record<string, unknown>;

/** Reads typed fields from a raw config, naming the file and field in errors. */
export class ConfigReader {
  constructor(
    readonly raw: RawConfig,
    readonly origin: string,
  ) {}

  /** A non-negative integer up to `max` (default: the largest tensor dimension, 2^31 - 1). */
  int(key: string, fallback?: number, max = MAX_DIMENSION): number {
    const value = this.raw[key] ?? fallback;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0 || value > max) {
      throw new Error(`${this.origin}: field "${key}" must be an integer from 0 to ${max} (got ${JSON.stringify(this.raw[key])})`);
    }
    return value;
  }

  /** A size: an integer from 1 to `max`. */
  size(key: string, fallback?: number, max = MAX_DIMENSION): number {
    const value = this.int(key, fallback, max);
    if (value < 1) throw new Error(`${this.origin}: field "${key}" must be at least 1 (got ${value})`);
    return value;
  }

  number(key: string, fallback?: number): number {
    const value = this.raw[key] ?? fallback;
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new Error(`${this.origin}: field "${key}" must be a number (got ${JSON.stringify(this.raw[key])})`);
    }
    return value;
  }

  /** A layer norm's epsilon: above 0 and below 1 (a negative one makes variance + eps negative and every output NaN). */
  epsilon(key: string, fallback: number): number {
    const value = this.number(key, fallback);
    if (!(value > 0 && value < 1)) throw new Error(`${this.origin}: field "${key}" must be a small positive number, e.g. 1e-5 (got ${value})`);
    return value;
  }

  /** A dropout probability, in [0, 1). */
  probability(key: string, fallback: number): number {
    const value = this.number(key, fallback);
    if (!(value >= 0 && value < 1)) throw new Error(`${this.origin}: field "${key}" must be a probability from 0 to below 1 (got ${value})`);
    return value;
  }

  /** A standard deviation: finite, non-negative. */
  nonNegative(key: string, fallback: number): number {
    const value = this.number(key, fallback);
    if (value < 0) throw new Error(`${this.origin}: field "${key}" must not be negative (got ${value})`);
    return value;
  }

  string(key: string, fallback?: string): string {
    const value = this.raw[key] ?? fallback;
    if (typeof value !== 'string') throw new Error(`${this.origin}: field "${key}" must be a string (got ${JSON.stringify(this.raw[key])})`);
    return value;
  }

  bool(key: string, fallback: boolean): boolean {
    const value = this.raw[key] ?? fallback;
    if (typeof value !== 'boolean') throw new Error(`${this.origin}: field "${key}" must be true or false`);
    return value;
  }

  /** `key` must be one of `allowed` (the supported values). */
  oneOf<T extends string>(key: string, allowed: readonly T[], fallback: T): T {
    const value = this.string(key, fallback);
    if (!(allowed as readonly string[]).includes(value)) {
      throw new Error(`${this.origin}: ${key} "${value}" is not supported (supported: ${allowed.join(', ')})`);
    }
    return value as T;
  }

  divisible(key: string, value: number, by: number, byKey: string): void {
    if (value % by !== 0) throw new Error(`${this.origin}: ${key} (${value}) must be divisible by ${byKey} (${by})`);
  }
}

/** HF activation names we implement, mapped to the engine's gelu variants. */
export function geluVariant(reader: ConfigReader, key: string, fallback: string): 'none' | 'tanh' {
  const name = reader.oneOf(key, ['gelu', 'gelu_new', 'gelu_pytorch_tanh'], fallback as 'gelu');
  return name === 'gelu' ? 'none' : 'tanh';
}

/** The largest tensor dimension a config may give (libtorch indexes with 64 bits, but no real model comes near). */
export const MAX_DIMENSION = 2 ** 31 - 1;

/** The most layers a config may give (GPT-3 has 96): the parameter list is built per layer before any check of its size. */
export const MAX_LAYERS = 4096;

/**
 * Refuses a model whose float32 weights alone would not fit in this
 * machine's memory, naming the fields that size it, before a byte is
 * allocated. Returns the number of parameters.
 */
export function checkModelFits(spec: ParameterSpec, origin: string, sizedBy: string, memoryBytes = totalmem()): number {
  let parameters = 0;
  for (const shape of spec.values()) parameters += shape.reduce((a, b) => a * b, 1);
  const bytes = parameters * 4;
  if (bytes > memoryBytes) {
    throw new Error(`${origin}: this configuration has ${parameters.toExponential(3)} parameters, ${(bytes / 2 ** 30).toFixed(1)} GiB of float32 weights, more than this machine's ${(memoryBytes / 2 ** 30).toFixed(1)} GiB of memory; check ${sizedBy}`);
  }
  return parameters;
}
