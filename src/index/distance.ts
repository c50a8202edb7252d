// The distance indexes rank by: FAISS's IndexFlatL2 reports ‖a − b‖².

/** ‖a − b‖², summed in doubles over float32 vectors: what the fleet's merge ranks by, and the square of the original's plain distances. */
export function squaredL2(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += ((a[i] as number) - (b[i] as number)) ** 2;
  return sum;
}
