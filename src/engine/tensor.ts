// Tensor: a typed, scope-tracked view of one libtorch tensor.
//
// Every op returns a new Tensor (views share storage, as in torch). Tensors
// created inside `tidy()` are freed when it ends; see scope.ts. Dimensions
// may be negative (counted from the end), as in torch.
import { native, type NativeTensor } from './native.js';
import { trackInScope } from './scope.js';
import { checkDevice } from './device.js';
import { isDType, typedArrayView, type AnyTypedArray, type DType } from './dtype.js';

type Operand = Tensor | number;
type BinaryOp = 'add' | 'sub' | 'mul' | 'div' | 'pow' | 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge';

// Tensor ids are numbers too, so scalar operands go to the op's Scalar form.
function binary(op: BinaryOp, a: NativeTensor, b: Operand): Tensor {
  return new Tensor(typeof b === 'number' ? native[`${op}Scalar`](a, b) : native[op](a, b.handle));
}

export class Tensor {
  /** The addon's id for this tensor; engine-internal. */
  readonly handle: NativeTensor;

  constructor(handle: NativeTensor) {
    this.handle = handle;
    trackInScope(this);
  }

  // ---- metadata ----
  get shape(): number[] {
    return native.shape(this.handle);
  }
  get ndim(): number {
    return native.shape(this.handle).length;
  }
  get numel(): number {
    return native.numel(this.handle);
  }
  get dtype(): DType {
    const name = native.dtype(this.handle);
    if (!isDType(name)) throw new TypeError(`tensor has a dtype the engine does not expose: ${name}`);
    return name;
  }
  get device(): string {
    return native.device(this.handle);
  }
  get isContiguous(): boolean {
    return native.isContiguous(this.handle);
  }
  /** Size of dimension `dim` (negative counts from the end). */
  size(dim: number): number {
    const shape = this.shape;
    const size = shape[dim < 0 ? shape.length + dim : dim];
    if (size === undefined) throw new RangeError(`dimension ${dim} out of range for shape [${shape.join(', ')}]`);
    return size;
  }

  // ---- lifetime ----
  /** Frees the tensor now; using it afterwards throws. Idempotent. */
  dispose(): void {
    native.dispose(this.handle);
  }
  get isDisposed(): boolean {
    return native.isDisposed(this.handle);
  }

  // ---- data out ----
  /** A copy of the elements in row-major order (float16/bfloat16: raw bits in a Uint16Array). */
  toTypedArray(): AnyTypedArray {
    return typedArrayView(this.dtype, native.toBuffer(this.handle));
  }
  /** The elements as JS numbers, row-major (int64 beyond 2^53 loses precision). */
  toNumbers(): number[] {
    if (this.dtype === 'float16' || this.dtype === 'bfloat16') {
      const wide = new Tensor(native.to(this.handle, 'float32'));
      try {
        return wide.toNumbers();
      } finally {
        wide.dispose();
      }
    }
    const data = this.toTypedArray();
    return data instanceof BigInt64Array ? Array.from(data, Number) : Array.from(data as ArrayLike<number>);
  }
  /** The value of a one-element tensor. */
  item(): number {
    return native.item(this.handle);
  }

  // ---- elementwise (broadcasting; the right operand may be a number) ----
  add(other: Operand): Tensor {
    return binary('add', this.handle, other);
  }
  sub(other: Operand): Tensor {
    return binary('sub', this.handle, other);
  }
  mul(other: Operand): Tensor {
    return binary('mul', this.handle, other);
  }
  div(other: Operand): Tensor {
    return binary('div', this.handle, other);
  }
  pow(exponent: Operand): Tensor {
    return binary('pow', this.handle, exponent);
  }
  eq(other: Operand): Tensor {
    return binary('eq', this.handle, other);
  }
  ne(other: Operand): Tensor {
    return binary('ne', this.handle, other);
  }
  lt(other: Operand): Tensor {
    return binary('lt', this.handle, other);
  }
  le(other: Operand): Tensor {
    return binary('le', this.handle, other);
  }
  gt(other: Operand): Tensor {
    return binary('gt', this.handle, other);
  }
  ge(other: Operand): Tensor {
    return binary('ge', this.handle, other);
  }
  maximum(other: Tensor): Tensor {
    return new Tensor(native.maximum(this.handle, other.handle));
  }
  minimum(other: Tensor): Tensor {
    return new Tensor(native.minimum(this.handle, other.handle));
  }
  logicalAnd(other: Tensor): Tensor {
    return new Tensor(native.logicalAnd(this.handle, other.handle));
  }
  logicalOr(other: Tensor): Tensor {
    return new Tensor(native.logicalOr(this.handle, other.handle));
  }
  logicalNot(): Tensor {
    return new Tensor(native.logicalNot(this.handle));
  }
  neg(): Tensor {
    return new Tensor(native.neg(this.handle));
  }
  exp(): Tensor {
    return new Tensor(native.exp(this.handle));
  }
  log(): Tensor {
    return new Tensor(native.log(this.handle));
  }
  sqrt(): Tensor {
    return new Tensor(native.sqrt(this.handle));
  }
  rsqrt(): Tensor {
    return new Tensor(native.rsqrt(this.handle));
  }
  tanh(): Tensor {
    return new Tensor(native.tanh(this.handle));
  }
  sigmoid(): Tensor {
    return new Tensor(native.sigmoid(this.handle));
  }
  relu(): Tensor {
    return new Tensor(native.relu(this.handle));
  }
  abs(): Tensor {
    return new Tensor(native.abs(this.handle));
  }
  sin(): Tensor {
    return new Tensor(native.sin(this.handle));
  }
  cos(): Tensor {
    return new Tensor(native.cos(this.handle));
  }
  clamp(min: number | null, max: number | null = null): Tensor {
    return new Tensor(native.clamp(this.handle, min, max));
  }
  /** Elements where `mask` is true replaced by `value`. */
  maskedFill(mask: Tensor, value: number): Tensor {
    return new Tensor(native.maskedFill(this.handle, mask.handle, value));
  }
  /** Lower triangle of the last two dims (above `diagonal` zeroed). */
  tril(diagonal = 0): Tensor {
    return new Tensor(native.tril(this.handle, diagonal));
  }
  triu(diagonal = 0): Tensor {
    return new Tensor(native.triu(this.handle, diagonal));
  }
  matmul(other: Tensor): Tensor {
    return new Tensor(native.matmul(this.handle, other.handle));
  }

  // ---- reductions (no dims: over all elements) ----
  sum(dims?: number[], keepdim = false): Tensor {
    return new Tensor(native.sum(this.handle, dims ?? null, keepdim));
  }
  mean(dims?: number[], keepdim = false): Tensor {
    return new Tensor(native.mean(this.handle, dims ?? null, keepdim));
  }
  logsumexp(dims?: number[], keepdim = false): Tensor {
    return new Tensor(native.logsumexp(this.handle, dims ?? null, keepdim));
  }
  /** The p-norm (p = Infinity for the max norm). */
  norm(p = 2, dims?: number[], keepdim = false): Tensor {
    return new Tensor(native.norm(this.handle, p, dims ?? null, keepdim));
  }
  /** Maximum over all elements. */
  max(): Tensor {
    return new Tensor(native.maxAll(this.handle));
  }
  min(): Tensor {
    return new Tensor(native.minAll(this.handle));
  }
  /** Maximum along `dim`: values and their indices. */
  maxAlong(dim: number, keepdim = false): { values: Tensor; indices: Tensor } {
    const [values, indices] = native.maxDim(this.handle, dim, keepdim);
    return { values: new Tensor(values), indices: new Tensor(indices) };
  }
  minAlong(dim: number, keepdim = false): { values: Tensor; indices: Tensor } {
    const [values, indices] = native.minDim(this.handle, dim, keepdim);
    return { values: new Tensor(values), indices: new Tensor(indices) };
  }
  /** The k largest (or smallest) along `dim`, sorted. */
  topk(k: number, dim = -1, largest = true): { values: Tensor; indices: Tensor } {
    const [values, indices] = native.topk(this.handle, k, dim, largest);
    return { values: new Tensor(values), indices: new Tensor(indices) };
  }
  /** Index of the maximum (flattened when `dim` is omitted). */
  argmax(dim?: number, keepdim = false): Tensor {
    return new Tensor(native.argmax(this.handle, dim ?? null, keepdim));
  }
  cumsum(dim: number): Tensor {
    return new Tensor(native.cumsum(this.handle, dim));
  }

  // ---- shapes and indexing ----
  /** New shape (-1 infers one dim); copies only when the layout requires it. */
  reshape(shape: number[]): Tensor {
    return new Tensor(native.reshape(this.handle, shape));
  }
  /** New shape sharing storage; throws if the layout does not allow a view. */
  view(shape: number[]): Tensor {
    return new Tensor(native.view(this.handle, shape));
  }
  permute(dims: number[]): Tensor {
    return new Tensor(native.permute(this.handle, dims));
  }
  transpose(dim0: number, dim1: number): Tensor {
    return new Tensor(native.transpose(this.handle, dim0, dim1));
  }
  /** A view of this tensor's storage with explicit sizes, strides and element offset (torch.as_strided). */
  asStrided(size: number[], stride: number[], storageOffset = 0): Tensor {
    return new Tensor(native.asStrided(this.handle, size, stride, storageOffset));
  }
  contiguous(): Tensor {
    return new Tensor(native.contiguous(this.handle));
  }
  unsqueeze(dim: number): Tensor {
    return new Tensor(native.unsqueeze(this.handle, dim));
  }
  /** Drops size-1 dims (all, or just `dim`). */
  squeeze(dim?: number): Tensor {
    return new Tensor(dim === undefined ? native.squeeze(this.handle) : native.squeeze(this.handle, dim));
  }
  /** Broadcast view to `shape` (-1 keeps a dim). */
  expand(shape: number[]): Tensor {
    return new Tensor(native.expand(this.handle, shape));
  }
  flatten(startDim = 0, endDim = -1): Tensor {
    return new Tensor(native.flatten(this.handle, startDim, endDim));
  }
  /** `length` elements of `dim` from `start` (a view). */
  narrow(dim: number, start: number, length: number): Tensor {
    return new Tensor(native.narrow(this.handle, dim, start, length));
  }
  /** Python-style `x[..., start:end:step]` on `dim` (a view). */
  slice(dim: number, start?: number, end?: number, step = 1): Tensor {
    return new Tensor(native.slice(this.handle, dim, start ?? null, end ?? null, step));
  }
  /** `x[..., index]` on `dim`, removing that dim. */
  select(dim: number, index: number): Tensor {
    return new Tensor(native.select(this.handle, dim, index));
  }
  indexSelect(dim: number, index: Tensor): Tensor {
    return new Tensor(native.indexSelect(this.handle, dim, index.handle));
  }
  gather(dim: number, index: Tensor): Tensor {
    return new Tensor(native.gather(this.handle, dim, index.handle));
  }
  /** Pieces of `size` (or of the given sizes) along `dim`. */
  split(sizeOrSizes: number | number[], dim = 0): Tensor[] {
    return native.split(this.handle, sizeOrSizes, dim).map((h) => new Tensor(h));
  }
  chunk(chunks: number, dim = 0): Tensor[] {
    return native.chunk(this.handle, chunks, dim).map((h) => new Tensor(h));
  }

  // ---- dtype, device, copies ----
  /** Converted to `dtype` and/or moved to `device` ("cpu", "cuda", "cuda:1"). */
  to(options: { dtype?: DType; device?: string }): Tensor {
    return new Tensor(native.to(this.handle, options.dtype ?? null, checkDevice(options.device) ?? null));
  }
  clone(): Tensor {
    return new Tensor(native.clone(this.handle));
  }
  /** Same data, cut from the autograd graph. */
  detach(): Tensor {
    return new Tensor(native.detach(this.handle));
  }
  /** Copies `source` into this tensor in place, outside autograd. */
  copy_(source: Tensor): this {
    native.copy_(this.handle, source.handle);
    return this;
  }
  fill_(value: number): this {
    native.fill_(this.handle, value);
    return this;
  }

  // ---- autograd ----
  get requiresGrad(): boolean {
    return native.requiresGrad(this.handle);
  }
  /** Marks a leaf tensor as a parameter whose gradient is accumulated. */
  requiresGrad_(value = true): this {
    native.setRequiresGrad(this.handle, value);
    return this;
  }
  get isLeaf(): boolean {
    return native.isLeaf(this.handle);
  }
  /** Accumulates d(this)/d(leaf) into every leaf's grad (`this` a scalar unless `gradient` is given). */
  backward(gradient?: Tensor, retainGraph = false): void {
    native.backward(this.handle, gradient?.handle ?? null, retainGraph);
  }
  /** The accumulated gradient (a new handle sharing its storage), or null. */
  get grad(): Tensor | null {
    const handle = native.grad(this.handle);
    return handle === null ? null : new Tensor(handle);
  }
  /** Drops (null) or replaces the accumulated gradient. */
  setGrad(gradient: Tensor | null): void {
    native.setGrad(this.handle, gradient?.handle ?? null);
  }

  toString(): string {
    if (this.isDisposed) return 'Tensor(disposed)';
    return `Tensor(shape=[${this.shape.join(', ')}], dtype=${this.dtype}, device=${this.device})`;
  }
}
