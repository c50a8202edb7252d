// The named parameters of a model, with Hugging Face's names and the shapes
// its config implies. Loading checks every name and shape against that spec
// and names the parameter and both shapes when they disagree.
import { keep, noGrad, type DType, type Tensor } from '../engine/index.js';
import type { Dense } from './layers.js';

export type ParameterSpec = Map<string, number[]>;

/** The code of the warning for checkpoint tensors a model does not use. */
export const UNUSED_WEIGHTS_WARNING = 'TTTNN_UNUSED_WEIGHTS';

export interface PlacementOptions {
  /** Parameter dtype (default float32: CPU compute is float32). */
  dtype?: DType;
  /** Default cpu. */
  device?: string;
}

/** `t` in the placement's dtype and device (`t` itself when it already is; otherwise `t` is disposed). */
export function placeTensor(t: Tensor, placement: PlacementOptions): Tensor {
  const dtype = placement.dtype ?? 'float32';
  const device = placement.device ?? 'cpu';
  if (t.dtype === dtype && t.device === device) return t;
  const placed = noGrad(() => t.to({ dtype, device }));
  t.dispose();
  return placed;
}

export class ParameterSet {
  private readonly tensors = new Map<string, Tensor>();
  /** The dense layers the model's views use, by module name ("transformer.h.0.attn.c_attn"): what LoRA adapts. */
  private readonly dense = new Map<string, Dense>();

  private constructor(readonly spec: ParameterSpec) {}

  /** Fresh parameters from `init(name, shape)` (called inside the caller's seed). */
  static initialized(spec: ParameterSpec, init: (name: string, shape: number[]) => Tensor, placement: PlacementOptions = {}): ParameterSet {
    const set = new ParameterSet(spec);
    for (const [name, shape] of spec) set.adopt(name, init(name, shape), placement);
    return set;
  }

  /**
   * Parameters from checkpoint tensors (taken over: each is used or disposed).
   * `canonical` maps a checkpoint name to a spec name, or null to skip it
   * (buffers, tied copies). Missing or misshapen parameters are errors; on
   * error the caller still owns (and disposes) the source tensors not yet read.
   * Tensors the model has no place for are dropped with a warning naming them
   * (a checkpoint of another architecture or version would otherwise load
   * silently with part of it ignored).
   */
  static fromCheckpoint(
    spec: ParameterSpec,
    source: Iterable<[string, Tensor]>,
    canonical: (name: string) => string | null,
    origin: string,
    placement: PlacementOptions = {},
  ): ParameterSet {
    const set = new ParameterSet(spec);
    const unexpected: string[] = [];
    try {
      for (const [rawName, t] of source) {
        const name = canonical(rawName);
        const shape = name === null ? undefined : spec.get(name);
        if (name === null || shape === undefined) {
          if (name !== null) unexpected.push(rawName);
          t.dispose();
          continue;
        }
        const actual = t.shape;
        if (actual.length !== shape.length || actual.some((s, i) => s !== shape[i])) {
          t.dispose();
          throw new Error(`${origin}: parameter ${rawName} has shape [${actual.join(', ')}] but the config implies [${shape.join(', ')}]`);
        }
        set.adopt(name, t, placement);
      }
      const missing = [...spec.keys()].filter((name) => !set.tensors.has(name));
      if (missing.length > 0) {
        const shown = missing.slice(0, 5).join(', ') + (missing.length > 5 ? `, … (${missing.length} in all)` : '');
        throw new Error(`${origin}: missing parameters: ${shown}`);
      }
    } catch (error) {
      set.dispose();
      throw error;
    }
    if (unexpected.length > 0) {
      const shown = unexpected.slice(0, 5).join(', ') + (unexpected.length > 5 ? `, … (${unexpected.length} in all)` : '');
      process.emitWarning(`${origin}: ${unexpected.length} checkpoint tensor(s) not used by the model, ignored: ${shown}`, { code: UNUSED_WEIGHTS_WARNING });
    }
    return set;
  }

  private adopt(name: string, t: Tensor, placement: PlacementOptions): void {
    const placed = placeTensor(t, placement);
    this.tensors.get(name)?.dispose();
    this.tensors.set(name, keep(placed).requiresGrad_(true));
  }

  /** Records the dense layer `module` (layers.ts denseParams, as a model builds its views). */
  registerDense(module: string, layer: Dense): void {
    this.dense.set(module, layer);
  }

  /** The dense layers by module name, in the order the model built them. */
  denseLayers(): ReadonlyMap<string, Dense> {
    return this.dense;
  }

  get(name: string): Tensor {
    const t = this.tensors.get(name);
    if (!t) throw new Error(`no parameter named ${name}`);
    return t;
  }

  /** All parameters, in spec order (the order optimizers and snapshots use). */
  list(): Tensor[] {
    return [...this.spec.keys()].map((name) => this.get(name));
  }

  /** The device the parameters live on. */
  get device(): string {
    return this.get(this.names()[0] as string).device;
  }

  names(): string[] {
    return [...this.spec.keys()];
  }

  /** Total number of scalar parameters. */
  count(): number {
    return this.list().reduce((n, t) => n + t.numel, 0);
  }

  entries(): [string, Tensor][] {
    return [...this.spec.keys()].map((name) => [name, this.get(name)]);
  }

  dispose(): void {
    for (const t of this.tensors.values()) t.dispose();
    this.tensors.clear();
    this.dense.clear();
  }
}
