// What identifies the inputs a result depends on, as short hashes: a model by
// its config and the bytes of its loaded parameters (whatever files they came
// from: sharded, safetensors or torch .bin), a tokenizer by its definition, a
// data file by its size and the hash of its head, a fleet's index by its
// slices and their sizes. Hashing the parameters reads them once (about half a
// second for GPT-2 small), at the start of an evaluation.
import { createHash } from 'node:crypto';
import { fileFingerprint } from '../data/file-fingerprint.js';
import type { Model } from '../models/index.js';
import type { BpeTokenizer } from '../tokenizers/index.js';

export const sha256Of = (text: string): string => createHash('sha256').update(text).digest('hex');

/** JSON with object keys sorted, so that equal values hash equal whatever their key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

/** SHA-256 over the model's config and every parameter's name, dtype, shape and bytes. */
export function modelFingerprint(model: Model): string {
  const hash = createHash('sha256').update(canonicalJson(model.rawConfig));
  for (const [name, tensor] of [...model.parameters.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const data = tensor.toTypedArray();
    hash.update(`${name}:${tensor.dtype}:${tensor.shape.join('x')}:`).update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }
  return hash.digest('hex');
}

export function tokenizerFingerprint(tokenizer: BpeTokenizer): string {
  return sha256Of(canonicalJson({ tokenizer: tokenizer.tokenizerJson, config: tokenizer.config }));
}

/** A data file by content (size and head hash; not its path or modification time, so a copy matches). */
export function dataFingerprint(path: string): string {
  const f = fileFingerprint(path);
  return `${f.size}:${f.headSha256}`;
}
