// What a training method updates, and what every document starts from:
// every weight of the model (the original: eval_tttlm.py:82 gives AdamW
// model.parameters()), or a LoRA adapter on a frozen base (--trainable
// lora, models/lora.ts). The optimizer, the gradient clipping, the reset
// after each document and the saved optimizer state all cover exactly
// these tensors.
import { disposeAll, manualSeed, noGrad, snapshotParameters, tidy, type Tensor } from '../engine/index.js';
import { LoraAdapter, type CausalLM } from '../models/index.js';
import type { EvalSettings } from './settings.js';

export interface TrainableWeights {
  /** Names of the trained tensors (the optimizer state's keys). */
  names(): string[];
  /** The trained tensors, in the order of `names`. */
  list(): Tensor[];
  /** Their starting values: every document starts from these. */
  readonly snapshot: readonly Tensor[];
  /** After each document: throws when a weight that must not train has changed. */
  checkUnchanged(what: string): void;
  /** Frees the snapshot; with LoRA, removes the adapter and unfreezes the base. */
  dispose(): void;
}

/** The weights a training method updates under `s.trainable`. */
export function trainableWeights(model: CausalLM, s: EvalSettings): TrainableWeights {
  if (s.trainable === 'full') {
    const snapshot = snapshotParameters(model.parameters.list());
    return { names: () => model.parameters.names(), list: () => model.parameters.list(), snapshot, checkUnchanged: () => undefined, dispose: () => disposeAll(snapshot) };
  }
  manualSeed(s.seed); // PEFT's initialisation of A: the same starting adapter on every rank and every rerun
  const adapter = LoraAdapter.attach(model, { rank: s.loraRank, alpha: s.loraAlpha, dropout: s.loraDropout, targets: s.loraTargets }, s.loraInit === undefined ? { from: 'peft-default' } : { from: 'directory', dir: s.loraInit });
  const base = model.parameters.entries();
  const sums = checksums(base.map(([, t]) => t));
  const snapshot = snapshotParameters(adapter.list());
  return {
    names: () => adapter.names(),
    list: () => adapter.list(),
    snapshot,
    checkUnchanged(what) {
      // The base is frozen: no gradient, and the optimizer does not hold it. A
      // bug that wrote to it anyway would change the numbers silently: check.
      const after = checksums(base.map(([, t]) => t));
      base.forEach(([name, t], i) => {
        if (t.requiresGrad || t.grad !== null || after[i] !== sums[i]) throw new Error(`${what}: the frozen base weight ${name} changed under --trainable lora (a bug: please report it)`);
      });
    },
    dispose() {
      disposeAll(snapshot);
      adapter.detach();
    },
  };
}

/**
 * Per tensor: its sum and its L2 norm (two reads, no copy: a pass over the
 * base per document, cheap beside training). The same tensor gives the same
 * values bit for bit; an update by AdamW or a stray in-place op moves them.
 */
function checksums(tensors: readonly Tensor[]): string[] {
  return noGrad(() => tensors.map((t) => tidy(() => `${t.sum().item()}/${t.norm().item()}`)));
}
