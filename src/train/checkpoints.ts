// Trainer checkpoints: OUT/checkpoint-<step>/ holds the model in Hugging
// Face layout (config.json, model.safetensors), the tokenizer, the optimizer
// moments (optimizer.safetensors) and trainer_state.json (step, data
// position, seed, options). A checkpoint is written under a temporary name
// and renamed into place when complete, so a crash never leaves a
// half-written checkpoint where a resume would pick it up.
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { disposeAll, type Optimizer, type OptimizerState, type Tensor } from '../engine/index.js';
import { readJsonFile, writeJsonFile } from '../io/checkpoint.js';
import { loadSafetensors, readSafetensorsHeader, saveSafetensors } from '../io/safetensors.js';
import { saveModel, type AnyModel } from '../models/index.js';
import { saveTokenizer, type BpeTokenizer } from '../tokenizers/index.js';
import type { DataPosition } from './batches.js';

export interface TrainerState {
  /** Completed optimizer steps. */
  step: number;
  sequencesSeen: number;
  tokensSeen: number;
  position: DataPosition;
  seed: number;
  /** The options the run was started with (for a resume to check). */
  options: Record<string, unknown>;
}

const CHECKPOINT = /^checkpoint-(\d+)$/;

/** The newest complete checkpoint directory under `out`, or null. */
export function latestCheckpoint(out: string): string | null {
  if (!existsSync(out)) return null;
  const steps = readdirSync(out)
    .map((name) => CHECKPOINT.exec(name))
    .filter((m): m is RegExpExecArray => m !== null && existsSync(join(out, m[0], 'trainer_state.json')))
    .map((m) => Number(m[1]))
    .sort((a, b) => b - a);
  return steps.length === 0 ? null : join(out, `checkpoint-${steps[0]}`);
}

export function saveTrainerCheckpoint(
  out: string,
  model: AnyModel,
  tokenizer: BpeTokenizer,
  optimizer: Optimizer,
  state: TrainerState,
  keep: number,
): string {
  const final = join(out, `checkpoint-${state.step}`);
  const temporary = join(out, `.checkpoint-${state.step}.tmp-${process.pid}`);
  rmSync(temporary, { recursive: true, force: true });
  mkdirSync(temporary, { recursive: true });
  saveModel(model, temporary);
  saveTokenizer(tokenizer, temporary);
  saveOptimizerMoments(join(temporary, 'optimizer.safetensors'), model.parameters.names(), optimizer);
  writeJsonFile(join(temporary, 'trainer_state.json'), state); // last: its presence marks a complete checkpoint
  rmSync(final, { recursive: true, force: true });
  renameSync(temporary, final);
  // Keep the newest `keep` checkpoints.
  const old = readdirSync(out)
    .map((name) => CHECKPOINT.exec(name))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => b - a)
    .slice(keep);
  for (const step of old) rmSync(join(out, `checkpoint-${step}`), { recursive: true, force: true });
  return final;
}

export function readTrainerState(dir: string): TrainerState {
  return readJsonFile<TrainerState>(join(dir, 'trainer_state.json'));
}

/** Restores the optimizer moments saved beside a checkpoint. */
export function loadOptimizerState(dir: string, model: AnyModel, optimizer: Optimizer): void {
  loadOptimizerMoments(join(dir, 'optimizer.safetensors'), model.parameters.names(), optimizer);
}

/**
 * Writes an optimizer's moments (tensors named "<parameter>.<slot>") and its
 * per-parameter step counts (metadata "steps") to a safetensors file,
 * atomically; `metadata` adds string entries.
 */
export function saveOptimizerMoments(path: string, names: readonly string[], optimizer: Optimizer, metadata: Record<string, string> = {}): void {
  const moments = optimizer.state();
  try {
    const tensors = new Map<string, Tensor>();
    for (const [slot, list] of Object.entries(moments.slots)) {
      list.forEach((t, i) => {
        if (t) tensors.set(`${names[i]}.${slot}`, t);
      });
    }
    saveSafetensors(path, tensors, { ...metadata, steps: JSON.stringify(moments.steps) });
  } finally {
    disposeAll(Object.values(moments.slots).flat());
  }
}

/** Loads what saveOptimizerMoments wrote into `optimizer`; returns the file's metadata. */
export function loadOptimizerMoments(path: string, names: readonly string[], optimizer: Optimizer): Record<string, string> {
  const tensors = loadSafetensors(path);
  try {
    const slots: OptimizerState['slots'] = {};
    for (const key of tensors.keys()) {
      const slot = key.slice(key.lastIndexOf('.') + 1);
      slots[slot] ??= names.map((name) => tensors.get(`${name}.${slot}`) ?? null);
    }
    // The per-parameter step counts live in the safetensors metadata.
    const metadata = readSafetensorsHeader(path).metadata;
    const steps = metadata['steps'] ? (JSON.parse(metadata['steps']) as number[]) : [];
    if (steps.length !== names.length) throw new Error(`${path}: optimizer state for ${steps.length} parameters, the model has ${names.length}`);
    optimizer.loadState({ steps, slots });
    return metadata;
  } finally {
    disposeAll(tensors.values());
  }
}
