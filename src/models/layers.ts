// Typed views of a model's parameters, built once when the model is made,
// so the forward pass reads like the maths (`L.attn.qkv`, `L.mlp.fc`)
// instead of fetching tensors by string name at every step; and the loop
// over blocks every architecture shares.
//
// The views hold the ParameterSet's own tensors (no copies): optimizers,
// weight resets and checkpoints, which update those tensors in place, are
// seen by the views.
import { layerNorm, linear, tidy, type Tensor } from '../engine/index.js';
import type { ParameterSet } from './parameter-set.js';

/** A dense layer: `weight` and, where the layer has one, `bias`. */
export interface Dense {
  w: Tensor;
  b?: Tensor;
}

/** A LayerNorm's scale and shift. */
export interface Norm {
  w: Tensor;
  b: Tensor;
}

/** The dense layer `<prefix>.weight` (+ `<prefix>.bias` when `bias`). */
export function denseParams(parameters: ParameterSet, prefix: string, bias = true): Dense {
  return bias ? { w: parameters.get(`${prefix}.weight`), b: parameters.get(`${prefix}.bias`) } : { w: parameters.get(`${prefix}.weight`) };
}

/** The LayerNorm `<prefix>.weight`, `<prefix>.bias`. */
export function normParams(parameters: ParameterSet, prefix: string): Norm {
  return { w: parameters.get(`${prefix}.weight`), b: parameters.get(`${prefix}.bias`) };
}

/** nn.Linear: y = x W^T + b, W [out, in]. */
export function applyLinear(x: Tensor, layer: Dense): Tensor {
  return linear(x, layer.w, layer.b);
}

/** GPT-2's Conv1D: y = x W + b, W [in, out] (linear with W^T, a view, no copy). */
export function applyConv1D(x: Tensor, layer: Dense): Tensor {
  return linear(x, layer.w.transpose(0, 1), layer.b);
}

/** LayerNorm over the last dimension. */
export function applyNorm(x: Tensor, norm: Norm, epsilon: number): Tensor {
  return layerNorm(x, [norm.w.size(0)], norm.w, norm.b, epsilon);
}

/**
 * x through every layer in order: [B, T, C] -> [B, T, C]. Each layer runs in
 * its own scope, so its intermediates are freed as soon as it returns
 * (autograd keeps what backward needs) and memory does not grow with depth.
 */
export function runLayers<L>(x: Tensor, layers: readonly L[], layer: (params: L, x: Tensor) => Tensor): Tensor {
  let out = x;
  for (const params of layers) {
    const input = out;
    out = tidy(() => layer(params, input));
  }
  return out;
}
