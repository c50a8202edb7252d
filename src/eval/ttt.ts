// Test-time training on nearest neighbours, per document (eval_tttlm.py:
// TTTLM.train, :254-308): evaluate; then for each training text, one AdamW
// step (gradient norm clipped to 1.0) per window of maxLength tokens every
// `stride` tokens of its tokens (train_single, :216-252), and evaluate
// again; finally restore the weights (:304-306). The optimizer's moments are
// not touched here: ScopedOptimizer decides when they reset.
// Dynamic evaluation and the random-documents control are the same loop
// with other training texts.
import { clipGradNorm, manualSeed, restoreParameters, tensor, tidy, type AdamW, type Tensor } from '../engine/index.js';
import { yieldToEventLoop } from '../io/event-loop.js';
import { causalLmLoss, type CausalLM } from '../models/index.js';
import { rollingLoglikelihood } from './loglikelihood.js';
import type { MethodScore, TrainingInput } from './methods/method.js';

export interface TttSettings {
  maxLength: number;
  stride: number;
  /** Scoring window (the model's context). */
  scoreLength: number;
  gradClip: number;
  /** Restore the weights after each document (the original's --reset_weights, default on). */
  resetWeights: boolean;
  seed: number;
}

/** Thrown when a run is asked to stop (Ctrl-C): finished documents are kept, the rest resumes on a rerun. */
export class EvaluationInterrupted extends Error {
  constructor() {
    super('evaluation interrupted; rerun the same command to resume');
  }
}

export interface TttCurve {
  /** Log-likelihood of the scored tokens after 0..n training texts. */
  loglikelihoods: number[];
  /** Seconds of the score before any training (curve point 0). */
  initialEvalSeconds: number;
  /** The deadline stopped training: the last training text may be partly trained, and the rest were not. */
  budgetStop: boolean;
  /** Per training text, the loss of each window (NaN where a window has no target). */
  trainLosses: number[][];
  /** Per training text: seconds training, and seconds of the evaluation after it. */
  trainSeconds: number[];
  evalSeconds: number[];
}

/**
 * One optimizer step per window of `tokens`: windows start every `stride`
 * tokens and hold up to maxLength (eval_tttlm.py:160-164). As the original,
 * a one-token window (a text whose length is 1 more than a multiple of the
 * stride) still takes a step: its loss has no target (NaN), its gradients
 * are zero, and AdamW moves the weights by its moments and weight decay.
 */
export function trainOnTokens(model: CausalLM, optimizer: AdamW, tokens: readonly number[], s: Pick<TttSettings, 'maxLength' | 'stride' | 'gradClip'>, deadline = Infinity): number[] {
  const losses: number[] = [];
  model.training = true;
  const device = model.parameters.device;
  try {
    for (let start = 0; start < tokens.length; start += s.stride) {
      if (performance.now() >= deadline) break; // a budget: no step starts after it
      const window = tokens.slice(start, start + s.maxLength);
      losses.push(
        tidy(() => {
          optimizer.zeroGrad(false); // model.zero_grad() in torch 1.13 fills zeros
          const ids: Tensor = tensor(window, { dtype: 'int64', shape: [1, window.length], device });
          let loss = NaN;
          if (window.length >= 2) {
            const l = causalLmLoss(model, ids);
            l.backward();
            loss = l.item();
          } else {
            // Hugging Face's mean loss over no target is NaN with all-zero gradients.
            model.logits(ids).sum().mul(0).backward();
          }
          clipGradNorm(optimizer.params, s.gradClip); // the trained weights: all, or the LoRA adapter
          optimizer.step();
          return loss;
        }),
      );
    }
  } finally {
    model.training = false;
  }
  return losses;
}

/**
 * Scores `scored` before training and after training on each of `trainTexts`
 * (token lists), then restores the model from `snapshot` (when resetWeights).
 * `shouldStop` is asked between training texts, after the event loop had
 * its turn (so a Ctrl-C handler can answer); when it says yes the loop
 * throws (the weights are restored first). `deadline` (performance.now()
 * milliseconds; a per-document budget) is checked before every training
 * step: once it has passed no step starts, the model is scored once more if
 * it was trained since its last score, and the curve ends there.
 */
export async function testTimeTrain(
  model: CausalLM,
  optimizer: AdamW,
  snapshot: readonly Tensor[],
  scored: readonly number[],
  prefixToken: number,
  trainTexts: readonly (readonly number[])[],
  s: TttSettings,
  shouldStop: () => boolean = () => false,
  deadline = Infinity,
): Promise<TttCurve> {
  const score = (): number => rollingLoglikelihood(model, scored, prefixToken, s.scoreLength);
  const { evaluations, ...rest } = await testTimeTrainWith(model, optimizer, snapshot, score, trainTexts, s, shouldStop, deadline);
  return { loglikelihoods: evaluations, ...rest };
}

/**
 * The same loop with any evaluation after 0..n training texts: a
 * downstream task's requests and metrics instead of a document's
 * log-likelihood (eval_tttlm.py:_evaluate, :91-112, after every neighbour).
 */
export async function testTimeTrainWith<R>(
  model: CausalLM,
  optimizer: AdamW,
  snapshot: readonly Tensor[],
  score: () => R,
  trainTexts: readonly (readonly number[])[],
  s: Omit<TttSettings, 'scoreLength'>,
  shouldStop: () => boolean = () => false,
  deadline = Infinity,
): Promise<Omit<TttCurve, 'loglikelihoods'> & { evaluations: R[] }> {
  const curve: Omit<TttCurve, 'loglikelihoods'> & { evaluations: R[] } = { evaluations: [], initialEvalSeconds: 0, budgetStop: false, trainLosses: [], trainSeconds: [], evalSeconds: [] };
  try {
    manualSeed(s.seed); // dropout during the training steps
    const scoring = performance.now();
    curve.evaluations.push(score());
    curve.initialEvalSeconds = (performance.now() - scoring) / 1000;
    for (const [i, tokens] of trainTexts.entries()) {
      await yieldToEventLoop();
      if (shouldStop()) throw new EvaluationInterrupted();
      if (performance.now() >= deadline) {
        curve.budgetStop = true;
        break;
      }
      const start = performance.now();
      const losses = trainOnTokens(model, optimizer, tokens, s, deadline);
      const trained = performance.now();
      if (losses.length === 0 && tokens.length > 0) {
        curve.budgetStop = true; // the deadline passed before this text's first step
        break;
      }
      curve.trainLosses.push(losses);
      curve.evaluations.push(score());
      curve.trainSeconds.push((trained - start) / 1000);
      curve.evalSeconds.push((performance.now() - trained) / 1000);
      const partlyTrained = losses.length < Math.ceil(tokens.length / s.stride);
      if (partlyTrained || (performance.now() >= deadline && i + 1 < trainTexts.length)) {
        curve.budgetStop = true;
        break;
      }
    }
  } finally {
    if (s.resetWeights) restoreParameters(optimizer.params, snapshot);
    optimizer.zeroGrad();
    model.training = false;
  }
  return curve;
}

/** A training method's result fields: test-time training on `texts` (tokenized here, as train_single does) from the document's starting weights. */
export async function trainAndScore(input: TrainingInput, texts: readonly string[]): Promise<MethodScore> {
  const { settings: s, model, tokenizer, optimizer, snapshot, split, eos } = input;
  const trainTexts = texts.map((t) => tokenizer.encode(t));
  const curve = await testTimeTrain(model, optimizer, snapshot, split.scored, eos, trainTexts, s, input.shouldStop, input.deadline);
  return {
    loglikelihoods: curve.loglikelihoods, train_losses: curve.trainLosses, train_seconds: curve.trainSeconds, eval_seconds: curve.evalSeconds,
    score_seconds_before: curve.initialEvalSeconds, ...(s.budgetSeconds === undefined ? {} : { budget_stop: curve.budgetStop }),
  };
}
