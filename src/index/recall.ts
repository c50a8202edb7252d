// What a compressed index loses against the Flat index it was converted
// from: for N query vectors, the exact k nearest (a brute-force search of the
// Flat file chunk by chunk, never the whole file in memory) against the
// compressed index's answers at each search setting (nprobe for IVF,
// efSearch for HNSW), with the time per query and the bytes per vector.
//
// recall@R is FAISS's "1-recall@R": the share of queries whose exact nearest
// neighbour is among the compressed index's first R. overlap@k is the mean
// share of the exact k nearest that the compressed index also returns in its
// first k (the neighbour *set* TTT-NN trains on, for k = 50).
//
// Queries are vectors sampled from the Flat index (seeded) or, with
// queryIndex, the vectors of another Flat file (held-out documents embedded
// with `index build`). A sampled vector is its own nearest neighbour at
// distance 0; it is left out of both lists, so that the figures are about
// its neighbours, as they would be for a document not in the index.
import { statSync } from 'node:fs';
import { FaissIndex } from './faiss-index.js';
import { readFlatLayout, type FlatFileLayout } from './index-file-check.js';
import { forEachChunk, readVectors, sampleVectors, type VectorFile } from './vector-file.js';
import { yieldToEventLoop } from '../io/event-loop.js';

export interface RecallOptions {
  /** The Flat index (the exact answers). */
  exact: string;
  /** The compressed index converted from it. */
  approx: string;
  /** Query vectors: sampled from `exact` (default 1,000), or the first N of queryIndex. */
  queries?: number;
  seed?: number;
  /** A Flat index file of held-out query vectors instead of sampled ones. */
  queryIndex?: string;
  nprobe?: number[];
  efSearch?: number[];
  /** Vectors of the Flat file searched at a time (default 65,536). */
  chunkVectors?: number;
  progress?: (line: string) => void;
}

export interface RecallRow {
  /** The search setting, as "nprobe=16" or "efSearch=64" ("as stored" when none was set). */
  setting: string;
  recallAt1: number;
  recallAt10: number;
  recallAt50: number;
  overlapAt10: number;
  overlapAt50: number;
  msPerQuery: number;
  /** No other setting has at least its recall@50 in less time. */
  pareto: boolean;
}

export interface RecallReport {
  exact: { path: string; vectors: number; bytesPerVector: number };
  approx: { path: string; type: string; vectors: number; bytesPerVector: number; nlist?: number };
  queries: number;
  querySource: 'sampled' | 'held-out';
  k: number;
  rows: RecallRow[];
}

const K = 50;

/** Neighbour lists of n queries: ids and distances, best first. */
interface Neighbours {
  ids: number[][];
  distances: number[][];
}

/** The exact `k` nearest of every query: each chunk of the Flat file searched by a Flat index of that chunk, the lists merged. */
async function exactSearch(layout: FlatFileLayout, file: VectorFile, queries: Float32Array, k: number, chunk: number, progress: (line: string) => void): Promise<Neighbours> {
  const n = queries.length / layout.d;
  const better = layout.metric === 'ip' ? (a: number, b: number) => b - a : (a: number, b: number) => a - b;
  const all: Neighbours = { ids: Array.from({ length: n }, () => []), distances: Array.from({ length: n }, () => []) };
  const pending: Promise<void>[] = [];
  let searched = 0;
  await forEachChunk(file, 0, layout.ntotal, chunk, (vectors, first) => {
    const flat = FaissIndex.create(layout.d, 'Flat', layout.metric);
    flat.add(vectors); // copied into the index: the chunk buffer is reused
    pending.push(
      flat.search(queries, Math.min(k, vectors.length / layout.d)).then((result) => {
        flat.dispose();
        const kk = result.ids.length / n;
        for (let q = 0; q < n; q++) {
          const merged: [number, number][] = all.ids[q]!.map((id, j) => [all.distances[q]![j]!, id]);
          for (let j = 0; j < kk; j++) if (result.ids[q * kk + j]! >= 0n) merged.push([result.distances[q * kk + j]!, first + Number(result.ids[q * kk + j]!)]);
          merged.sort((a, b) => better(a[0], b[0]) || a[1] - b[1]);
          all.ids[q] = merged.slice(0, k).map((m) => m[1]);
          all.distances[q] = merged.slice(0, k).map((m) => m[0]);
        }
      }),
    );
    searched += vectors.length / layout.d;
  }, async () => {
    await Promise.all(pending.splice(0)); // one chunk in memory at a time
    progress(`index recall: exact search ${searched}/${layout.ntotal} vectors`);
    await yieldToEventLoop();
  });
  return all;
}

/** Drops each query's own id (a sampled query finds itself) and keeps the first k. */
function withoutSelf(lists: number[][], self: number[] | null, k: number): number[][] {
  return lists.map((ids, q) => (self === null ? ids : ids.filter((id) => id !== self[q])).slice(0, k));
}

function measure(exact: number[][], approx: number[][], ms: number, setting: string): RecallRow {
  const n = exact.length;
  const hit = (r: number) => exact.filter((e, q) => e.length > 0 && approx[q]!.slice(0, r).includes(e[0]!)).length / n;
  const overlap = (k: number) => exact.reduce((sum, e, q) => {
    const top = new Set(e.slice(0, k));
    const want = Math.min(k, top.size);
    return sum + (want === 0 ? 1 : approx[q]!.slice(0, k).filter((id) => top.has(id)).length / want);
  }, 0) / n;
  return { setting, recallAt1: hit(1), recallAt10: hit(10), recallAt50: hit(50), overlapAt10: overlap(10), overlapAt50: overlap(50), msPerQuery: ms, pareto: false };
}

/** Marks the rows no other row beats on both recall@50 (higher) and time (lower). */
export function markPareto(rows: RecallRow[]): RecallRow[] {
  return rows.map((row) => ({
    ...row,
    pareto: !rows.some((other) => other !== row && other.recallAt50 >= row.recallAt50 && other.msPerQuery <= row.msPerQuery && (other.recallAt50 > row.recallAt50 || other.msPerQuery < row.msPerQuery)),
  }));
}

export async function measureRecall(options: RecallOptions): Promise<RecallReport> {
  const progress = options.progress ?? ((line: string) => process.stderr.write(`${line}\n`));
  const layout = readFlatLayout(options.exact);
  const file: VectorFile = { path: options.exact, offset: layout.dataOffset, d: layout.d };
  const approx = FaissIndex.read(options.approx);
  try {
    const info = approx.info;
    if (info.d !== layout.d || info.ntotal !== layout.ntotal) {
      throw new Error(`${options.approx} holds ${info.ntotal} vectors of ${info.d} dimensions and ${options.exact} ${layout.ntotal} of ${layout.d}: it is not a conversion of that file`);
    }
    const wanted = options.queries ?? 1000;
    let queries: Float32Array;
    let self: number[] | null = null;
    if (options.queryIndex !== undefined) {
      const held = readFlatLayout(options.queryIndex);
      if (held.d !== layout.d) throw new Error(`${options.queryIndex} holds ${held.d}-dimensional vectors, ${options.exact} ${layout.d}-dimensional ones`);
      queries = readVectors({ path: options.queryIndex, offset: held.dataOffset, d: held.d }, 0, Math.min(wanted, held.ntotal));
    } else {
      const sample = sampleVectors(file, layout.ntotal, wanted, options.seed ?? 1216);
      queries = sample.vectors;
      self = sample.rows;
    }
    const n = queries.length / layout.d;
    if (n === 0) throw new Error('no query vectors: --queries must be at least 1 and the query file must hold vectors');
    const k = Math.min(K, layout.ntotal - (self === null ? 0 : 1));
    const kk = k + (self === null ? 0 : 1);
    const exact = withoutSelf((await exactSearch(layout, file, queries, kk, options.chunkVectors ?? 65_536, progress)).ids, self, k);

    const settings: { label: string; params: [string, number][] }[] = [];
    const efName = info.nlist !== undefined ? 'quantizer_efSearch' : 'efSearch'; // IVF65536_HNSW32: the coarse quantizer's HNSW
    for (const nprobe of options.nprobe?.length ? options.nprobe : [undefined]) {
      for (const ef of options.efSearch?.length ? options.efSearch : [undefined]) {
        const params: [string, number][] = [];
        if (nprobe !== undefined) params.push(['nprobe', nprobe]);
        if (ef !== undefined) params.push([efName, ef]);
        settings.push({ label: params.length ? params.map(([p, v]) => `${p}=${v}`).join(',') : `as stored${info.nprobe !== undefined ? ` (nprobe=${info.nprobe})` : ''}${info.efSearch !== undefined ? ` (efSearch=${info.efSearch})` : ''}`, params });
      }
    }
    const rows: RecallRow[] = [];
    for (const setting of settings) {
      for (const [name, value] of setting.params) {
        try {
          approx.setParameter(name, value);
        } catch (error) {
          throw new Error(`${options.approx} (${info.type}): cannot set ${name}=${value}: ${(error as Error).message}`);
        }
      }
      await approx.search(queries.subarray(0, layout.d), kk); // warm-up: first-touch of the codes
      const found: number[][] = [];
      const t = performance.now();
      // One query at a time, as a shard server answers an evaluation's queries.
      for (let q = 0; q < n; q++) {
        const result = await approx.search(queries.subarray(q * layout.d, (q + 1) * layout.d), kk);
        found.push(Array.from(result.ids, (id) => Number(id)).filter((id) => id >= 0));
      }
      const ms = (performance.now() - t) / n;
      rows.push(measure(exact, withoutSelf(found, self, k), ms, setting.label));
      progress(`index recall: ${setting.label}: recall@50 ${rows.at(-1)!.recallAt50.toFixed(3)}, ${ms.toFixed(2)} ms/query`);
    }
    return {
      exact: { path: options.exact, vectors: layout.ntotal, bytesPerVector: layout.bytes / Math.max(1, layout.ntotal) },
      approx: { path: options.approx, type: info.type, vectors: info.ntotal, bytesPerVector: statSync(options.approx).size / Math.max(1, info.ntotal), nlist: info.nlist },
      queries: n,
      querySource: self === null ? 'held-out' : 'sampled',
      k,
      rows: markPareto(rows),
    };
  } finally {
    approx.dispose();
  }
}

/** The report as a table (and the Pareto settings marked with *). */
export function formatRecall(report: RecallReport): string {
  const lines = [
    `exact:  ${report.exact.path}: ${report.exact.vectors} vectors, ${report.exact.bytesPerVector.toFixed(1)} bytes/vector`,
    `approx: ${report.approx.path}: ${report.approx.type}, ${report.approx.bytesPerVector.toFixed(1)} bytes/vector (${(report.exact.bytesPerVector / report.approx.bytesPerVector).toFixed(1)}x smaller)`,
    `${report.queries} ${report.querySource} queries${report.querySource === 'sampled' ? ' (each one itself left out of both lists)' : ''}, k = ${report.k}`,
    '',
    ['setting', 'recall@1', 'recall@10', 'recall@50', 'overlap@10', 'overlap@50', 'ms/query', 'pareto'].join('\t'),
    ...report.rows.map((r) => [r.setting, r.recallAt1.toFixed(3), r.recallAt10.toFixed(3), r.recallAt50.toFixed(3), r.overlapAt10.toFixed(3), r.overlapAt50.toFixed(3), r.msPerQuery.toFixed(3), r.pareto ? '*' : ''].join('\t')),
  ];
  return lines.join('\n');
}
