// Creating tensors: constants, ranges, random values (seeded through
// `manualSeed`), and from JS data.
import { native } from './native.js';
import { Tensor } from './tensor.js';
import { checkDevice } from './device.js';
import { dtypeOfTypedArray, packNumbers, type AnyTypedArray, type DType } from './dtype.js';

export interface TensorOptions {
  /** Default float32 (int64 for randint). */
  dtype?: DType;
  /** "cpu" (default), "cuda", "cuda:N". */
  device?: string;
}

function checkShape(shape: readonly number[]): number[] {
  for (const size of shape) {
    if (!Number.isInteger(size) || size < 0) throw new RangeError(`invalid shape [${shape.join(', ')}]`);
  }
  return [...shape];
}

export function zeros(shape: readonly number[], options: TensorOptions = {}): Tensor {
  return new Tensor(native.zeros(checkShape(shape), options.dtype, checkDevice(options.device)));
}

export function ones(shape: readonly number[], options: TensorOptions = {}): Tensor {
  return new Tensor(native.ones(checkShape(shape), options.dtype, checkDevice(options.device)));
}

export function full(shape: readonly number[], value: number, options: TensorOptions = {}): Tensor {
  return new Tensor(native.full(checkShape(shape), value, options.dtype, checkDevice(options.device)));
}

/** [start, end) with `step`; dtype int64 when all three are integers (as torch.arange). */
export function arange(start: number, end: number, step = 1, options: TensorOptions = {}): Tensor {
  return new Tensor(native.arange(start, end, step, options.dtype, checkDevice(options.device)));
}

/** Standard normal samples from the global generator (see manualSeed). */
export function randn(shape: readonly number[], options: TensorOptions = {}): Tensor {
  return new Tensor(native.randn(checkShape(shape), options.dtype, checkDevice(options.device)));
}

/** Uniform samples in [0, 1). */
export function rand(shape: readonly number[], options: TensorOptions = {}): Tensor {
  return new Tensor(native.rand(checkShape(shape), options.dtype, checkDevice(options.device)));
}

/** Uniform integers in [low, high). */
export function randint(low: number, high: number, shape: readonly number[], options: TensorOptions = {}): Tensor {
  return new Tensor(native.randint(low, high, checkShape(shape), options.dtype, checkDevice(options.device)));
}

type Nested = number | boolean | readonly Nested[];

/**
 * A tensor from JS data: a typed array (its dtype is implied; pass `shape`),
 * or (nested) arrays of numbers or booleans (shape inferred; dtype float32
 * unless given, bool for booleans).
 */
export function tensor(data: AnyTypedArray | Nested, options: TensorOptions & { shape?: readonly number[] } = {}): Tensor {
  if (ArrayBuffer.isView(data)) {
    const dtype = options.dtype ?? dtypeOfTypedArray(data);
    const shape = checkShape(options.shape ?? [data.length]);
    const handle = native.fromBuffer(data, shape, dtype);
    return moveTo(new Tensor(handle), options.device);
  }
  const shape = inferShape(data);
  if (options.shape && options.shape.reduce((a, b) => a * b, 1) !== shape.reduce((a, b) => a * b, 1)) {
    throw new RangeError(`tensor(): ${shape.join('x')} values do not fill shape [${options.shape.join(', ')}]`);
  }
  const flat: (number | boolean)[] = [];
  flattenInto(data, flat);
  const dtype = options.dtype ?? (typeof flat[0] === 'boolean' ? 'bool' : 'float32');
  const numbers = flat.map(Number);
  const finalShape = checkShape(options.shape ?? shape);
  if (dtype === 'float16' || dtype === 'bfloat16') {
    const wide = new Tensor(native.fromBuffer(packNumbers(numbers, 'float32'), finalShape, 'float32'));
    try {
      return wide.to({ dtype, ...(options.device ? { device: options.device } : {}) });
    } finally {
      wide.dispose();
    }
  }
  return moveTo(new Tensor(native.fromBuffer(packNumbers(numbers, dtype), finalShape, dtype)), options.device);
}

function moveTo(t: Tensor, device: string | undefined): Tensor {
  if (device === undefined || device === 'cpu') return t;
  try {
    return t.to({ device });
  } finally {
    t.dispose();
  }
}

function flattenInto(data: Nested, out: (number | boolean)[]): void {
  if (Array.isArray(data)) for (const item of data as readonly Nested[]) flattenInto(item, out);
  else out.push(data as number | boolean);
}

function inferShape(data: Nested): number[] {
  const shape: number[] = [];
  let level: Nested = data;
  while (Array.isArray(level)) {
    shape.push(level.length);
    level = (level as readonly Nested[])[0] as Nested;
  }
  checkRagged(data, shape, 0);
  return shape;
}

function checkRagged(data: Nested, shape: number[], depth: number): void {
  if (depth === shape.length) {
    if (Array.isArray(data)) throw new RangeError('tensor(): ragged nested array');
    return;
  }
  if (!Array.isArray(data) || data.length !== shape[depth]) throw new RangeError('tensor(): ragged nested array');
  for (const item of data as readonly Nested[]) checkRagged(item, shape, depth + 1);
}
