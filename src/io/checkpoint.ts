// A Hugging Face checkpoint directory: config.json plus weights as
// model.safetensors, sharded safetensors with model.safetensors.index.json,
// or pytorch_model.bin (also sharded, with pytorch_model.bin.index.json).
import { existsSync, readFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Tensor } from '../engine/index.js';
import { readSafetensors, safetensorsFiles, saveSafetensorsCheckpoint } from './safetensors.js';
import { loadTorchBin } from './torch-bin.js';
import { writeFileDurably } from './durable.js';

/** Parses a JSON file; errors name the file. */
export function readJsonFile<T = Record<string, unknown>>(path: string): T {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`${path}: cannot read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new Error(`${path}: malformed JSON: ${(error as Error).message}`);
  }
}

/** Writes JSON durably (io/durable.ts: temporary file, fsync, rename). */
export function writeJsonFile(path: string, value: unknown): void {
  writeFileDurably(path, `${JSON.stringify(value, null, 2)}\n`);
}

export function readModelConfig(dir: string): Record<string, unknown> {
  const path = join(dir, 'config.json');
  if (!existsSync(path)) throw new Error(`${path}: missing (a model directory needs config.json)`);
  const config = readJsonFile(path);
  if (typeof config !== 'object' || config === null || Array.isArray(config)) throw new Error(`${path}: expected a JSON object`);
  return config;
}

/** Which files hold the weights of `dir`. */
export function weightFiles(dir: string): { format: 'safetensors' | 'torch'; files: string[] } {
  const safetensors = safetensorsFiles(dir);
  if (safetensors) return { format: 'safetensors', files: safetensors };
  const binIndex = join(dir, 'pytorch_model.bin.index.json');
  if (existsSync(binIndex)) {
    const index = readJsonFile<{ weight_map?: Record<string, string> }>(binIndex);
    if (!index.weight_map) throw new Error(`${binIndex}: no "weight_map"`);
    return { format: 'torch', files: [...new Set(Object.values(index.weight_map))].sort().map((f) => join(dir, f)) };
  }
  const bin = join(dir, 'pytorch_model.bin');
  if (existsSync(bin)) return { format: 'torch', files: [bin] };
  throw new Error(`${dir}: no weights (expected model.safetensors, ${'model.safetensors.index.json'} or pytorch_model.bin)`);
}

/**
 * Reads every weight tensor of a checkpoint directory, calling `onTensor`
 * for each as it is read (the callee owns the tensor).
 */
export function readWeights(dir: string, onTensor: (name: string, t: Tensor) => void): void {
  const { format, files } = weightFiles(dir);
  for (const file of files) {
    if (format === 'safetensors') readSafetensors(file, onTensor);
    else for (const [name, t] of loadTorchBin(file)) onTensor(name, t);
  }
}

/** Writes config.json and model.safetensors (sharded above `maxShardBytes`) into `dir`. */
export function saveCheckpoint(dir: string, config: Record<string, unknown>, weights: Map<string, Tensor>, maxShardBytes = Infinity): void {
  mkdirSync(dir, { recursive: true });
  saveSafetensorsCheckpoint(dir, weights, maxShardBytes);
  writeJsonFile(join(dir, 'config.json'), config);
}
