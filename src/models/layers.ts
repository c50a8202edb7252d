// Typed views of a model's parameters, built once when the model is made,
// so the forward pass reads like the maths (`L.attn.qkv`, `L.mlp.fc`)
// instead of fetching tensors by string name at every step; and the loop
// over blocks every architecture shares.
//
// The views hold the ParameterSet's own tensors (no copies): optimizers,
// weight resets and checkpoints, which update those tensors in place, are
// seen by the views.
import { dropout, layerNorm, linear, tidy, type Tensor } from '../engine/index.js';
import type { ParameterSet } from './parameter-set.js';

/**
 * A low-rank adapter on a dense layer (PEFT's LoRA): the layer's output
 * gains B(A(dropout(x))) * scaling. Set and removed by lora.ts; the
 * forward pass below adds it wherever it is set.
 */
export interface LowRankAdapter {
  /** lora_A.weight [r, in]. */
  a: Tensor;
  /** lora_B.weight [out, r]. */
  b: Tensor;
  /** alpha / r. */
  scaling: number;
  dropout: number;
  /** Dropout on (training) or off; read at every forward pass. */
  training: () => boolean;
}

/**
 * A dense layer: `weight` and, where the layer has one, `bias`; `layout`
 * says how the weight is stored: nn.Linear [out, in], or GPT-2's Conv1D
 * [in, out]. `adapter` is a LoRA adapter while one is attached.
 */
export interface Dense {
  w: Tensor;
  b?: Tensor;
  layout: 'linear' | 'conv1d';
  adapter?: LowRankAdapter;
}

/** A LayerNorm's scale and shift. */
export interface Norm {
  w: Tensor;
  b: Tensor;
}

/**
 * The nn.Linear layer `<prefix>.weight` (+ `<prefix>.bias` when `bias`),
 * registered in `parameters` under its module name `prefix` (what LoRA's
 * target modules match).
 */
export function denseParams(parameters: ParameterSet, prefix: string, bias = true, layout: Dense['layout'] = 'linear'): Dense {
  const w = parameters.get(`${prefix}.weight`);
  const dense: Dense = bias ? { w, b: parameters.get(`${prefix}.bias`), layout } : { w, layout };
  parameters.registerDense(prefix, dense);
  return dense;
}

/** GPT-2's Conv1D layer `<prefix>` (weight [in, out], with bias). */
export function conv1DParams(parameters: ParameterSet, prefix: string): Dense {
  return denseParams(parameters, prefix, true, 'conv1d');
}

/** The LayerNorm `<prefix>.weight`, `<prefix>.bias`. */
export function normParams(parameters: ParameterSet, prefix: string): Norm {
  return { w: parameters.get(`${prefix}.weight`), b: parameters.get(`${prefix}.bias`) };
}

/** nn.Linear: y = x W^T + b, W [out, in] (+ the adapter's term). */
export function applyLinear(x: Tensor, layer: Dense): Tensor {
  return withAdapter(x, linear(x, layer.w, layer.b), layer.adapter);
}

/** GPT-2's Conv1D: y = x W + b, W [in, out] (linear with W^T, a view, no copy; + the adapter's term). */
export function applyConv1D(x: Tensor, layer: Dense): Tensor {
  return withAdapter(x, linear(x, layer.w.transpose(0, 1), layer.b), layer.adapter);
}

/** PEFT's lora.Linear.forward: result + lora_B(lora_A(dropout(x))) * scaling. */
function withAdapter(x: Tensor, y: Tensor, adapter: LowRankAdapter | undefined): Tensor {
  if (!adapter) return y;
  const low = linear(linear(dropout(x, adapter.dropout, adapter.training()), adapter.a), adapter.b);
  return y.add(low.mul(adapter.scaling));
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
export function runLayers<L>(x: Tensor, layers: readonly L[], layer: (params: L, x: Tensor, index: number) => Tensor): Tensor {
  let out = x;
  for (const [index, params] of layers.entries()) {
    const input = out;
    out = tidy(() => layer(params, input, index));
  }
  return out;
}
