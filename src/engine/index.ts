// The tensor engine: libtorch tensors with autograd, optimizers and scopes.
export { Tensor } from './tensor.js';
export { DTYPES, isDType, isFloatingDType, type DType, type AnyTypedArray } from './dtype.js';
export { tidy, keep, scopeDepth } from './scope.js';
export { zeros, ones, full, arange, randn, rand, randint, tensor, type TensorOptions } from './creation.js';
export {
  cat,
  stack,
  where,
  linear,
  embedding,
  layerNorm,
  gelu,
  softmax,
  maskedSoftmax,
  causalAttention,
  logSoftmax,
  dropout,
  crossEntropy,
  linearCrossEntropy,
  type CrossEntropyOptions,
} from './functional.js';
export { noGrad, isGradEnabled } from './autograd.js';
export { checkDevice } from './device.js';
export { inference } from './inference.js';
export { Optimizer, AdamW, SGD, clipGradNorm, type OptimizerState, type AdamWOptions, type SGDOptions } from './optim.js';
export { snapshotParameters, restoreParameters, disposeAll } from './parameters.js';
export {
  setNumThreads,
  getNumThreads,
  manualSeed,
  cuda,
  liveTensorCount,
  hostReadCounts,
  engineInfo,
  cpuAllocator,
  rawSgemmSeconds,
  cpuInfo,
  setGemmBackend,
  gemmInfo,
  describeEngine,
  profileOps,
  type EngineInfo,
  type CpuInfo,
  type GemmBackend,
  type GemmInfo,
  type OpProfileRow,
} from './runtime.js';
export {
  PRECISIONS,
  isPrecision,
  resolvePrecision,
  setPrecision,
  currentPrecision,
  withPrecision,
  withPrecisionAsync,
  type Precision,
  type EffectivePrecision,
  type ResolvedPrecision,
} from './precision.js';
