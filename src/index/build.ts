// Building the index of one data file (or a slice of its lines): embed every
// document in batches, then put the vectors into a FAISS index written as
// <datafile>.index (or <datafile>-<begin>-<end>.index) beside
// embedding_model.txt, the embedder that made them, and embedding.json, how
// (model_type, pooling, normalisation: embedding-recipe.ts).
//
// Resumable: embeddings are appended to <index>.vectors.partial (and flushed)
// after every batch, so an interrupted build continues after its last
// complete batch, with no vector twice and none missing — unless the inputs
// changed: a data file rewritten since (file-fingerprint.ts), another embedder
// or range start afresh. Compressed factories (IVF, PQ,
// HNSW, SQ) are trained on a sample of the vectors first.
import { yieldToEventLoop } from '../io/event-loop.js';
import { closeSync, existsSync, fstatSync, fsyncSync, ftruncateSync, mkdirSync, openSync, rmSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileFingerprint, fingerprintChanges, type FileFingerprint } from '../data/file-fingerprint.js';
import { parseDocumentLine } from '../data/jsonl.js';
import { writeAll, writeFileDurably } from '../io/durable.js';
import { readLines } from '../data/lines.js';
import { embeddingDimension, embedTexts, type Embedder } from './embed.js';
import { recipeOf, writeRecipe } from './embedding-recipe.js';
import { FaissIndex } from './faiss-index.js';
import { forEachChunk, sampleVectors } from './vector-file.js';

export interface IndexBuildOptions {
  data: string;
  embedder: Embedder;
  /** Directory of the embedder (written to embedding_model.txt). */
  embedderDir: string;
  out: string;
  factory?: string;
  /** Lines [begin, end) of the data file (default: all). */
  begin?: number;
  end?: number;
  batchSize?: number;
  /** Vectors used to train compressed indexes (default 100,000 at most). */
  trainSample?: number;
  onBadLine?: 'skip' | 'fail';
  /** The longest line read (default lines.ts DEFAULT_MAX_LINE_BYTES); a longer one is an error naming it. */
  maxLineBytes?: number;
  progress?: (line: string) => void;
  /** Called after every embedded batch instead of a progress line (documents embedded, and of how many when --end is given). */
  onBatch?: (embedded: number, total: number | undefined) => void;
}

export function indexFileName(data: string, begin?: number, end?: number): string {
  return begin === undefined && end === undefined ? `${basename(data)}.index` : `${basename(data)}-${begin ?? 0}-${end ?? 'end'}.index`;
}

/** The first line of the slice an index file of `data` holds, read back from its indexFileName (0 for a whole-file name or another name). */
export function indexFileBegin(data: string, indexPath: string): number {
  const name = basename(indexPath);
  const prefix = `${basename(data)}-`;
  if (!name.startsWith(prefix)) return 0;
  const match = /^(\d+)-(\d+|end)\.index$/.exec(name.slice(prefix.length));
  return match ? Number(match[1]) : 0;
}

export async function buildIndex(options: IndexBuildOptions): Promise<{ path: string; vectors: number; seconds: number }> {
  const progress = options.progress ?? ((line: string) => process.stderr.write(`${line}\n`));
  const factory = options.factory ?? 'Flat';
  const begin = options.begin ?? 0;
  const end = options.end ?? Infinity;
  if (!existsSync(options.data)) throw new Error(`${options.data}: no such data file`);
  if (begin < 0 || end <= begin) throw new Error(`empty line range [${begin}, ${end})`);
  const d = embeddingDimension(options.embedder);
  const recipe = recipeOf(options.embedder, options.embedderDir);
  FaissIndex.create(d, factory).dispose(); // a bad factory string fails now, not after the embedding
  mkdirSync(options.out, { recursive: true });
  const path = join(options.out, indexFileName(options.data, options.begin, options.end));
  const partial: PartialVectors = {
    path: `${path}.vectors.partial`,
    info: `${path}.partial.json`,
    identity: JSON.stringify({ data: options.data, begin, end: Number.isFinite(end) ? end : null, dimension: d, embedder: options.embedderDir, fingerprint: fileFingerprint(options.data), pooling: recipe.pooling, maxLength: recipe.maxLength }),
    d,
  };

  const done = resumePoint(partial, progress);
  if (done > 0) progress(`index: resuming after ${done} embedded documents`);
  const started = Date.now();
  const embedded = await embedLines(options, partial, begin, end, done, (count) => {
    const rate = (count - done) / ((Date.now() - started) / 1000);
    const total = Number.isFinite(end) ? end - begin : undefined;
    if (options.onBatch) options.onBatch(count, total);
    else progress(`index: ${count}${total ? `/${total}` : ''} documents, ${rate.toFixed(1)} docs/s${total ? `, ETA ${Math.round((total - count) / rate)}s` : ''}`);
  });
  if (Number.isFinite(end) && embedded < end - begin) {
    throw new Error(`${options.data} has ${begin + embedded} lines, fewer than --end ${end}`);
  }

  await writeIndex(partial, embedded, factory, path, options.trainSample ?? 100_000, progress);
  writeFileDurably(join(options.out, 'embedding_model.txt'), `${options.embedderDir}\n`);
  writeRecipe(options.out, recipe);
  rmSync(partial.path, { force: true });
  rmSync(partial.info, { force: true });
  return { path, vectors: embedded, seconds: (Date.now() - started) / 1000 };
}

/** The raw float32 vectors embedded so far, and the inputs they were embedded from. */
interface PartialVectors {
  path: string;
  /** Sidecar holding `identity`: a partial file from other inputs is never resumed. */
  info: string;
  identity: string;
  d: number;
}

/** How many complete vectors an earlier run with the same inputs left (0: start afresh, saying why). */
function resumePoint(partial: PartialVectors, progress: (line: string) => void): number {
  const earlier = existsSync(partial.path) && existsSync(partial.info) ? readFileSync(partial.info, 'utf8') : null;
  if (earlier === partial.identity) {
    const fd = openSync(partial.path, 'r+');
    const done = Math.floor(fstatSync(fd).size / (4 * partial.d));
    ftruncateSync(fd, done * 4 * partial.d); // drop a half-written vector
    closeSync(fd);
    return done;
  }
  if (earlier !== null) progress(`index: not resuming the interrupted build: ${whatChanged(earlier, partial.identity)}; starting afresh`);
  rmSync(partial.path, { force: true });
  writeFileDurably(partial.info, partial.identity);
  return 0;
}

// Why an interrupted build's identity (see buildIndex) differs from this one's.
function whatChanged(earlier: string, now: string): string {
  let was: Record<string, unknown>;
  try {
    was = JSON.parse(earlier) as Record<string, unknown>;
  } catch {
    return 'its record is unreadable';
  }
  const is = JSON.parse(now) as Record<string, unknown>;
  if (was['fingerprint'] === undefined) return 'it was started by an earlier version, which did not record the data file';
  const changed = Object.keys(is).filter((key) => JSON.stringify(was[key]) !== JSON.stringify(is[key]));
  if (changed.length === 1 && changed[0] === 'fingerprint') {
    return `${String(is['data'])} changed since (${fingerprintChanges(was['fingerprint'] as FileFingerprint, is['fingerprint'] as FileFingerprint)})`;
  }
  return `its inputs differ (${changed.join(', ')})`;
}

/**
 * Embeds lines [begin + done, end) of the data file in batches, appending
 * each batch's vectors to the partial file; returns the vectors it holds.
 * A bad line is an error, or with onBadLine 'skip' an empty text, so that
 * vector ids stay equal to line numbers.
 */
async function embedLines(options: IndexBuildOptions, partial: PartialVectors, begin: number, end: number, done: number, onBatch: (embedded: number) => void): Promise<number> {
  const batchSize = options.batchSize ?? 32;
  const fd = openSync(partial.path, 'a');
  let embedded = done;
  try {
    let texts: string[] = [];
    let labels: string[] = [];
    const flush = (): void => {
      if (texts.length === 0) return;
      const vectors = embedTexts(options.embedder, texts, labels);
      writeAll(fd, new Uint8Array(vectors.buffer, vectors.byteOffset, vectors.byteLength), partial.path);
      fsyncSync(fd); // on disk before the count moves on, so a resume after a power loss finds what it counts
      embedded += texts.length;
      texts = [];
      labels = [];
      onBatch(embedded);
    };
    for await (const line of readLines(options.data, undefined, options.maxLineBytes)) {
      if (line.index < begin + done) continue;
      if (line.index >= end) break;
      const parsed = line.bytes.length === 0 ? { text: '' } : parseDocumentLine(line.bytes);
      let text: string;
      if (typeof parsed === 'string') {
        if (options.onBadLine !== 'skip') throw new Error(`${options.data}:${line.index + 1}: ${parsed} (use --on-bad-line skip to embed it as ' ')`);
        text = ''; // keeps vector ids equal to line numbers
      } else {
        text = parsed.text;
      }
      texts.push(text);
      labels.push(`${options.data}:${line.index + 1}`);
      if (texts.length === batchSize) {
        flush();
        await yieldToEventLoop(); // a Ctrl-C handler runs between batches
      }
    }
    flush();
  } finally {
    closeSync(fd);
  }
  return embedded;
}

/** Trains the index on a sample where its type needs it, adds every vector, writes it to `path`. */
async function writeIndex(partial: PartialVectors, count: number, factory: string, path: string, trainSample: number, progress: (line: string) => void): Promise<void> {
  const index = FaissIndex.create(partial.d, factory);
  const file = { path: partial.path, offset: 0, d: partial.d };
  try {
    if (!index.info.isTrained) {
      const sample = sampleVectors(file, count, trainSample, 1216).vectors;
      progress(`index: training ${factory} on ${sample.length / partial.d} vectors`);
      index.train(sample);
    }
    await forEachChunk(file, 0, count, 65_536, (vectors) => index.add(vectors));
    index.write(path);
  } finally {
    index.dispose();
  }
}
