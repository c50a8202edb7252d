// Model configurations as Hugging Face's config.json states them, parsed and
// checked. Each model keeps the raw dictionary too and writes it back
// unchanged when it saves, so other tools read our checkpoints.

export type RawConfig = Record<string, unknown>;

/** Reads typed fields from a raw config, naming the file and field in errors. */
export class ConfigReader {
  constructor(
    readonly raw: RawConfig,
    readonly origin: string,
  ) {}

  int(key: string, fallback?: number): number {
    const value = this.raw[key] ?? fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
      throw new Error(`${this.origin}: field "${key}" must be a non-negative integer (got ${JSON.stringify(this.raw[key])})`);
    }
    return value;
  }

  number(key: string, fallback?: number): number {
    const value = this.raw[key] ?? fallback;
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new Error(`${this.origin}: field "${key}" must be a number (got ${JSON.stringify(this.raw[key])})`);
    }
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
