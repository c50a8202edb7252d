// Optimizers over parameter tensors: AdamW and SGD, with the update rules of
// torch.optim (PyTorch 1.13), implemented natively. Their state (step counts
// and moment tensors) can be read, restored and reset: TTT-NN resets it
// between documents, the trainer saves it in checkpoints.
import { native, type NativeOptimizer, type NativeTensor } from './native.js';
import { Tensor } from './tensor.js';

/** Per-parameter step counts and slot tensors named as in torch's state_dict. */
export interface OptimizerState {
  steps: number[];
  /** AdamW: exp_avg, exp_avg_sq. SGD: momentum_buffer. null before a parameter's first step. */
  slots: Record<string, (Tensor | null)[]>;
}

export abstract class Optimizer {
  readonly params: readonly Tensor[];
  protected readonly impl: NativeOptimizer;

  protected constructor(params: readonly Tensor[], impl: NativeOptimizer) {
    this.params = params;
    this.impl = impl;
  }

  /** Applies one update from the parameters' accumulated gradients (parameters without one are skipped). */
  step(): void {
    this.impl.step();
  }

  /** Clears gradients: drops them (default, as torch 2) or fills them with zeros. */
  zeroGrad(setToNone = true): void {
    this.impl.zeroGrad(setToNone);
  }

  get lr(): number {
    return this.impl.getLr();
  }
  set lr(value: number) {
    this.impl.setLr(value);
  }

  /** A copy of the state; the caller owns (disposes) its tensors. */
  state(): OptimizerState {
    const raw = this.impl.getState();
    const slots: Record<string, (Tensor | null)[]> = {};
    for (const [name, list] of Object.entries(raw.slots)) {
      slots[name] = list.map((h) => (h === null ? null : new Tensor(h)));
    }
    return { steps: raw.steps, slots };
  }

  /** Replaces the state with a copy of `state` (shapes must match the parameters). */
  loadState(state: OptimizerState): void {
    const slots: Record<string, (NativeTensor | null)[]> = {};
    for (const [name, list] of Object.entries(state.slots)) slots[name] = list.map((t) => t?.handle ?? null);
    this.impl.setState({ steps: state.steps, slots });
  }

  /** Forgets all state, as if freshly constructed. */
  reset(): void {
    this.impl.resetState();
  }
}

export interface AdamWOptions {
  /** Default 1e-3. */
  lr?: number;
  /** Default [0.9, 0.999]. */
  betas?: [number, number];
  /** Default 1e-8. */
  eps?: number;
  /** Decoupled weight decay; default 0.01 (torch.optim.AdamW). */
  weightDecay?: number;
}

export class AdamW extends Optimizer {
  constructor(params: readonly Tensor[], options: AdamWOptions = {}) {
    const [beta1, beta2] = options.betas ?? [0.9, 0.999];
    const nativeOptions = { lr: options.lr ?? 1e-3, beta1, beta2, eps: options.eps ?? 1e-8, weightDecay: options.weightDecay ?? 0.01 };
    super(params, new native.Optimizer('adamw', params.map((p) => p.handle), nativeOptions));
  }
}

export interface SGDOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
}

export class SGD extends Optimizer {
  constructor(params: readonly Tensor[], options: SGDOptions) {
    super(params, new native.Optimizer('sgd', params.map((p) => p.handle), { ...options }));
  }
}

/**
 * Scales all gradients so their joint `normType`-norm is at most `maxNorm`
 * (torch.nn.utils.clip_grad_norm_); returns the norm before clipping as a
 * 0-dim tensor on the gradients' device, as torch does: reading it
 * (`.item()`) is the caller's choice, so a step that ignores it never waits
 * for a device-to-host copy.
 */
export function clipGradNorm(params: readonly Tensor[], maxNorm: number, normType = 2): Tensor {
  return new Tensor(native.clipGradNorm(params.map((p) => p.handle), maxNorm, normType));
}
