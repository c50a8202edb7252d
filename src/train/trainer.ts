// The trainer: masked-LM or causal-LM training from streamed JSONL with
// AdamW, a learning-rate schedule, gradient clipping, periodic validation,
// checkpoints and exact resume.
//
// Reproducibility: the random state at every step is a function of the seed
// and the step (dropout is seeded per step, MLM masks per step and
// sequence), and the data position is saved, so a run killed at any point
// and resumed from its newest checkpoint continues with the same losses as
// an uninterrupted run.
import { appendFileSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readJsonFile } from '../io/checkpoint.js';
import { yieldToEventLoop } from '../io/event-loop.js';
import { AdamW, clipGradNorm, currentPrecision, inference, manualSeed, tidy, type EffectivePrecision, type Tensor } from '../engine/index.js';
import { causalLmLoss, createModel, loadModel, maskedLmLoss, type AnyModel, type CausalLM, type EncoderModel, type RawConfig } from '../models/index.js';
import { loadTokenizer, type BpeTokenizer } from '../tokenizers/index.js';
import { START, documentSequences, makeBatch, nextSequence, sequenceStream, type Batch, type DataPosition, type Packing } from './batches.js';
import { latestCheckpoint, loadOptimizerState, readTrainerState, saveTrainerCheckpoint, type TrainerState } from './checkpoints.js';
import { getPreset, type Objective } from './presets.js';
import { learningRate, type ScheduleKind } from './schedule.js';

export interface TrainOptions {
  objective?: Objective;
  /** One of: a preset name, a config.json path, or a checkpoint directory to start from. */
  preset?: string;
  config?: string;
  init?: string;
  /** Tokenizer directory (default: the preset's, or the init checkpoint's). */
  tokenizer?: string;
  data: string[];
  val?: string;
  out: string;
  batchSize?: number;
  seqLen?: number;
  lr?: number;
  adamEps?: number;
  weightDecay?: number;
  maxSteps: number;
  schedule?: ScheduleKind;
  /** step schedule: sequences between drops and the multiplier. */
  stepEverySequences?: number;
  stepFactor?: number;
  warmup?: number;
  gradClip?: number;
  evalEvery?: number;
  /** Batches of the validation file used per evaluation. */
  valBatches?: number;
  saveEvery?: number;
  saveTotalLimit?: number;
  seed?: number;
  packing?: Packing;
  /** Stop after this many seconds (checkpointing first); the run can be resumed. */
  timeLimit?: number;
  /**
   * Stop (checkpointing first) once a validation loss is at or below this
   * (nats per predicted token); validation runs every evalEvery steps.
   */
  targetValLoss?: number;
  /** Progress lines; default stderr. */
  progress?: (line: string) => void;
  /** Called after every step instead of printing a progress line per step. */
  onStep?: (step: StepReport) => void;
}

export interface StepReport {
  step: number;
  maxSteps: number;
  loss: number;
  /** The latest validation loss, if any. */
  valLoss: number | null;
  tokensPerSecond: number;
}

/** Why a run stopped: its step budget, its quality target, or its time limit. */
export type StopReason = 'max-steps' | 'target' | 'time-limit';

export interface TrainResult {
  steps: number;
  finalTrainLoss: number;
  finalValLoss: number | null;
  valPerplexity: number | null;
  checkpoint: string;
  resumedFrom: string | null;
  tokensPerSecond: number;
  /** fp32, or bf16 when the forward passes ran under bf16 mixed precision. */
  precision: EffectivePrecision;
  stopReason: StopReason;
  /** Wall seconds of this run (not counting a resumed run's earlier ones). */
  seconds: number;
}

interface Resolved {
  objective: Objective;
  model: AnyModel;
  tokenizer: BpeTokenizer;
  seqLen: number;
  batchSize: number;
  lr: number;
  warmup: number;
  schedule: ScheduleKind;
  weightDecay: number;
}

/** Builds the model and settles the options, rejecting bad input before any training. */
function resolve(options: TrainOptions): Resolved {
  const sources = [options.preset, options.config, options.init].filter((x) => x !== undefined);
  if (sources.length !== 1) throw new Error('give exactly one of --preset, --config and --init');
  if (options.data.length === 0) throw new Error('no --data files');
  for (const file of [...options.data, ...(options.val ? [options.val] : [])]) {
    if (!existsSync(file)) throw new Error(`${file}: no such data file`);
    if (statSync(file).size === 0) throw new Error(`${file}: empty data file`);
  }
  if (!(options.maxSteps > 0)) throw new Error('--max-steps must be a positive integer');
  if (options.targetValLoss !== undefined) {
    if (!options.val) throw new Error('--target-val-loss needs --val');
    if (!((options.evalEvery ?? 0) > 0)) throw new Error('--target-val-loss needs --eval-every N (how often to check it)');
  }

  const preset = options.preset === undefined ? undefined : getPreset(options.preset);
  const config = options.config === undefined ? undefined : readJsonFile<RawConfig>(options.config);
  const tokenizerDir = options.tokenizer ?? options.init;
  const tokenizer = tokenizerDir ? loadTokenizer(tokenizerDir) : preset ? preset.tokenizer() : undefined;
  if (!tokenizer) throw new Error('--config needs --tokenizer DIR (a directory with tokenizer.json, or vocab.json and merges.txt)');

  const model = options.init ? loadModel(options.init) : createModel(preset ? preset.config : (config as RawConfig));
  const objective = options.objective ?? preset?.objective ?? (model.kind === 'causal' ? 'causal' : 'mlm');
  const fail = (message: string): never => {
    model.dispose();
    throw new Error(message);
  };
  if (objective === 'causal' && model.kind !== 'causal') fail(`--objective causal needs a causal LM, got ${model.modelType}`);
  if (objective === 'mlm' && (model.kind !== 'encoder' || !model.hasMlmHead)) fail(`--objective mlm needs an encoder with an MLM head, got ${model.modelType}`);
  if (tokenizer.vocabSize > (model).vocabSize) {
    fail(`the tokenizer has ${tokenizer.vocabSize} ids but the model's vocabulary has ${(model as CausalLM).vocabSize}`);
  }
  if (objective === 'mlm' && tokenizer.maskTokenId === undefined) fail('--objective mlm needs a tokenizer with a <mask> token');
  const seqLen = options.seqLen ?? preset?.defaults.seqLen ?? (model as CausalLM).contextLength;
  if (seqLen > (model).contextLength) {
    fail(`--seq-len ${seqLen} is longer than the model's context (${(model as CausalLM).contextLength})`);
  }
  if (seqLen < 2) fail('--seq-len must be at least 2');
  return {
    objective,
    model,
    tokenizer,
    seqLen,
    batchSize: options.batchSize ?? preset?.defaults.batchSize ?? 8,
    lr: options.lr ?? preset?.defaults.lr ?? 5e-4,
    warmup: options.warmup ?? preset?.defaults.warmup ?? 0,
    schedule: options.schedule ?? preset?.defaults.schedule ?? 'constant',
    weightDecay: options.weightDecay ?? preset?.defaults.weightDecay ?? 0.01,
  };
}

/** Loss of one batch (mean over predicted positions). */
function batchLoss(model: AnyModel, batch: Batch, objective: Objective): Tensor {
  if (objective === 'causal') return causalLmLoss(model as CausalLM, batch.ids, batch.labels);
  return maskedLmLoss(model as EncoderModel, batch.ids, batch.labels, batch.attentionMask);
}

export async function train(options: TrainOptions): Promise<TrainResult> {
  const progress = options.progress ?? ((line: string) => process.stderr.write(`${line}\n`));
  const resumeDir = latestCheckpoint(options.out);
  const resumedState = resumeDir ? readTrainerState(resumeDir) : null;
  // A resumed run continues from its checkpoint's weights and tokenizer.
  const r = resolve(resumeDir ? { ...options, preset: undefined, config: undefined, init: resumeDir, tokenizer: undefined } : options);
  const seed = resumedState?.seed ?? options.seed ?? 0;
  const gradClip = options.gradClip ?? 1.0;
  const evalEvery = options.evalEvery ?? 0;
  const saveEvery = options.saveEvery ?? 0;
  const packing = options.packing ?? (r.objective === 'mlm' ? 'truncate' : 'chunk');
  const model = r.model;
  mkdirSync(options.out, { recursive: true });
  const logPath = join(options.out, 'log.jsonl');
  const log = (entry: Record<string, unknown>): void => appendFileSync(logPath, `${JSON.stringify(entry)}\n`);

  const optimizer = new AdamW(model.parameters.list(), { lr: r.lr, eps: options.adamEps ?? 1e-8, weightDecay: r.weightDecay });
  let state: TrainerState = resumedState ?? {
    step: 0,
    sequencesSeen: 0,
    tokensSeen: 0,
    position: START,
    seed,
    options: { objective: r.objective, batchSize: r.batchSize, seqLen: r.seqLen, packing, data: options.data },
  };
  if (resumeDir) {
    loadOptimizerState(resumeDir, model, optimizer);
    progress(`train: resuming from ${resumeDir} (step ${state.step})`);
  }
  const schedule = { kind: r.schedule, peak: r.lr, warmup: r.warmup, maxSteps: options.maxSteps, batchSize: r.batchSize, everySequences: options.stepEverySequences, factor: options.stepFactor };
  const toSequences = (text: string): number[][] => documentSequences(text, r.tokenizer, r.objective, packing, r.seqLen);
  const stream = sequenceStream(options.data, toSequences, state.position);

  const validate = async (): Promise<number | null> => {
    if (!options.val) return null;
    const valStream = sequenceStream([options.val], toSequences, START);
    let lossSum = 0;
    let count = 0;
    model.training = false;
    for (let b = 0; b < (options.valBatches ?? 20); b++) {
      const sequences: number[][] = [];
      for (let i = 0; i < r.batchSize; i++) sequences.push((await nextSequence(valStream)).ids);
      inference(() => {
        const batch = makeBatch(sequences, r.objective, r.tokenizer, 1_000_000 + b);
        lossSum += batchLoss(model, batch, r.objective).item() * batch.predicted;
        count += batch.predicted;
      });
    }
    await valStream.return(undefined);
    return count === 0 ? null : lossSum / count;
  };

  const started = Date.now();
  let tokensThisRun = 0;
  let lastLoss = NaN;
  let lastVal: number | null = null;
  let checkpoint = resumeDir ?? '';
  let stopReason: StopReason = 'max-steps';
  const save = (): void => {
    checkpoint = saveTrainerCheckpoint(options.out, model, r.tokenizer, optimizer, state, options.saveTotalLimit ?? 2);
  };

  try {
    while (state.step < options.maxSteps) {
      const sequences: number[][] = [];
      let position: DataPosition = state.position;
      for (let i = 0; i < r.batchSize; i++) {
        const next = await nextSequence(stream);
        sequences.push(next.ids);
        position = next.next;
      }
      const step = state.step;
      optimizer.lr = learningRate(step, schedule);
      manualSeed(seed * 1_000_003 + step); // dropout: a function of (seed, step)
      model.training = true;
      const batch = tidy(() => makeBatch(sequences, r.objective, r.tokenizer, seed * 7919 + step));
      const { loss, gradNorm } = tidy(() => {
        optimizer.zeroGrad();
        const l = batchLoss(model, batch, r.objective);
        l.backward();
        const norm = clipGradNorm(model.parameters.list(), gradClip);
        optimizer.step();
        return { loss: l.item(), gradNorm: norm };
      });
      for (const t of [batch.ids, batch.labels, batch.attentionMask]) t.dispose();
      if (!Number.isFinite(loss)) throw new Error(`training diverged at step ${step + 1}: loss ${loss}`);
      lastLoss = loss;
      tokensThisRun += batch.tokens;
      state = {
        ...state,
        step: step + 1,
        sequencesSeen: state.sequencesSeen + sequences.length,
        tokensSeen: state.tokensSeen + batch.tokens,
        position,
      };
      const elapsed = (Date.now() - started) / 1000;
      const tokensPerSecond = tokensThisRun / elapsed;
      log({ type: 'train', step: state.step, loss, lr: optimizer.lr, gradNorm, tokensPerSecond, elapsed, precision: currentPrecision() });
      if (options.onStep) options.onStep({ step: state.step, maxSteps: options.maxSteps, loss, valLoss: lastVal, tokensPerSecond });
      else {
        const eta = ((options.maxSteps - state.step) * elapsed) / Math.max(1, state.step - (resumedState?.step ?? 0));
        progress(`train: step ${state.step}/${options.maxSteps} loss ${loss.toFixed(4)} lr ${optimizer.lr.toExponential(2)} ${tokensPerSecond.toFixed(0)} tok/s ETA ${formatSeconds(eta)}`);
      }

      const last = state.step === options.maxSteps;
      if (evalEvery > 0 && (state.step % evalEvery === 0 || last)) {
        lastVal = await validate();
        if (lastVal !== null) {
          log({ type: 'val', step: state.step, loss: lastVal, perplexity: Math.exp(lastVal) });
          if (!options.onStep) progress(`train: step ${state.step} val loss ${lastVal.toFixed(4)} perplexity ${Math.exp(lastVal).toFixed(2)}`);
        }
      }
      const reachedTarget = options.targetValLoss !== undefined && lastVal !== null && lastVal <= options.targetValLoss && evalEvery > 0 && state.step % evalEvery === 0;
      const outOfTime = options.timeLimit !== undefined && elapsed >= options.timeLimit;
      if (last || outOfTime || reachedTarget || (saveEvery > 0 && state.step % saveEvery === 0)) save();
      if (reachedTarget) {
        stopReason = 'target';
        progress(`train: validation loss ${lastVal!.toFixed(4)} reached the target ${options.targetValLoss!.toFixed(4)} at step ${state.step}`);
        break;
      }
      if (outOfTime && !last) {
        stopReason = 'time-limit';
        progress(`train: time limit reached at step ${state.step}; resume by running the same command again`);
        break;
      }
      await yieldToEventLoop(); // a Ctrl-C handler runs between steps
    }
    if (!checkpoint) save();
    if (lastVal === null && options.val) {
      lastVal = await validate();
      if (lastVal !== null) log({ type: 'val', step: state.step, loss: lastVal, perplexity: Math.exp(lastVal) });
    }
  } finally {
    await stream.return(undefined);
    model.dispose();
  }
  const seconds = (Date.now() - started) / 1000;
  return {
    steps: state.step,
    finalTrainLoss: lastLoss,
    finalValLoss: lastVal,
    valPerplexity: lastVal === null ? null : Math.exp(lastVal),
    checkpoint,
    resumedFrom: resumeDir,
    tokensPerSecond: tokensThisRun / seconds,
    precision: currentPrecision(),
    stopReason,
    seconds,
  };
}

function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  return s >= 3600 ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}
