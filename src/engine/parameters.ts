// Copying parameter values out and back in. Test-time training changes a
// model's weights for one document and must then restore them; a snapshot is
// one memcpy per tensor each way, with no allocation on restore.
import { noGrad } from './autograd.js';
import { keep } from './scope.js';
import type { Tensor } from './tensor.js';

/** Detached copies of `params`, outside every scope; dispose them with `disposeAll`. */
export function snapshotParameters(params: readonly Tensor[]): Tensor[] {
  return noGrad(() => params.map((p) => keep(p.detach().clone())));
}

/** Copies `snapshot` back into `params` in place (same order and shapes). */
export function restoreParameters(params: readonly Tensor[], snapshot: readonly Tensor[]): void {
  if (params.length !== snapshot.length) {
    throw new RangeError(`restoreParameters: ${params.length} parameters but ${snapshot.length} saved tensors`);
  }
  params.forEach((p, i) => p.copy_(snapshot[i] as Tensor));
}

export function disposeAll(tensors: Iterable<Tensor | null | undefined>): void {
  for (const t of tensors) t?.dispose();
}
