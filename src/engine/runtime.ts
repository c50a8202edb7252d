// Process-wide engine settings and facts: threads, seeding, devices, memory.
import { addonPath, native, type CpuInfo, type GemmBackend, type GemmInfo, type OpProfileRow } from './native.js';

export type { CpuInfo, GemmBackend, GemmInfo, OpProfileRow };

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
  /** The libtorch shared library this process loaded (libtorch_cpu.so's path). */
  torchLibrary: string;
  /** The addon file loaded (native/build's, or TTTNN_ADDON's). */
  addon: string;
  /** The addon links libtorch_cuda (a CUDA PyTorch); whether a GPU is present is cudaDevices. */
  cudaBuild: boolean;
  /** OpenBLAS's build configuration string. */
  blas: string;
  threads: number;
  cudaDevices: number;
  parallel: string;
  cpu: CpuInfo;
  gemm: GemmInfo;
}

export function engineInfo(): EngineInfo {
  const info = native.buildInfo();
  return { ...info, addon: addonPath, threads: native.getNumThreads(), cudaDevices: native.cudaDeviceCount(), cpu: native.cpuInfo(), gemm: native.gemmInfo() };
}

/**
 * Reads of tensor data into JS since the addon loaded (item(), toTypedArray(),
 * toNumbers(), a tensor moved to the CPU) and, of those, copies from a
 * non-CPU device. Each copy from a GPU waits for it, so a training step's
 * count is part of its contract (test/engine/host-reads.test.ts).
 */
export function hostReadCounts(): { reads: number; fromDevice: number } {
  return native.hostReads();
}

/** The CPU's vendor, model and vector features (CPUID). */
export function cpuInfo(): CpuInfo {
  return native.cpuInfo();
}

/**
 * Which library computes fp32 GEMMs from now on (every libtorch matmul, forward and backward, and FAISS's).
 * "auto" (the default at load, unless TTTNN_GEMM says otherwise) picks oneDNN where OpenBLAS's kernel set
 * does not use the CPU's widest vector ISA; see native/src/gemm_dispatch.h.
 */
export function setGemmBackend(name: GemmBackend | 'auto'): void {
  native.setGemmBackend(name);
}

/** The current GEMM backend, why it was chosen, and how many GEMM calls each backend served since load. */
export function gemmInfo(): GemmInfo {
  return native.gemmInfo();
}

/** One line naming what computes matmuls here, for logs and benchmark headers. */
export function describeEngine(): string {
  const { cpu, gemm, threads } = engineInfo();
  const features = [cpu.avx512 ? 'AVX-512' : cpu.avx2 ? 'AVX2' : 'SSE', cpu.avx512Bf16 ? 'AVX512_BF16' : '', cpu.amxBf16 ? 'AMX' : '']
    .filter(Boolean)
    .join('+');
  const blas = gemm.openblasCore ? `OpenBLAS ${gemm.openblasCore} kernels` : 'BLAS (not OpenBLAS)';
  const onednn = gemm.onednnAvailable ? `oneDNN ${gemm.onednnVersion} ${gemm.onednnIsa}` : 'no oneDNN';
  return `${cpu.brand || cpu.vendor} (family ${cpu.family} model ${cpu.model}, ${features}); GEMM ${gemm.backend} (${gemm.reason}); ${blas}; ${onednn}; ${threads} threads`;
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

/** Seconds for one raw sgemm C[m,n] = A[m,k] @ B[k,n] through `backend` (default: the current one), with no framework around it: the ceiling benchmarks compare to. */
export function rawSgemmSeconds(m: number, n: number, k: number, iterations: number, backend: GemmBackend = native.gemmInfo().backend): number {
  return native.sgemmSeconds(m, n, k, iterations, backend);
}

/** Runs `fn` with the op profiler on; returns its result and every ATen op's calls and times, largest self time first. */
export function profileOps<T>(fn: () => T): { result: T; ops: OpProfileRow[] } {
  native.profilerStart();
  let result: T;
  try {
    result = fn();
  } catch (error) {
    native.profilerStop();
    throw error;
  }
  return { result, ops: native.profilerStop().sort((a, b) => b.selfUs - a.selfUs) };
}
