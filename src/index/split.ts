// Splitting a Flat index into N contiguous slices, one per shard server,
// named like slices built directly: <datafile>-<begin>-<end>.index, so a
// vector's id in a slice is its line number minus begin.
import { basename, dirname, join } from 'node:path';
import { FaissIndex } from './faiss-index.js';

export function sliceRanges(total: number, slices: number): [number, number][] {
  if (!Number.isInteger(slices) || slices < 1) throw new Error(`--slices must be a positive integer, got ${slices}`);
  const size = Math.ceil(total / slices);
  return Array.from({ length: slices }, (_, i) => [Math.min(total, i * size), Math.min(total, (i + 1) * size)] as [number, number]).filter(([a, b]) => b > a);
}

/** `path` is <datafile>.index; returns the slice files written. */
export function splitIndex(path: string, slices: number): string[] {
  if (!path.endsWith('.index')) throw new Error(`${path}: expected a <datafile>.index file`);
  const index = FaissIndex.read(path);
  try {
    const { type, d, ntotal, metric } = index.info;
    if (!type.startsWith('IndexFlat')) throw new Error(`${path}: split supports Flat indexes (this is ${type}); build slices of other kinds with --begin/--end`);
    const stem = path.slice(0, -'.index'.length);
    return sliceRanges(ntotal, slices).map(([begin, end]) => {
      const slice = FaissIndex.create(d, 'Flat', metric === 'ip' ? 'ip' : 'l2');
      try {
        for (let start = begin; start < end; start += 65_536) slice.add(index.reconstruct(start, Math.min(65_536, end - start)));
        const out = join(dirname(path), `${basename(stem)}-${begin}-${end}.index`);
        slice.write(out);
        return out;
      } finally {
        slice.dispose();
      }
    });
  } finally {
    index.dispose();
  }
}
