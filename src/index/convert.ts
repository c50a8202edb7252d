// Converting a Flat index file (the original's published Pile shards, 27 GB
// each, or one `index build` wrote) into a compressed FAISS index
// (PCAR128,IVF65536,PQ64, SQ8, HNSW32, ...) without holding the Flat file in
// memory: its vectors are read in chunks by offset (vector-file.ts), the new
// index is trained on a seeded sample, and the chunks are added in file order,
// so vector i of the output is vector i of the input and keeps its line id
// (a slice's name, <data>-<begin>-<end>.index, carries over to the output).
//
// Peak memory: the training sample (--train-sample x d float32s, freed after
// training), the trained structures, the compressed codes added so far
// (bytes per vector x vectors) and one chunk (--chunk-vectors x d float32s);
// not the input's 4 x d bytes per vector.
//
// Resumable: the trained index is written to <out>.partial as soon as it is
// trained, and again every --checkpoint-seconds while vectors are added
// (durably: io/durable.ts); <out>.partial.json records what is being
// converted. A rerun with the same input (fingerprint), factory, sample and
// seed continues after the vectors the partial index holds; anything else
// starts afresh and says why. The finished index records its source in
// <out>.source.json.
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileFingerprint, type FileFingerprint } from '../data/file-fingerprint.js';
import { writeFileDurably } from '../io/durable.js';
import { yieldToEventLoop } from '../io/event-loop.js';
import { FaissIndex } from './faiss-index.js';
import { RECIPE_FILE } from './embedding-recipe.js';
import { readFlatLayout, type FlatFileLayout } from './index-file-check.js';
import { forEachChunk, sampleVectors, type VectorFile } from './vector-file.js';

export interface ConvertOptions {
  /** A Flat index file. */
  input: string;
  /** A FAISS factory string: PCAR128,IVF65536,PQ64, SQ8, ... */
  factory: string;
  /** The output file (ending in .index), or a directory to write the input's file name in. */
  out: string;
  /** Vectors to train on (default 100,000): FAISS asks for at least 39 per IVF list. */
  trainSample?: number;
  /** Seed of the training sample (seeded-random.ts). */
  seed?: number;
  /** Vectors read and added at a time (default 65,536: 256 MiB at d = 1024). */
  chunkVectors?: number;
  /** Seconds between checkpoints of the partial index (default 120; 0: after every chunk). */
  checkpointSeconds?: number;
  progress?: (line: string) => void;
  /** Called after every added chunk with the vectors the output holds. */
  onChunk?: (added: number, total: number) => void;
}

/** What <out>.source.json records. */
export interface ConversionRecord {
  convertedFrom: { path: string; bytes: number; fingerprint: FileFingerprint; kind: string; d: number; ntotal: number; metric: 'l2' | 'ip' };
  factory: string;
  trainSample: number;
  seed: number;
  vectors: number;
  bytes: number;
  bytesPerVector: number;
}

export interface ConvertResult {
  path: string;
  vectors: number;
  bytes: number;
  bytesPerVector: number;
  /** Wall time of this run (a resumed run counts only its own). */
  seconds: number;
  /** Seconds spent training (0 when this run resumed a trained index). */
  trainSeconds: number;
  /** Bytes of the trained index before any vector was added (centroids, PCA/OPQ matrices, codebooks): the part of `bytes` that does not grow with the vectors; absent when this run resumed. */
  trainedBytes?: number;
  /** The process's peak resident memory (getrusage maxrss), bytes. */
  peakRssBytes: number;
  resumedAfter: number;
}

export const DEFAULT_CONVERT_TRAIN_SAMPLE = 100_000;
export const DEFAULT_CONVERT_SEED = 1216;
export const DEFAULT_CHUNK_VECTORS = 65_536;
export const DEFAULT_CHECKPOINT_SECONDS = 120;

/** The name's slice suffix, -<begin>-<end>.index, which says which data lines its vectors are (build.ts indexFileBegin). */
const SLICE_SUFFIX = /-\d+-(\d+|end)\.index$/;

/** Where the converted index goes: `out` itself when it names a .index file, else the input's name inside `out`. */
export function convertedIndexPath(input: string, out: string): string {
  const path = out.endsWith('.index') ? out : join(out, basename(input));
  const slice = SLICE_SUFFIX.exec(basename(input));
  if (slice && !basename(path).endsWith(slice[0])) {
    throw new Error(`${input} is a slice (its name ends in ${slice[0]}: vector i is line begin + i of its data file); the output's name must end the same way, or servers would map its vectors to the wrong lines: pass --out ${join(dirname(path), basename(input))} or a directory`);
  }
  if (resolve(path) === resolve(input)) throw new Error(`--out ${out} would overwrite the input ${input}; write the compressed index elsewhere (a directory of its own)`);
  return path;
}

/** Stops with a message naming the vector when a chunk holds NaN or infinity (FAISS would train or rank on it silently). */
function checkFinite(vectors: Float32Array, first: number, d: number, input: string): void {
  for (let i = 0; i < vectors.length; i++) {
    if (!Number.isFinite(vectors[i]!)) throw new Error(`${input}: vector ${first + Math.floor(i / d)} holds ${vectors[i]} at component ${i % d}; a compressed index cannot be trained on or hold it (rebuild that vector from its document)`);
  }
}

export async function convertIndex(options: ConvertOptions): Promise<ConvertResult> {
  const progress = options.progress ?? ((line: string) => process.stderr.write(`${line}\n`));
  const trainSample = options.trainSample ?? DEFAULT_CONVERT_TRAIN_SAMPLE;
  const seed = options.seed ?? DEFAULT_CONVERT_SEED;
  const chunk = options.chunkVectors ?? DEFAULT_CHUNK_VECTORS;
  const checkpointMs = 1000 * (options.checkpointSeconds ?? DEFAULT_CHECKPOINT_SECONDS);
  if (!Number.isSafeInteger(trainSample) || trainSample < 1) throw new Error(`--train-sample must be a positive integer, got ${trainSample}`);
  if (!Number.isSafeInteger(chunk) || chunk < 1) throw new Error(`--chunk-vectors must be a positive integer, got ${chunk}`);
  if (!(checkpointMs >= 0)) throw new Error(`--checkpoint-seconds must be 0 or more, got ${options.checkpointSeconds}`);

  const layout = readFlatLayout(options.input);
  const path = convertedIndexPath(options.input, options.out);
  FaissIndex.create(layout.d, options.factory, layout.metric).dispose(); // a bad factory string fails now, not after the sample is read
  mkdirSync(dirname(path), { recursive: true });
  const started = performance.now();
  const fingerprint = fileFingerprint(options.input);
  const source = { path: resolve(options.input), bytes: layout.bytes, fingerprint, kind: layout.kind, d: layout.d, ntotal: layout.ntotal, metric: layout.metric };
  const partial = { index: `${path}.partial`, info: `${path}.partial.json`, identity: JSON.stringify({ source, factory: options.factory, trainSample, seed }) };
  const file: VectorFile = { path: options.input, offset: layout.dataOffset, d: layout.d };

  let index = resumePartial(partial, progress);
  const resumedAfter = index?.size ?? 0;
  let trainSeconds = 0;
  let trainedBytes: number | undefined;
  if (index === null) {
    index = FaissIndex.create(layout.d, options.factory, layout.metric);
    const t = performance.now();
    if (!index.info.isTrained) trainOn(index, file, layout, trainSample, seed, options, progress);
    trainSeconds = (performance.now() - t) / 1000;
    index.write(partial.index); // training can take hours: never again
    trainedBytes = statSync(partial.index).size;
  } else {
    progress(`index convert: resuming after ${resumedAfter} of ${layout.ntotal} vectors (${partial.index})`);
  }

  try {
    let lastCheckpoint = performance.now();
    await forEachChunk(file, resumedAfter, layout.ntotal, chunk, (vectors, first) => {
      checkFinite(vectors, first, layout.d, options.input);
      index.add(vectors);
      const added = first + vectors.length / layout.d;
      if (added < layout.ntotal && performance.now() - lastCheckpoint >= checkpointMs) {
        index.write(partial.index);
        lastCheckpoint = performance.now();
      }
      options.onChunk?.(added, layout.ntotal);
    }, yieldToEventLoop);
    if (index.size !== layout.ntotal) throw new Error(`${path}: holds ${index.size} vectors after the conversion, not the input's ${layout.ntotal}`);
    index.write(path);
  } finally {
    index.dispose();
  }
  const bytes = statSync(path).size;
  const record: ConversionRecord = { convertedFrom: source, factory: options.factory, trainSample, seed, vectors: layout.ntotal, bytes, bytesPerVector: layout.ntotal > 0 ? bytes / layout.ntotal : 0 };
  writeFileDurably(conversionRecordPath(path), `${JSON.stringify(record, null, 2)}\n`);
  copyEmbeddingSidecars(options.input, path);
  rmSync(partial.index, { force: true });
  rmSync(partial.info, { force: true });
  return { path, vectors: layout.ntotal, bytes, bytesPerVector: record.bytesPerVector, seconds: (performance.now() - started) / 1000, trainSeconds, trainedBytes, peakRssBytes: process.resourceUsage().maxRSS * 1024, resumedAfter };
}

/** The sidecar that says what an index was converted from. */
export function conversionRecordPath(indexPath: string): string {
  return `${indexPath}.source.json`;
}

/** The conversion record beside an index, or null when it was not converted (or the record is unreadable). */
export function readConversionRecord(indexPath: string): ConversionRecord | null {
  try {
    return JSON.parse(readFileSync(conversionRecordPath(indexPath), 'utf8')) as ConversionRecord;
  } catch {
    return null;
  }
}

function trainOn(index: FaissIndex, file: VectorFile, layout: FlatFileLayout, trainSample: number, seed: number, options: ConvertOptions, progress: (line: string) => void): void {
  const { rows, vectors } = sampleVectors(file, layout.ntotal, trainSample, seed);
  checkFinite(vectors, 0, layout.d, options.input);
  progress(`index convert: training ${options.factory} on ${rows.length} of ${layout.ntotal} vectors (seed ${seed})`);
  const t = performance.now();
  index.train(vectors);
  progress(`index convert: trained in ${((performance.now() - t) / 1000).toFixed(1)} s`);
}

/** The partial index of an interrupted conversion of the same input with the same settings, or null (start afresh, saying why). */
function resumePartial(partial: { index: string; info: string; identity: string }, progress: (line: string) => void): FaissIndex | null {
  const earlier = existsSync(partial.info) ? readFileSync(partial.info, 'utf8') : null;
  if (earlier === partial.identity && existsSync(partial.index)) {
    try {
      return FaissIndex.read(partial.index);
    } catch (error) {
      progress(`index convert: not resuming: ${(error as Error).message}; starting afresh`);
    }
  } else if (earlier !== null) {
    progress(`index convert: not resuming the interrupted conversion: ${whatChanged(earlier, partial.identity)}; starting afresh`);
  }
  rmSync(partial.index, { force: true });
  writeFileDurably(partial.info, partial.identity);
  return null;
}

function whatChanged(earlier: string, now: string): string {
  try {
    const was = JSON.parse(earlier) as Record<string, unknown>;
    const is = JSON.parse(now) as Record<string, unknown>;
    const changed = Object.keys(is).filter((key) => JSON.stringify(was[key]) !== JSON.stringify(is[key]));
    return changed.includes('source') ? 'the input file changed since (size, modification time or contents)' : `its settings differ (${changed.join(', ')})`;
  } catch {
    return 'its record is unreadable';
  }
}

/** The servers read the embedder's name from embedding_model.txt beside the index (shard-process.ts): carry it over. */
function copyEmbeddingSidecars(input: string, output: string): void {
  // embedding_model.txt names the embedder; embedding.json (embedding-recipe.ts) says how it pooled, which eval checks.
  for (const name of ['embedding_model.txt', RECIPE_FILE]) {
    const from = join(dirname(input), name);
    const to = join(dirname(output), name);
    if (existsSync(from) && resolve(from) !== resolve(to)) writeFileDurably(to, readFileSync(from));
  }
}
