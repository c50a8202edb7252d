// Finite-difference gradient check: compares the gradients autograd computes
// with central differences of the same function, in float64.
import { manualSeed, randn, tensor, tidy, type Tensor } from '../../src/engine/index.js';
import { assertClose } from './assert-close.js';

export interface GradInput {
  shape: number[];
  /** Keep values in [0.5, 2) (for log, sqrt, division, pow). */
  positive?: boolean;
  /** Explicit values instead of random ones. */
  values?: number[];
}

function randomValues(input: GradInput, seed: number): number[] {
  if (input.values) return input.values;
  return tidy(() => {
    manualSeed(seed);
    const n = randn(input.shape, { dtype: 'float64' });
    return input.positive ? n.abs().mul(0.7).add(0.5).clamp(0.5, 1.99).toNumbers() : n.toNumbers();
  });
}

/**
 * Checks d/dx sum(f(x) * w) for a fixed random w, where x are the inputs.
 * `f` must be deterministic (seed inside it for random ops like dropout).
 */
export function gradcheck(name: string, inputs: GradInput[], f: (xs: Tensor[]) => Tensor, eps = 1e-6, atol = 1e-6): void {
  const values = inputs.map((input, i) => randomValues(input, 1000 + i));
  const build = (vals: number[][], withGrad: boolean): Tensor[] =>
    inputs.map((input, i) => {
      const t = tensor(vals[i] as number[], { dtype: 'float64', shape: input.shape });
      return withGrad ? t.requiresGrad_() : t;
    });

  tidy(() => {
    const probe = f(build(values, false));
    manualSeed(77);
    const weights = randn(probe.shape, { dtype: 'float64' });
    const objective = (xs: Tensor[]): Tensor => f(xs).mul(weights).sum();

    const xs = build(values, true);
    objective(xs).backward();
    const analytic = xs.map((x) => x.grad?.toNumbers() ?? new Array<number>(x.numel).fill(0));

    inputs.forEach((_, i) => {
      const numeric: number[] = [];
      const own = values[i] as number[];
      for (let j = 0; j < own.length; j++) {
        const at = (delta: number): number =>
          tidy(() => {
            const shifted = values.map((v, k) => (k === i ? v.map((x, m) => (m === j ? x + delta : x)) : v));
            return objective(build(shifted, false)).item();
          });
        numeric.push((at(eps) - at(-eps)) / (2 * eps));
      }
      assertClose(analytic[i] as number[], numeric, atol, `${name}: d/d input ${i}`, 1e-5);
    });
  });
}
