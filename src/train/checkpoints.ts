// Trainer checkpoints: OUT/checkpoint-<step>/ holds the model in Hugging
// Face layout (config.json, model.safetensors), the tokenizer, the optimizer
// moments (optimizer.safetensors) and trainer_state.json (step, data
// position, seed, options). A checkpoint is written under a temporary name,
// every file flushed to disk, then checkpoint-complete.json (each file's
// size) written last, and the directory renamed into place: a crash or power
// loss never leaves a half-written checkpoint where a resume would pick it
// up, and a resume checks the sizes against the marker before trusting one.
// Temporary directories a crash left behind are removed by the next save.
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { commitRename, syncPath, writeFileDurably } from '../io/durable.js';
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
/** A checkpoint being written (by process <pid>): `.checkpoint-<step>.tmp-<pid>`. */
const TEMPORARY = /^\.checkpoint-\d+\.tmp-\d+$/;
/** Written last into a checkpoint: the size of every other file in it. */
export const COMPLETE_MARKER = 'checkpoint-complete.json';

interface CompleteMarker {
  step: number;
  files: Record<string, number>;
}

/**
 * Why the checkpoint directory `dir` cannot be trusted, or null when it is
 * complete: its marker lists files whose sizes it checks. (A directory from
 * before the marker existed counts as complete when it holds trainer_state.json,
 * which was then written last.)
 */
export function incompleteCheckpoint(dir: string): string | null {
  const markerPath = join(dir, COMPLETE_MARKER);
  if (!existsSync(markerPath)) return existsSync(join(dir, 'trainer_state.json')) ? null : `no ${COMPLETE_MARKER}`;
  let marker: CompleteMarker;
  try {
    marker = readJsonFile<CompleteMarker>(markerPath);
  } catch (error) {
    return (error as Error).message;
  }
  for (const [name, size] of Object.entries(marker.files ?? {})) {
    const path = join(dir, name);
    if (!existsSync(path)) return `${name} is missing`;
    const actual = statSync(path).size;
    if (actual !== size) return `${name} is ${actual} bytes, ${COMPLETE_MARKER} says ${size}`;
  }
  return null;
}

/** The steps of the checkpoint-<step> directories under `out`, newest first. */
function checkpointSteps(out: string): number[] {
  return readdirSync(out)
    .map((name) => CHECKPOINT.exec(name))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => b - a);
}

/** The newest complete checkpoint directory under `out`, or null; `onSkip` hears of newer ones that are not. */
export function latestCheckpoint(out: string, onSkip: (dir: string, why: string) => void = () => undefined): string | null {
  if (!existsSync(out)) return null;
  for (const step of checkpointSteps(out)) {
    const dir = join(out, `checkpoint-${step}`);
    const why = incompleteCheckpoint(dir);
    if (why === null) return dir;
    onSkip(dir, why);
  }
  return null;
}

/** What a checkpoint saves as the trained weights: the model (default), or a LoRA adapter in PEFT's format. */
export interface TrainedWeights {
  names(): string[];
  save(dir: string): void;
}

export const wholeModel = (model: AnyModel): TrainedWeights => ({ names: () => model.parameters.names(), save: (dir) => saveModel(model, dir) });

export function saveTrainerCheckpoint(
  out: string,
  model: AnyModel,
  tokenizer: BpeTokenizer,
  optimizer: Optimizer,
  state: TrainerState,
  keep: number,
  weights: TrainedWeights = wholeModel(model),
): string {
  const final = join(out, `checkpoint-${state.step}`);
  const temporary = join(out, `.checkpoint-${state.step}.tmp-${process.pid}`);
  // What a crash left (of this run or an earlier one: one trainer writes to an output directory).
  for (const name of readdirSync(out)) if (TEMPORARY.test(name)) rmSync(join(out, name), { recursive: true, force: true });
  mkdirSync(temporary, { recursive: true });
  try {
    weights.save(temporary); // each file flushed as it is written (io/durable.ts)
    saveTokenizer(tokenizer, temporary);
    saveOptimizerMoments(join(temporary, 'optimizer.safetensors'), weights.names(), optimizer);
    writeJsonFile(join(temporary, 'trainer_state.json'), state);
    const files = Object.fromEntries(readdirSync(temporary).map((name) => [name, statSync(join(temporary, name)).size]));
    writeFileDurably(join(temporary, COMPLETE_MARKER), `${JSON.stringify({ step: state.step, files } satisfies CompleteMarker, null, 2)}\n`);
    syncPath(temporary);
  } catch (error) {
    rmSync(temporary, { recursive: true, force: true }); // e.g. a full disk: the newest complete checkpoint stays the newest
    throw error;
  }
  rmSync(final, { recursive: true, force: true });
  commitRename(temporary, final);
  // Keep the newest `keep` checkpoints.
  for (const step of checkpointSteps(out).slice(keep)) rmSync(join(out, `checkpoint-${step}`), { recursive: true, force: true });
  return final;
}

export function readTrainerState(dir: string): TrainerState {
  return readJsonFile<TrainerState>(join(dir, 'trainer_state.json'));
}

/** Restores the optimizer moments saved beside a checkpoint. */
export function loadOptimizerState(dir: string, weights: TrainedWeights, optimizer: Optimizer): void {
  loadOptimizerMoments(join(dir, 'optimizer.safetensors'), weights.names(), optimizer);
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
