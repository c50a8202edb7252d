// Process-wide engine settings and facts: threads, seeding, devices, memory.
import { native } from './native.js';

/** Threads for intra-op parallelism and BLAS (default at load: all cores, or TTTNN_NUM_THREADS). */
export function setNumThreads(n: number): void {
  native.setNumThreads(n);
}

export function getNumThreads(): number {
  return native.getNumThreads();
}

/** Seeds the global generator used by randn, rand, randint and dropout (all devices). */
export function manualSeed(seed: number): void {
  native.manualSeed(seed);
}

export const cuda = {
  isAvailable(): boolean {
    return native.cudaDeviceCount() > 0;
  },
  deviceCount(): number {
    return native.cudaDeviceCount();
  },
};

/** Tensors currently held by live handles (a leak shows up as growth). */
export function liveTensorCount(): number {
  return native.liveTensors();
}

export interface EngineInfo {
  torchVersion: string;
  blas: string;
  threads: number;
  cudaDevices: number;
  parallel: string;
}

export function engineInfo(): EngineInfo {
  const info = native.buildInfo();
  return { ...info, threads: native.getNumThreads(), cudaDevices: native.cudaDeviceCount() };
}

/** The CPU caching allocator: freed blocks kept for reuse (best fit), bounded by limitBytes (default: a third of RAM, at most 8 GiB). */
export const cpuAllocator = {
  stats(): { cachedBytes: number; limitBytes: number; hits: number; misses: number } {
    return native.allocatorStats();
  },
  /** Returns every cached block to the system. */
  emptyCache(): void {
    native.emptyCache();
  },
  setCacheLimit(bytes: number): void {
    native.setAllocatorCacheLimit(bytes);
  },
};

/** Seconds for one raw BLAS sgemm C[m,n] = A[m,k] @ B[k,n] (the ceiling benchmarks compare to). */
export function rawSgemmSeconds(m: number, n: number, k: number, iterations: number): number {
  return native.sgemmSeconds(m, n, k, iterations);
}
