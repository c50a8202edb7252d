// A FAISS index (through the native addon): FAISS's factory strings and file
// format, searches off the JS thread. Vectors travel as Float32Arrays of
// n x d values; ids are the 0-based order in which vectors were added, which
// tttnn keeps equal to the document's line in its data file.
import { statSync } from 'node:fs';
import { basename } from 'node:path';
import { native } from '../engine/native.js';
import { replaceDurably } from '../io/durable.js';
import { IndexFileChangedError, checkIndexFile } from './index-file-check.js';
import { probeIndexFile } from './index-file-probe.js';

export interface SearchResult {
  /** [n x k] squared L2 distances (or inner products), nearest first. */
  distances: Float32Array;
  /** [n x k] ids; -1 where fewer than k vectors exist. */
  ids: BigInt64Array;
  /** [n x k x d] the stored vectors, when asked for. */
  vectors?: Float32Array;
}

/** The most neighbours one search returns per query (the results are n x k ids, distances and, on request, vectors). */
const MAX_K = 1 << 20;

/** What identifies a file's contents cheaply: a rewrite in place or a replacement changes one of these. */
function fileStamp(path: string): string {
  const { size, mtimeMs, ino } = statSync(path);
  return `${size}:${mtimeMs}:${ino}`;
}

export class FaissIndex {
  private disposed = false;
  /** For an index read with mmap: its file's stamp when it was read, checked before every use. */
  private mapped: { path: string; stamp: string } | null = null;

  private constructor(
    private readonly id: number,
    /** Where it was read from, for messages. */
    readonly origin: string,
  ) {}

  /** A new empty index from a FAISS factory string: "Flat", "IVF4096,PQ64", "HNSW32", "SQ8", ... */
  static create(dimension: number, factory: string, metric: 'l2' | 'ip' = 'l2'): FaissIndex {
    try {
      return new FaissIndex(native.indexFactory(dimension, factory, metric), `new ${factory} index`);
    } catch (error) {
      throw new Error(`invalid index factory string "${factory}": ${(error as Error).message}`);
    }
  }

  /**
   * Reads a FAISS index file, after checking it (index-file-check.ts: Flat
   * and HNSW field by field, other kinds opened first in a child process), so
   * that a corrupt or crafted file is an error, never a crash. `mmap` leaves
   * IVF inverted lists on disk where FAISS supports it; the file is then
   * checked for changes before every search.
   */
  static read(path: string, options: { mmap?: boolean } = {}): FaissIndex {
    const mmap = options.mmap ?? false;
    const stamp = fileStamp(path);
    if (checkIndexFile(path).checked === 'header') probeIndexFile(path, mmap);
    const index = FaissIndex.readUnchecked(path, mmap);
    if (fileStamp(path) !== stamp) {
      // Replaced or rewritten between the check and FAISS's read: what FAISS read was not what was checked.
      index.dispose();
      throw new IndexFileChangedError(`${path}: the index file changed while it was being read; read it again once it is complete`);
    }
    if (mmap) index.mapped = { path, stamp };
    return index;
  }

  /** Reads without the checks: only for a process that may crash (index-file-probe.ts). */
  static readUnchecked(path: string, mmap: boolean): FaissIndex {
    try {
      return new FaissIndex(native.indexRead(path, mmap), path);
    } catch (error) {
      throw new Error(`${path}: cannot read the FAISS index (${(error as Error).message}); is the file truncated or not an index?`);
    }
  }

  private get handle(): number {
    if (this.disposed) throw new Error(`${this.origin}: index was disposed`);
    if (this.mapped !== null && fileStamp(this.mapped.path) !== this.mapped.stamp) {
      throw new IndexFileChangedError(`${this.mapped.path}: the index file changed on disk while memory-mapped (--mmap); restart the server on the new file`);
    }
    return this.id;
  }

  /** What FAISS says of it; nlist and nprobe for an IVF (also behind PCA/OPQ), efSearch for an HNSW: the search parameters in use. */
  get info(): { d: number; ntotal: number; isTrained: boolean; metric: string; type: string; nlist?: number; nprobe?: number; efSearch?: number } {
    return native.indexInfo(this.handle);
  }
  get dimension(): number {
    return this.info.d;
  }
  get size(): number {
    return this.info.ntotal;
  }

  train(vectors: Float32Array): void {
    native.indexTrain(this.handle, vectors);
  }

  add(vectors: Float32Array): void {
    native.indexAdd(this.handle, vectors);
  }

  /** k nearest neighbours of each query (n x d), computed on a worker thread. */
  search(queries: Float32Array, k: number, options: { reconstruct?: boolean } = {}): Promise<SearchResult> {
    // The addon reads numbers as int64 (NaN as 0) and allocates n x k results: check here, the one way in.
    if (!Number.isSafeInteger(k) || k < 1 || k > MAX_K) return Promise.reject(new RangeError(`k must be an integer from 1 to ${MAX_K}, got ${k}`));
    return native.indexSearch(this.handle, queries, k, options.reconstruct ?? false);
  }

  /** Vectors start .. start + n - 1 (exact for Flat, decoded for compressed indexes). */
  reconstruct(start: number, n: number): Float32Array {
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(n) || start < 0 || n < 0 || start + n > this.size) {
      throw new RangeError(`reconstruct: vectors [${start}, ${start + n}) are not a range of integers inside the index's ${this.size} vectors`);
    }
    return native.indexReconstructN(this.handle, start, n);
  }

  /** A search-time parameter: nprobe (IVF), efSearch (HNSW), ... */
  setParameter(name: string, value: number): void {
    native.indexSetParameter(this.handle, name, value);
  }

  /** Writes FAISS's own format (durably: temporary file, fsync, rename; see io/durable.ts). */
  write(path: string): void {
    replaceDurably(path, (temporary) => native.indexWrite(this.handle, temporary));
  }

  dispose(): void {
    if (!this.disposed) native.indexFree(this.id);
    this.disposed = true;
  }

  toString(): string {
    return `FaissIndex(${basename(this.origin)})`;
  }
}

