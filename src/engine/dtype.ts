// Element types and the typed arrays that carry their raw bytes across the
// JS/native boundary. float16 and bfloat16 travel as raw 16-bit patterns.

export const DTYPES = ['float32', 'float64', 'float16', 'bfloat16', 'int64', 'int32', 'bool'] as const;
export type DType = (typeof DTYPES)[number];

export type TypedArrayOf<D extends DType> = D extends 'float32'
  ? Float32Array
  : D extends 'float64'
    ? Float64Array
    : D extends 'int64'
      ? BigInt64Array
      : D extends 'int32'
        ? Int32Array
        : D extends 'bool'
          ? Uint8Array
          : Uint16Array;

export type AnyTypedArray = Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array | Uint16Array;

export function isDType(name: string): name is DType {
  return (DTYPES as readonly string[]).includes(name);
}

export function isFloatingDType(dtype: DType): boolean {
  return dtype === 'float32' || dtype === 'float64' || dtype === 'float16' || dtype === 'bfloat16';
}

/** The dtype whose raw bytes a typed array holds (Uint16Array: float16 unless told otherwise). */
export function dtypeOfTypedArray(data: AnyTypedArray): DType {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Float64Array) return 'float64';
  if (data instanceof BigInt64Array) return 'int64';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof Uint8Array) return 'bool';
  return 'float16';
}

/** A typed array of `dtype` viewing `buffer`. */
export function typedArrayView(dtype: DType, buffer: ArrayBuffer): AnyTypedArray {
  switch (dtype) {
    case 'float32':
      return new Float32Array(buffer);
    case 'float64':
      return new Float64Array(buffer);
    case 'int64':
      return new BigInt64Array(buffer);
    case 'int32':
      return new Int32Array(buffer);
    case 'bool':
      return new Uint8Array(buffer);
    case 'float16':
    case 'bfloat16':
      return new Uint16Array(buffer);
  }
}

/** Numbers packed into the typed array that carries `dtype` (not for float16/bfloat16). */
export function packNumbers(values: readonly number[], dtype: DType): AnyTypedArray {
  switch (dtype) {
    case 'float32':
      return Float32Array.from(values);
    case 'float64':
      return Float64Array.from(values);
    case 'int64':
      return BigInt64Array.from(values, (v) => {
        if (!Number.isInteger(v)) throw new TypeError(`int64 tensor: ${v} is not an integer`);
        return BigInt(v);
      });
    case 'int32':
      return Int32Array.from(values);
    case 'bool':
      return Uint8Array.from(values, (v) => (v ? 1 : 0));
    case 'float16':
    case 'bfloat16':
      throw new TypeError(`pack ${dtype} from float32 values and convert with .to('${dtype}')`);
  }
}
