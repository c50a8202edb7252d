// Loads the native addon (native/, libtorch behind N-API) and applies the
// process-wide settings that make it fast without the user exporting
// anything: OpenMP threads that sleep instead of spinning (they otherwise
// fight OpenBLAS's own threads), and one compute thread per core (libtorch
// starts with one here).
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

/** The id the addon returns for a tensor it holds; owned by a `Tensor`. */
export type NativeTensor = number;

type T = NativeTensor;

export interface OptimizerOptions {
  lr?: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
  momentum?: number;
  dampening?: number;
  nesterov?: boolean;
}

export interface NativeOptimizerState {
  steps: number[];
  slots: Record<string, (NativeTensor | null)[]>;
}

export interface NativeOptimizer {
  step(): void;
  zeroGrad(setToNone?: boolean): void;
  getLr(): number;
  setLr(lr: number): void;
  getState(): NativeOptimizerState;
  setState(state: NativeOptimizerState): void;
  resetState(): void;
}

/** Everything the addon exports; argument order as in native/src/*.cc. */
export interface NativeAddon {
  Optimizer: new (kind: 'adamw' | 'sgd', params: T[], options: OptimizerOptions) => NativeOptimizer;

  dispose(t: T): void;
  isDisposed(t: T): boolean;
  shape(t: T): number[];
  dtype(t: T): string;
  device(t: T): string;
  numel(t: T): number;
  isContiguous(t: T): boolean;

  zeros(shape: number[], dtype?: string, device?: string): T;
  ones(shape: number[], dtype?: string, device?: string): T;
  full(shape: number[], value: number, dtype?: string, device?: string): T;
  arange(start: number, end: number, step: number, dtype?: string, device?: string): T;
  randn(shape: number[], dtype?: string, device?: string): T;
  rand(shape: number[], dtype?: string, device?: string): T;
  randint(low: number, high: number, shape: number[], dtype?: string, device?: string): T;
  fromBuffer(data: ArrayBufferView, shape: number[], dtype: string): T;
  toBuffer(t: T): ArrayBuffer;
  item(t: T): number;

  add(a: T, b: T): T;
  addScalar(a: T, b: number): T;
  sub(a: T, b: T): T;
  subScalar(a: T, b: number): T;
  mul(a: T, b: T): T;
  mulScalar(a: T, b: number): T;
  div(a: T, b: T): T;
  divScalar(a: T, b: number): T;
  pow(a: T, b: T): T;
  powScalar(a: T, b: number): T;
  eq(a: T, b: T): T;
  eqScalar(a: T, b: number): T;
  ne(a: T, b: T): T;
  neScalar(a: T, b: number): T;
  lt(a: T, b: T): T;
  ltScalar(a: T, b: number): T;
  le(a: T, b: T): T;
  leScalar(a: T, b: number): T;
  gt(a: T, b: T): T;
  gtScalar(a: T, b: number): T;
  ge(a: T, b: T): T;
  geScalar(a: T, b: number): T;
  maximum(a: T, b: T): T;
  minimum(a: T, b: T): T;
  logicalAnd(a: T, b: T): T;
  logicalOr(a: T, b: T): T;
  neg(a: T): T;
  exp(a: T): T;
  log(a: T): T;
  sqrt(a: T): T;
  rsqrt(a: T): T;
  tanh(a: T): T;
  sigmoid(a: T): T;
  relu(a: T): T;
  abs(a: T): T;
  sin(a: T): T;
  cos(a: T): T;
  logicalNot(a: T): T;
  clamp(a: T, min?: number | null, max?: number | null): T;
  gelu(a: T, approximate: 'none' | 'tanh'): T;
  where(cond: T, a: T, b: T): T;
  maskedFill(a: T, mask: T, value: number): T;
  tril(a: T, diagonal?: number): T;
  triu(a: T, diagonal?: number): T;

  matmul(a: T, b: T): T;
  linear(x: T, weight: T, bias?: T | null): T;
  embedding(weight: T, ids: T, paddingIdx?: number): T;
  layerNorm(x: T, normalizedShape: number[], weight: T | null, bias: T | null, eps: number): T;
  softmax(x: T, dim: number): T;
  logSoftmax(x: T, dim: number): T;
  maskedSoftmax(x: T, blocked: T, dim: number): T;
  causalAttention(q: T, k: T, v: T, scale: number, window: number, dropout: number, useSdpa: boolean): T;
  dropout(x: T, p: number, train: boolean): T;
  crossEntropy(logits: T, target: T, ignoreIndex: number, reduction: string, labelSmoothing?: number): T;
  linearCrossEntropy(h: T, weight: T, bias: T | null, target: T, ignoreIndex: number, reduction: string): T;

  sum(x: T, dims?: number[] | null, keepdim?: boolean): T;
  mean(x: T, dims?: number[] | null, keepdim?: boolean): T;
  logsumexp(x: T, dims?: number[] | null, keepdim?: boolean): T;
  norm(x: T, p: number, dims?: number[] | null, keepdim?: boolean): T;
  maxAll(x: T): T;
  minAll(x: T): T;
  maxDim(x: T, dim: number, keepdim?: boolean): [T, T];
  minDim(x: T, dim: number, keepdim?: boolean): [T, T];
  topk(x: T, k: number, dim?: number, largest?: boolean): [T, T];
  argmax(x: T, dim?: number | null, keepdim?: boolean): T;
  cumsum(x: T, dim: number): T;

  reshape(x: T, shape: number[]): T;
  view(x: T, shape: number[]): T;
  permute(x: T, dims: number[]): T;
  transpose(x: T, dim0: number, dim1: number): T;
  asStrided(x: T, size: number[], stride: number[], storageOffset: number): T;
  contiguous(x: T): T;
  unsqueeze(x: T, dim: number): T;
  squeeze(x: T, dim?: number): T;
  expand(x: T, shape: number[]): T;
  flatten(x: T, startDim?: number, endDim?: number): T;
  narrow(x: T, dim: number, start: number, length: number): T;
  slice(x: T, dim: number, start?: number | null, end?: number | null, step?: number): T;
  select(x: T, dim: number, index: number): T;
  indexSelect(x: T, dim: number, index: T): T;
  gather(x: T, dim: number, index: T): T;
  cat(xs: T[], dim?: number): T;
  stack(xs: T[], dim?: number): T;
  split(x: T, sizeOrSizes: number | number[], dim?: number): T[];
  chunk(x: T, chunks: number, dim?: number): T[];

  to(x: T, dtype?: string | null, device?: string | null): T;
  clone(x: T): T;
  detach(x: T): T;
  copy_(dst: T, src: T): void;
  fill_(dst: T, value: number): void;

  requiresGrad(x: T): boolean;
  setRequiresGrad(x: T, value: boolean): void;
  isLeaf(x: T): boolean;
  backward(x: T, gradient?: T | null, retainGraph?: boolean): void;
  grad(x: T): T | null;
  setGrad(x: T, gradient: T | null): void;
  isGradEnabled(): boolean;
  setGradEnabled(enabled: boolean): void;

  clipGradNorm(params: T[], maxNorm: number, normType?: number): T;

  setNumThreads(n: number): void;
  getNumThreads(): number;
  manualSeed(seed: number): void;
  cudaDeviceCount(): number;
  liveTensors(): number;
  buildInfo(): { torchVersion: string; torchLibrary: string; cudaBuild: boolean; parallel: string; blas: string };
  hostReads(): { reads: number; fromDevice: number };
  allocatorStats(): { cachedBytes: number; limitBytes: number; hits: number; misses: number };
  emptyCache(): void;
  setAllocatorCacheLimit(bytes: number): void;
  sgemmSeconds(m: number, n: number, k: number, iterations: number, backend: GemmBackend): number;
  cpuInfo(): CpuInfo;
  gemmInfo(): GemmInfo;
  setGemmBackend(name: GemmBackend | 'auto'): void;
  setAutocast(dtype: 'bfloat16' | null): void;
  getAutocast(): string | null;
  profilerStart(): void;
  profilerStop(): OpProfileRow[];

  indexFactory(d: number, description: string, metric?: 'l2' | 'ip'): number;
  indexRead(path: string, mmap?: boolean): number;
  indexWrite(index: number, path: string): void;
  indexInfo(index: number): { d: number; ntotal: number; isTrained: boolean; metric: string; type: string; nlist?: number; nprobe?: number; efSearch?: number };
  indexTrain(index: number, vectors: Float32Array): void;
  indexAdd(index: number, vectors: Float32Array): void;
  indexSearch(
    index: number,
    queries: Float32Array,
    k: number,
    reconstruct?: boolean,
  ): Promise<{ distances: Float32Array; ids: BigInt64Array; vectors?: Float32Array }>;
  indexReconstructN(index: number, start: number, n: number): Float32Array;
  indexSetParameter(index: number, name: string, value: number): void;
  indexFree(index: number): void;
}

/** What the CPU offers, from CPUID (native/src/cpu_features.h). */
export interface CpuInfo {
  vendor: string;
  brand: string;
  family: number;
  model: number;
  avx2: boolean;
  /** AVX-512 F/BW/VL/DQ with OS support. */
  avx512: boolean;
  avx512Bf16: boolean;
  amxBf16: boolean;
  /** AMX or AVX512_BF16: bf16 matmuls in hardware. */
  nativeBf16: boolean;
}

/** The library that computes every fp32 GEMM (native/src/gemm_dispatch.h). */
export type GemmBackend = 'openblas' | 'onednn';

export interface GemmInfo {
  backend: GemmBackend;
  /** Why auto chose it, or "requested". */
  reason: string;
  /** OpenBLAS's kernel set ("Zen", "Haswell", "SkylakeX", "Prescott"); "" when libblas is not OpenBLAS. */
  openblasCore: string;
  onednnAvailable: boolean;
  onednnVersion: string;
  /** The ISA oneDNN's kernels use here ("avx2", "avx512_core_amx"). */
  onednnIsa: string;
  openblasCalls: number;
  onednnCalls: number;
}

/** One op's line of the op profiler: calls, self time (without the ops it called) and total time, in microseconds. */
export interface OpProfileRow {
  name: string;
  calls: number;
  selfUs: number;
  totalUs: number;
}

const defaultAddonPath = fileURLToPath(new URL('../../../native/build/Release/tttnn_native.node', import.meta.url));

/**
 * The addon file this process loads: native/build's (the default build), or
 * TTTNN_ADDON's — a second build against another libtorch, e.g.
 * native/variants/torch2-cpu/build/Release/tttnn_native.node from
 * scripts/build-addon.sh — so both can sit side by side.
 */
export const addonPath = process.env['TTTNN_ADDON'] ? resolve(process.env['TTTNN_ADDON']) : defaultAddonPath;

function load(): NativeAddon {
  if (!existsSync(addonPath)) {
    throw new Error(
      process.env['TTTNN_ADDON']
        ? `tttnn: TTTNN_ADDON=${process.env['TTTNN_ADDON']} names no file (${addonPath}); build it with scripts/build-addon.sh NAME TORCH_DIR or unset TTTNN_ADDON`
        : `tttnn: native addon not built (${addonPath} is missing). Run \`npm run setup\` ` +
            '(installs libtorch and builds native/; see README.md).',
    );
  }
  // Read by libgomp when libtorch loads it, so it must be set before require().
  process.env['OMP_WAIT_POLICY'] ??= 'PASSIVE';
  const addon = createRequire(import.meta.url)(addonPath) as NativeAddon;
  const requested = Number(process.env['TTTNN_NUM_THREADS'] ?? '');
  addon.setNumThreads(Number.isInteger(requested) && requested > 0 ? requested : availableParallelism());
  return addon;
}

/** The loaded addon. Engine modules call it; other layers use the engine. */
export const native: NativeAddon = load();
