// Which retrieved candidates a document trains on, and in which order.
//
//   knn     the nearest ones, nearest first: TTT-NN as the original
//           (eval_tttlm.py:180-186); the default.
//   sift    SIFT (Hübotter et al., "Efficiently learning at test-time:
//           active fine-tuning of LLMs", 2024; code jonhue/activeft): VTL
//           greedily picks the candidate that most reduces the posterior
//           variance of the query's value under a Gaussian process whose
//           kernel is the inner product of the embeddings, with noise
//           variance lambda; a pick conditions the kernel on it, so a near
//           duplicate of what was picked adds almost nothing and is passed
//           over. A candidate may be picked again (activeft does not
//           exclude it either): training on it again can still reduce the
//           variance more than anything else.
//   random  candidates drawn uniformly without replacement: the control that
//           says how much of SIFT's gain is just not taking the nearest.
//
// The kernel. activeft computes inner products of the vectors FAISS returns;
// its experiments search unit-normalized embeddings with an inner-product
// index, so the kernel there is the cosine similarity. tttnn's indexes hold
// the raw mean-pooled vectors (the original TTT-NN searches them by L2), so
// `cosine` (the default) normalizes the vectors first and is the kernel
// activeft's experiments use, and `inner-product` takes them as they are.
import type { RetrievedNeighbor } from './retriever.js';

export type Selection = 'knn' | 'sift' | 'random';
export const SELECTIONS: readonly Selection[] = ['knn', 'sift', 'random'];
export type SiftKernel = 'cosine' | 'inner-product';

/** Why selection picked no more. */
export type SelectionStop = 'count' | 'alpha' | 'candidates';

export interface SelectionSettings {
  selection: Selection;
  /** How many to pick (the evaluation's --num-neighbors). */
  count: number;
  /** SIFT: the observation noise variance lambda (activeft's default 0.01, sift.py Retriever lambda_). */
  lambda: number;
  /** SIFT's adaptive stopping (activeft sift.py, "Adaptive SIFT"); undefined: pick `count`. */
  alpha?: number;
  kernel: SiftKernel;
}

export interface SelectedNeighbors {
  /** Picked candidates in training order (SIFT may pick one twice). */
  neighbors: RetrievedNeighbor[];
  /** SIFT: the query's posterior variance after each pick (what activeft returns negated as its acquisition values). */
  variances?: number[];
  stop: SelectionStop;
}

/**
 * Picks from `candidates` (nearest first) for the query vector.
 * `random` gives uniform [0, 1) numbers (seeded per document by the caller).
 */
export function selectNeighbors(candidates: readonly RetrievedNeighbor[], query: Float32Array, s: SelectionSettings, random: () => number): SelectedNeighbors {
  const n = Math.min(s.count, candidates.length);
  const stop: SelectionStop = n < s.count ? 'candidates' : 'count';
  switch (s.selection) {
    case 'knn':
      return { neighbors: candidates.slice(0, n), stop };
    case 'random': {
      const pool = [...candidates];
      // Partial Fisher-Yates: the first n of a uniform shuffle.
      for (let i = 0; i < n; i++) {
        const j = i + Math.floor(random() * (pool.length - i));
        [pool[i], pool[j]] = [pool[j]!, pool[i]!];
      }
      return { neighbors: pool.slice(0, n), stop };
    }
    case 'sift': {
      if (candidates.length === 0) return { neighbors: [], variances: [], stop: 'candidates' };
      const vectors = candidates.map((c) => c.vector);
      const picks = vtlSelect(vectors, query, s.count, s.lambda, s.kernel);
      const keep = s.alpha === undefined ? picks.map(() => true) : adaptiveKeep(picks.map((p) => p.variance), s.alpha);
      const chosen = picks.filter((_, t) => keep[t]);
      const why: SelectionStop = chosen.length < picks.length ? 'alpha' : 'count';
      return { neighbors: chosen.map((p) => candidates[p.index]!), variances: chosen.map((p) => p.variance), stop: why };
    }
  }
}

/**
 * VTL with one prediction target (the query), exactly as activeft's VTL over
 * BaCE computes it: k is the kernel matrix of [candidates; query]; at every
 * step pick
 *   i = argmin_j  k(q,q) - k(q,j)^2 / (k(j,j) + lambda)
 * (the query's posterior variance after observing j; ties: the nearest
 * candidate, as torch.argmax takes the first), then condition the kernel on
 * the noisy observation of i:
 *   k(a,b) <- k(a,b) - k(a,i) k(i,b) / (k(i,i) + lambda).
 * Returns the picks in order with the variance each leaves. O(K^2) per pick.
 */
export function vtlSelect(vectors: readonly Float32Array[], query: Float32Array, count: number, lambda: number, kernel: SiftKernel): { index: number; variance: number }[] {
  if (!(lambda > 0)) throw new RangeError(`SIFT's lambda must be positive, got ${lambda}`);
  const points = [...vectors, query].map((v) => (kernel === 'cosine' ? normalized(v) : Float64Array.from(v)));
  const m = points.length; // candidates + the query (last)
  const q = m - 1;
  const k = new Float64Array(m * m);
  for (let a = 0; a < m; a++) {
    for (let b = a; b < m; b++) {
      const x = dot(points[a]!, points[b]!);
      k[a * m + b] = x;
      k[b * m + a] = x;
    }
  }
  const picks: { index: number; variance: number }[] = [];
  const column = new Float64Array(m);
  for (let step = 0; step < count; step++) {
    let best = -1;
    let bestVariance = Infinity;
    for (let j = 0; j < q; j++) {
      const kqj = k[q * m + j]!;
      const variance = k[q * m + q]! - (kqj * kqj) / (k[j * m + j]! + lambda);
      if (variance < bestVariance) {
        bestVariance = variance;
        best = j;
      }
    }
    picks.push({ index: best, variance: bestVariance });
    const denominator = k[best * m + best]! + lambda;
    for (let a = 0; a < m; a++) column[a] = k[a * m + best]!;
    for (let a = 0; a < m; a++) {
      const ca = column[a]! / denominator;
      if (ca === 0) continue;
      for (let b = 0; b < m; b++) k[a * m + b] = k[a * m + b]! - ca * column[b]!;
    }
  }
  return picks;
}

/**
 * Adaptive SIFT, as activeft's sift.py computes it: pick t (1-based) is kept
 * when the query's remaining uncertainty sqrt(variance_t) is at most
 * 1 / (alpha t), and dropped otherwise (activeft filters the picks with this
 * test rather than cutting at the first failure, and so do we).
 */
export function adaptiveKeep(variances: readonly number[], alpha: number): boolean[] {
  if (!(alpha > 0)) throw new RangeError(`--sift-alpha must be positive, got ${alpha}`);
  return variances.map((v, i) => Math.sqrt(Math.max(v, 0)) <= 1 / (alpha * (i + 1)));
}

function normalized(v: Float32Array): Float64Array {
  const out = Float64Array.from(v);
  const norm = Math.sqrt(dot(out, out));
  if (norm > 0) for (let i = 0; i < out.length; i++) out[i] = out[i]! / norm;
  return out;
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}
