// Reading rows of float32 vectors stored back to back in a file, from a byte
// offset: the raw vectors of an interrupted `index build`
// (<index>.vectors.partial, offset 0) and the vectors of a Flat index file
// (offset: index-file-check.ts readFlatLayout). Chunks and samples are read
// with positional reads, never the whole file, so a 27 GB Flat file of the
// original's costs one chunk of memory.
import { closeSync, openSync, readSync } from 'node:fs';
import { seededRandom } from '../data/seeded-random.js';

/** Rows of `d` float32s starting at byte `offset` of `path`. */
export interface VectorFile {
  path: string;
  offset: number;
  d: number;
}

/**
 * Bytes read by one readSync and viewed by one Uint8Array: a training sample
 * of the Pile's list counts (IVF65536: 2.6M x 4 KiB, 10.6 GB) is larger than
 * a Uint8Array may be (4 GiB) or one read may ask for (2 GiB).
 */
const MAX_READ_BYTES = 1 << 30;

/** Fills `into` (whole rows) from row `row` on, at most `maxReadBytes` a read; throws naming the file when it ends early. */
export function readRows(fd: number, file: VectorFile, row: number, into: Float32Array, maxReadBytes = MAX_READ_BYTES): void {
  let done = 0;
  while (done < into.byteLength) {
    const piece = new Uint8Array(into.buffer, into.byteOffset + done, Math.min(maxReadBytes, into.byteLength - done));
    const got = readSync(fd, piece, 0, piece.length, file.offset + row * file.d * 4 + done);
    if (got === 0) throw new Error(`${file.path}: ended at byte ${file.offset + row * file.d * 4 + done} while reading vector ${row + Math.floor(done / (4 * file.d))}; was it truncated meanwhile?`);
    done += got;
  }
}

/**
 * Calls `fn(vectors, first)` with consecutive chunks of rows [start, end),
 * at most `chunk` rows each, in one reused buffer (so `fn` must copy what it
 * keeps). Awaits `between` after each chunk (a yield to the event loop, so
 * that Ctrl-C is handled).
 */
export async function forEachChunk(file: VectorFile, start: number, end: number, chunk: number, fn: (vectors: Float32Array, first: number) => void, between?: () => Promise<void>): Promise<void> {
  const fd = openSync(file.path, 'r');
  try {
    const buffer = new Float32Array(Math.max(0, Math.min(chunk, end - start)) * file.d);
    for (let first = start; first < end; first += chunk) {
      const n = Math.min(chunk, end - first);
      const view = buffer.subarray(0, n * file.d);
      readRows(fd, file, first, view);
      fn(view, first);
      if (between) await between();
    }
  } finally {
    closeSync(fd);
  }
}

/** Rows [start, start + n) as one array. */
export function readVectors(file: VectorFile, start: number, n: number): Float32Array {
  const out = new Float32Array(n * file.d);
  const fd = openSync(file.path, 'r');
  try {
    readRows(fd, file, start, out);
  } finally {
    closeSync(fd);
  }
  return out;
}

/**
 * A uniform sample of `max` of the `count` rows without replacement, drawn
 * with the project's seeded generator (seeded-random.ts), in increasing row
 * order; all rows when there are no more than `max`.
 */
export function sampleVectors(file: VectorFile, count: number, max: number, seed: number): { rows: number[]; vectors: Float32Array } {
  let rows: number[];
  if (count <= max) {
    rows = Array.from({ length: count }, (_, i) => i);
  } else {
    const random = seededRandom(seed);
    const picks = new Set<number>();
    while (picks.size < max) picks.add(Math.floor(random() * count));
    rows = [...picks].sort((a, b) => a - b);
  }
  const vectors = new Float32Array(rows.length * file.d);
  const fd = openSync(file.path, 'r');
  try {
    if (rows.length === count) readRows(fd, file, 0, vectors);
    else rows.forEach((row, i) => readRows(fd, file, row, vectors.subarray(i * file.d, (i + 1) * file.d)));
  } finally {
    closeSync(fd);
  }
  return { rows, vectors };
}
