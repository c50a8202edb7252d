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
import { EventFileWriter } from '../io/tensorboard-events.js';
import { withPath } from '../io/path-errors.js';
import { yieldToEventLoop } from '../io/event-loop.js';
import { AdamW, clipGradNorm, currentPrecision, inference, manualSeed, tidy, type EffectivePrecision, type Tensor } from '../engine/index.js';
import { causalLmLoss, createModel, defaultLoraTargets, loadModel, LoraAdapter, maskedLmLoss, type AnyModel, type CausalLM, type EncoderModel, type RawConfig } from '../models/index.js';
import { loadTokenizer, type BpeTokenizer } from '../tokenizers/index.js';
import { START, documentSequences, makeBatch, nextSequence, sequenceStream, type Batch, type DataPosition, type Packing, type Sequence } from './batches.js';
import { latestCheckpoint, loadOptimizerState, readTrainerState, saveTrainerCheckpoint, wholeModel, type TrainedWeights, type TrainerState } from './checkpoints.js';
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
  /** Where the model and every batch live: cpu (default), cuda or cuda:N. */
  device?: string;
  data: string[];
  val?: string;
  out: string;
  /** TensorBoard event files of what log.jsonl records (default OUT/tensorboard; null: none). */
  logdir?: string | null;
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
  /**
   * Train a LoRA adapter (PEFT's, models/lora.ts) on the frozen --init model
   * instead of every weight; checkpoints then hold the adapter in PEFT's
   * format (adapter_config.json + adapter_model.safetensors) and a resume
   * reloads the base from --init. targets: default PEFT's for the model type.
   */
  lora?: { rank: number; alpha: number; dropout: number; targets?: readonly string[] };
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
  // 0 would delete the checkpoint just written (the newest is kept by counting from it).
  if (options.saveTotalLimit !== undefined && !(Number.isInteger(options.saveTotalLimit) && options.saveTotalLimit >= 1)) {
    throw new Error(`--save-total-limit must be at least 1 (the checkpoint just written is always kept), got ${options.saveTotalLimit}`);
  }
  if (options.targetValLoss !== undefined) {
    if (!options.val) throw new Error('--target-val-loss needs --val');
    if (!((options.evalEvery ?? 0) > 0)) throw new Error('--target-val-loss needs --eval-every N (how often to check it)');
  }

  const preset = options.preset === undefined ? undefined : getPreset(options.preset);
  const config = options.config === undefined ? undefined : readJsonFile<RawConfig>(options.config);
  const tokenizerDir = options.tokenizer ?? options.init;
  const tokenizer = tokenizerDir ? loadTokenizer(tokenizerDir) : preset ? preset.tokenizer() : undefined;
  if (!tokenizer) throw new Error('--config needs --tokenizer DIR (a directory with tokenizer.json, or vocab.json and merges.txt)');

  const placement = { device: options.device ?? 'cpu' };
  const model = options.init ? loadModel(options.init, placement) : createModel(preset ? preset.config : (config as RawConfig), placement);
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

/**
 * The mean loss per predicted token over the first `batches` batches of the
 * validation file (the same batches every time: masks seeded by batch).
 */
async function validationLoss(model: AnyModel, r: Resolved, valFile: string, batches: number, toSequences: (text: string) => number[][]): Promise<number | null> {
  const valStream = sequenceStream([valFile], toSequences, START);
  let lossSum = 0;
  let count = 0;
  model.training = false;
  try {
    for (let b = 0; b < batches; b++) {
      const { sequences } = await readSequences(valStream, r.batchSize);
      inference(() => {
        const batch = makeBatch(sequences, r.objective, r.tokenizer, 1_000_000 + b, model.parameters.device);
        lossSum += batchLoss(model, batch, r.objective).item() * batch.predicted;
        count += batch.predicted;
      });
    }
  } finally {
    await valStream.return(undefined);
  }
  return count === 0 ? null : lossSum / count;
}

/** The next `n` sequences of the stream, and the data position after them. */
async function readSequences(stream: AsyncGenerator<Sequence, void>, n: number, position: DataPosition = START): Promise<{ sequences: number[][]; position: DataPosition }> {
  const sequences: number[][] = [];
  let after = position;
  for (let i = 0; i < n; i++) {
    const next = await nextSequence(stream);
    sequences.push(next.ids);
    after = next.next;
  }
  return { sequences, position: after };
}

/**
 * One optimisation step on `sequences`: forward, backward, clip, AdamW.
 * Dropout is seeded by (seed, step) and MLM masks by (seed, step, sequence),
 * which is what makes a resumed run repeat an uninterrupted one exactly.
 */
function optimizationStep(model: AnyModel, optimizer: AdamW, r: Resolved, sequences: number[][], seed: number, step: number, gradClip: number): { loss: number; gradNorm: number; tokens: number } {
  manualSeed(seed * 1_000_003 + step); // dropout: a function of (seed, step)
  model.training = true;
  const batch = tidy(() => makeBatch(sequences, r.objective, r.tokenizer, seed * 7919 + step, model.parameters.device));
  try {
    const { loss, gradNorm } = tidy(() => {
      optimizer.zeroGrad();
      const l = batchLoss(model, batch, r.objective);
      l.backward();
      const norm = clipGradNorm(optimizer.params, gradClip); // what trains: every weight, or the adapter
      optimizer.step();
      return { loss: l.item(), gradNorm: norm.item() };
    });
    if (!Number.isFinite(loss)) throw new Error(`training diverged at step ${step + 1}: loss ${loss}`);
    return { loss, gradNorm, tokens: batch.tokens };
  } finally {
    for (const t of [batch.ids, batch.labels, batch.attentionMask]) t.dispose();
  }
}

/**
 * Whether the run stops after `step`, and why: its quality target (checked at
 * validation steps only), its step budget, or its time limit.
 */
function stopAfter(step: number, o: TrainOptions, valLoss: number | null, elapsedSeconds: number): StopReason | null {
  const evalEvery = o.evalEvery ?? 0;
  if (o.targetValLoss !== undefined && valLoss !== null && valLoss <= o.targetValLoss && evalEvery > 0 && step % evalEvery === 0) return 'target';
  if (step === o.maxSteps) return 'max-steps';
  if (o.timeLimit !== undefined && elapsedSeconds >= o.timeLimit) return 'time-limit';
  return null;
}

/**
 * Resumes from the newest checkpoint in the output directory (its weights,
 * tokenizer, optimizer moments, data position and seed), or starts afresh.
 */
function openRun(options: TrainOptions, progress: (line: string) => void): { r: Resolved; optimizer: AdamW; state: TrainerState; resumeDir: string | null; resumedStep: number; packing: Packing; weights: TrainedWeights; adapter?: LoraAdapter } {
  const resumeDir = latestCheckpoint(options.out, (dir, why) => progress(`train: not resuming from ${dir}: incomplete (${why}); trying an older checkpoint`));
  const resumedState = resumeDir ? readTrainerState(resumeDir) : null;
  if (options.lora && !options.init) throw new Error('--lora trains an adapter on a model: give the model with --init DIR');
  // A LoRA checkpoint holds the adapter, not the model: the base always comes from --init.
  const r = resolve(resumeDir && !options.lora ? { ...options, preset: undefined, config: undefined, init: resumeDir, tokenizer: undefined } : options);
  const packing = options.packing ?? (r.objective === 'mlm' ? 'truncate' : 'chunk');
  mkdirSync(options.out, { recursive: true });
  let adapter: LoraAdapter | undefined;
  if (options.lora) {
    const { rank, alpha, dropout, targets } = options.lora;
    manualSeed(options.seed ?? 0); // PEFT's initialisation of A
    adapter = LoraAdapter.attach(r.model, { rank, alpha, dropout, targets: targets ?? defaultLoraTargets(r.model.modelType) }, resumeDir ? { from: 'directory', dir: resumeDir } : { from: 'peft-default' });
  }
  const weights: TrainedWeights = adapter ?? wholeModel(r.model);
  const optimizer = new AdamW(adapter ? adapter.list() : r.model.parameters.list(), { lr: r.lr, eps: options.adamEps ?? 1e-8, weightDecay: r.weightDecay });
  const state = resumedState ?? freshState(r, options, options.seed ?? 0, packing);
  if (resumeDir) {
    loadOptimizerState(resumeDir, weights, optimizer);
    progress(`train: resuming from ${resumeDir} (step ${state.step})`);
  }
  return { r, optimizer, state, resumeDir, resumedStep: resumedState?.step ?? 0, packing, weights, adapter };
}

/** The state of a run that starts at step 0. */
function freshState(r: Resolved, options: TrainOptions, seed: number, packing: Packing): TrainerState {
  return {
    step: 0,
    sequencesSeen: 0,
    tokensSeen: 0,
    position: START,
    seed,
    options: { objective: r.objective, batchSize: r.batchSize, seqLen: r.seqLen, packing, data: options.data, ...(options.lora ? { lora: options.lora } : {}) },
  };
}

export async function train(options: TrainOptions): Promise<TrainResult> {
  const progress = options.progress ?? ((line: string) => process.stderr.write(`${line}\n`));
  const { r, optimizer, resumeDir, resumedStep, packing, weights, adapter, ...start } = openRun(options, progress);
  let state = start.state;
  const seed = state.seed;
  const model = r.model;
  const gradClip = options.gradClip ?? 1.0;
  const evalEvery = options.evalEvery ?? 0;
  const saveEvery = options.saveEvery ?? 0;
  const logPath = join(options.out, 'log.jsonl');
  const events = options.logdir === null ? undefined : new EventFileWriter(options.logdir ?? join(options.out, 'tensorboard'));
  const log = (entry: Record<string, unknown>): void => {
    withPath(logPath, 'write', () => appendFileSync(logPath, `${JSON.stringify(entry)}\n`));
    const step = entry['step'] as number;
    if (entry['type'] === 'train') events?.scalars(step, { 'train/loss': entry['loss'] as number, 'train/learning_rate': entry['lr'] as number, 'train/tokens_per_second': entry['tokensPerSecond'] as number, 'train/grad_norm': entry['gradNorm'] as number });
    if (entry['type'] === 'val') events?.scalars(step, { 'val/loss': entry['loss'] as number, 'val/perplexity': entry['perplexity'] as number });
  };
  const schedule = { kind: r.schedule, peak: r.lr, warmup: r.warmup, maxSteps: options.maxSteps, batchSize: r.batchSize, everySequences: options.stepEverySequences, factor: options.stepFactor };
  const toSequences = (text: string): number[][] => documentSequences(text, r.tokenizer, r.objective, packing, r.seqLen);
  const stream = sequenceStream(options.data, toSequences, state.position);
  const validate = async (): Promise<number | null> => {
    if (!options.val) return null;
    const loss = await validationLoss(model, r, options.val, options.valBatches ?? 20, toSequences);
    if (loss !== null) log({ type: 'val', step: state.step, loss, perplexity: Math.exp(loss) });
    return loss;
  };

  const started = Date.now();
  let tokensThisRun = 0;
  let lastLoss = NaN;
  let lastVal: number | null = null;
  let checkpoint = resumeDir ?? '';
  let stopReason: StopReason = 'max-steps';
  const save = (): void => {
    checkpoint = saveTrainerCheckpoint(options.out, model, r.tokenizer, optimizer, state, options.saveTotalLimit ?? 2, weights);
  };

  try {
    while (state.step < options.maxSteps) {
      const { sequences, position } = await readSequences(stream, r.batchSize, state.position);
      optimizer.lr = learningRate(state.step, schedule);
      const { loss, gradNorm, tokens } = optimizationStep(model, optimizer, r, sequences, seed, state.step, gradClip);
      lastLoss = loss;
      tokensThisRun += tokens;
      state = { ...state, step: state.step + 1, sequencesSeen: state.sequencesSeen + sequences.length, tokensSeen: state.tokensSeen + tokens, position };
      const elapsed = (Date.now() - started) / 1000;
      const tokensPerSecond = tokensThisRun / elapsed;
      log({ type: 'train', step: state.step, loss, lr: optimizer.lr, gradNorm, tokensPerSecond, elapsed, precision: currentPrecision() });
      if (options.onStep) options.onStep({ step: state.step, maxSteps: options.maxSteps, loss, valLoss: lastVal, tokensPerSecond });
      else {
        const eta = ((options.maxSteps - state.step) * elapsed) / Math.max(1, state.step - resumedStep);
        progress(`train: step ${state.step}/${options.maxSteps} loss ${loss.toFixed(4)} lr ${optimizer.lr.toExponential(2)} ${tokensPerSecond.toFixed(0)} tok/s ETA ${formatSeconds(eta)}`);
      }
      if (evalEvery > 0 && (state.step % evalEvery === 0 || state.step === options.maxSteps)) {
        lastVal = await validate();
        if (lastVal !== null && !options.onStep) progress(`train: step ${state.step} val loss ${lastVal.toFixed(4)} perplexity ${Math.exp(lastVal).toFixed(2)}`);
      }
      const stop = stopAfter(state.step, options, lastVal, elapsed);
      if (stop !== null || (saveEvery > 0 && state.step % saveEvery === 0)) save();
      if (stop === 'target') progress(`train: validation loss ${lastVal!.toFixed(4)} reached the target ${options.targetValLoss!.toFixed(4)} at step ${state.step}`);
      if (stop === 'time-limit') progress(`train: time limit reached at step ${state.step}; resume by running the same command again`);
      if (stop !== null) {
        stopReason = stop;
        break;
      }
      await yieldToEventLoop(); // a Ctrl-C handler runs between steps
    }
    if (!checkpoint) save();
    if (lastVal === null && options.val) lastVal = await validate();
  } finally {
    await stream.return(undefined);
    events?.close();
    adapter?.detach();
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
