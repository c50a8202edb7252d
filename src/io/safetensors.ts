// safetensors: Hugging Face's weight format. A file is an 8-byte
// little-endian header length, a JSON header mapping each tensor name to
// {dtype, shape, data_offsets} (offsets relative to the end of the header),
// then the raw little-endian data. Sharded checkpoints add
// model.safetensors.index.json: {"metadata": {...}, "weight_map": {name: file}}.
//
// Reading goes one tensor at a time with positioned reads, so a checkpoint
// is never held in memory twice.
import { closeSync, existsSync, openSync, readFileSync, readSync, fstatSync } from 'node:fs';
import { join } from 'node:path';
import { tensor, type Tensor, type DType } from '../engine/index.js';
import { writeAll, writeDurably, writeFileDurably } from './durable.js';

const DTYPE_TO_SAFETENSORS: Record<DType, string> = {
  float32: 'F32',
  float64: 'F64',
  float16: 'F16',
  bfloat16: 'BF16',
  int64: 'I64',
  int32: 'I32',
  bool: 'BOOL',
};
const SAFETENSORS_TO_DTYPE = Object.fromEntries(Object.entries(DTYPE_TO_SAFETENSORS).map(([k, v]) => [v, k])) as Record<
  string,
  DType
>;
const ELEMENT_BYTES: Record<DType, number> = { float32: 4, float64: 8, float16: 2, bfloat16: 2, int64: 8, int32: 4, bool: 1 };

export interface SafetensorsEntry {
  dtype: DType;
  shape: number[];
  /** Absolute byte range in the file. */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  entries: Map<string, SafetensorsEntry>;
  metadata: Record<string, string>;
}

/** Parses and validates the header of `path`. */
export function readSafetensorsHeader(path: string): SafetensorsHeader {
  const fd = openSync(path, 'r');
  try {
    const fileSize = fstatSync(fd).size;
    const prefix = Buffer.alloc(8);
    if (fileSize < 8 || readSync(fd, prefix, 0, 8, 0) !== 8) throw new Error(`${path}: not a safetensors file (shorter than 8 bytes)`);
    const headerLength = Number(prefix.readBigUInt64LE(0));
    if (headerLength > fileSize - 8 || headerLength > 100 * 2 ** 20) {
      throw new Error(`${path}: not a safetensors file (header length ${headerLength} does not fit the ${fileSize}-byte file)`);
    }
    const headerBytes = Buffer.alloc(headerLength);
    readSync(fd, headerBytes, 0, headerLength, 8);
    let raw: unknown;
    try {
      raw = JSON.parse(headerBytes.toString('utf8'));
    } catch (error) {
      throw new Error(`${path}: malformed safetensors header: ${(error as Error).message}`);
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error(`${path}: malformed safetensors header: not a JSON object`);
    const dataStart = 8 + headerLength;
    const entries = new Map<string, SafetensorsEntry>();
    for (const [name, value] of Object.entries(raw)) {
      if (name === '__metadata__') continue;
      const info = (typeof value === 'object' && value !== null ? value : {}) as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
      const dtype = typeof info.dtype === 'string' && Object.hasOwn(SAFETENSORS_TO_DTYPE, info.dtype) ? SAFETENSORS_TO_DTYPE[info.dtype] : undefined;
      if (!dtype) throw new Error(`${path}: tensor '${name}' has unsupported dtype ${String(info.dtype)}`);
      const count = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
      if (!Array.isArray(info.shape) || !info.shape.every(count)) throw new Error(`${path}: tensor '${name}' has a shape that is not a list of non-negative integers`);
      if (!Array.isArray(info.data_offsets) || info.data_offsets.length !== 2 || !info.data_offsets.every(count)) {
        throw new Error(`${path}: tensor '${name}' has data_offsets that are not two non-negative integers`);
      }
      const shape = info.shape;
      const [begin, end] = info.data_offsets as [number, number];
      const expected = shape.reduce((a, b) => a * b, 1) * ELEMENT_BYTES[dtype];
      if (end - begin !== expected || dataStart + end > fileSize) {
        throw new Error(`${path}: tensor '${name}' has offsets [${begin}, ${end}] that do not fit its shape [${shape.join(', ')}] or the file (truncated?)`);
      }
      entries.set(name, { dtype, shape, begin: dataStart + begin, end: dataStart + end });
    }
    checkCoverage(path, entries, dataStart, fileSize);
    const metadata = (raw as Record<string, unknown>)['__metadata__'] ?? {};
    if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata) || !Object.values(metadata).every((v) => typeof v === 'string')) {
      throw new Error(`${path}: malformed safetensors header: __metadata__ is not an object of strings`);
    }
    return { entries, metadata: metadata as Record<string, string> };
  } finally {
    closeSync(fd);
  }
}

/**
 * As the safetensors format requires (its reference reader refuses the
 * rest): the tensors' byte ranges, in order, tile the data section exactly —
 * no two overlap (one tensor's bytes read as another's), no gap, no bytes
 * after the last.
 */
function checkCoverage(path: string, entries: ReadonlyMap<string, SafetensorsEntry>, dataStart: number, fileSize: number): void {
  let next = dataStart;
  for (const [name, e] of [...entries].sort((a, b) => a[1].begin - b[1].begin || a[1].end - b[1].end)) {
    if (e.begin < next) throw new Error(`${path}: tensor '${name}' overlaps the tensor before it (bytes ${e.begin - dataStart} < ${next - dataStart})`);
    if (e.begin > next) throw new Error(`${path}: ${e.begin - next} bytes before tensor '${name}' belong to no tensor`);
    next = e.end;
  }
  if (next !== fileSize) throw new Error(`${path}: ${fileSize - next} bytes after the last tensor belong to no tensor`);
}

/**
 * Reads tensors from one safetensors file, calling `onTensor` for each (in
 * file order) so the caller can place or convert it before the next is read.
 * `wanted` filters by name.
 */
export function readSafetensors(path: string, onTensor: (name: string, t: Tensor) => void, wanted?: (name: string) => boolean): void {
  const { entries } = readSafetensorsHeader(path);
  const fd = openSync(path, 'r');
  try {
    const ordered = [...entries.entries()].sort((a, b) => a[1].begin - b[1].begin);
    for (const [name, entry] of ordered) {
      if (wanted && !wanted(name)) continue;
      const bytes = Buffer.alloc(entry.end - entry.begin);
      let done = 0;
      while (done < bytes.length) {
        const n = readSync(fd, bytes, done, bytes.length - done, entry.begin + done);
        if (n === 0) throw new Error(`${path}: unexpected end of file reading '${name}'`);
        done += n;
      }
      onTensor(name, tensor(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length), { dtype: entry.dtype, shape: entry.shape }));
    }
  } finally {
    closeSync(fd);
  }
}

/** All tensors of a file as a Map (convenient for small files). */
export function loadSafetensors(path: string): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  readSafetensors(path, (name, t) => out.set(name, t));
  return out;
}

/**
 * Writes tensors to `path` (durably: a temporary file flushed and renamed
 * into place, so a crash never leaves a half-written file under the real name).
 */
export function saveSafetensors(path: string, tensors: Map<string, Tensor>, metadata: Record<string, string> = {}): void {
  const names = [...tensors.keys()].sort();
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header['__metadata__'] = metadata;
  let offset = 0;
  for (const name of names) {
    const t = tensors.get(name) as Tensor;
    const bytes = t.numel * ELEMENT_BYTES[t.dtype];
    header[name] = { dtype: DTYPE_TO_SAFETENSORS[t.dtype], shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let headerJson = JSON.stringify(header);
  headerJson += ' '.repeat((8 - (Buffer.byteLength(headerJson) % 8)) % 8); // data starts 8-byte aligned
  const headerBytes = Buffer.from(headerJson, 'utf8');
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(headerBytes.length));

  writeDurably(path, (fd, temporary) => {
    writeAll(fd, prefix, temporary);
    writeAll(fd, headerBytes, temporary);
    for (const name of names) {
      const data = (tensors.get(name) as Tensor).toTypedArray();
      writeAll(fd, new Uint8Array(data.buffer, data.byteOffset, data.byteLength), temporary);
    }
  });
}

export const SAFETENSORS_INDEX = 'model.safetensors.index.json';

/** The safetensors files of a checkpoint directory: the sharded set named by the index, or model.safetensors. */
export function safetensorsFiles(dir: string): string[] | null {
  const indexPath = join(dir, SAFETENSORS_INDEX);
  if (existsSync(indexPath)) {
    let index: { weight_map?: Record<string, string> };
    try {
      index = JSON.parse(readFileSync(indexPath, 'utf8')) as typeof index;
    } catch (error) {
      throw new Error(`${indexPath}: malformed JSON: ${(error as Error).message}`);
    }
    if (!index.weight_map) throw new Error(`${indexPath}: no "weight_map"`);
    const files = [...new Set(Object.values(index.weight_map))].sort().map((f) => join(dir, f));
    for (const file of files) if (!existsSync(file)) throw new Error(`${indexPath} names ${file}, which is missing`);
    return files;
  }
  const single = join(dir, 'model.safetensors');
  return existsSync(single) ? [single] : null;
}

/**
 * Writes a checkpoint's weights to `dir`: one model.safetensors, or shards of
 * at most `maxShardBytes` with model.safetensors.index.json.
 */
export function saveSafetensorsCheckpoint(dir: string, tensors: Map<string, Tensor>, maxShardBytes = Infinity): void {
  const names = [...tensors.keys()].sort();
  const sizeOf = (name: string): number => {
    const t = tensors.get(name) as Tensor;
    return t.numel * ELEMENT_BYTES[t.dtype];
  };
  const totalSize = names.reduce((sum, n) => sum + sizeOf(n), 0);
  if (totalSize <= maxShardBytes) {
    saveSafetensors(join(dir, 'model.safetensors'), tensors, { format: 'pt' });
    return;
  }
  const shards: string[][] = [[]];
  let current = 0;
  for (const name of names) {
    if (current > 0 && current + sizeOf(name) > maxShardBytes) {
      shards.push([]);
      current = 0;
    }
    (shards[shards.length - 1] as string[]).push(name);
    current += sizeOf(name);
  }
  const pad = (i: number): string => String(i).padStart(5, '0');
  const weightMap: Record<string, string> = {};
  shards.forEach((shard, i) => {
    const file = `model-${pad(i + 1)}-of-${pad(shards.length)}.safetensors`;
    saveSafetensors(join(dir, file), new Map(shard.map((n) => [n, tensors.get(n) as Tensor])), { format: 'pt' });
    for (const name of shard) weightMap[name] = file;
  });
  writeFileDurably(join(dir, SAFETENSORS_INDEX), JSON.stringify({ metadata: { total_size: totalSize }, weight_map: weightMap }, null, 2));
}
