// Generation with test-time training: the original's TTTLM.generate
// (eval_tttlm.py:310-349). Sample a continuation of the prompt; retrieve the
// prompt's neighbours (string_query, :332, with no distance filter: generate
// does not call _filter_retrieved); train on each, one AdamW step per window
// (train_single, :216-252, the step the method evidently meant by its
// undefined `self.update`); sample again; restore the weights (:345-346).
//
// Both samples draw with the same seed, so what differs between them is the
// training. The weights trained are every weight (the original) or a LoRA
// adapter (trainable.ts); either way they are restored (or the adapter
// removed) before this returns, also when it stops early.
import { AdamW, manualSeed, restoreParameters } from '../engine/index.js';
import { yieldToEventLoop } from '../io/event-loop.js';
import { generateAsync, type CausalLM, type SamplingOptions } from '../models/index.js';
import type { BpeTokenizer } from '../tokenizers/index.js';
import type { RetrievedNeighbor, Retriever } from './retriever.js';
import type { EvalSettings } from './settings.js';
import { trainableWeights } from './trainable.js';
import { trainOnTokens } from './ttt.js';

/** The original's max_length=100 (eval_tttlm.py:328, :339): prompt and continuation together. */
export const ORIGINAL_MAX_LENGTH = 100;

export interface TttGenerateRequest {
  prompt: string;
  /** Continuation length (the caller derives the original's default from ORIGINAL_MAX_LENGTH). */
  maxNewTokens: number;
  sampling: SamplingOptions;
  seed: number;
  /** The training settings (resolveSettings('ttt', …)): numNeighbors, learning rate, trainable, windows, AdamW. */
  settings: EvalSettings;
  /** Sample before training too, as the original does (default true). */
  before?: boolean;
  /** Decode with the key/value cache (default true). */
  cache?: boolean;
  /** Tokenize the prompt with the tokenizer's special tokens, as the original (default true; a rendered chat template already has them). */
  addSpecialTokens?: boolean;
  /** The text neighbours are retrieved for (default: the prompt). */
  query?: string;
}

export type Phase = 'before' | 'after';

export interface TttGenerateHooks {
  /** Each new token as it is chosen. */
  onToken?: (phase: Phase, id: number) => void;
  onNeighbors?: (neighbors: readonly RetrievedNeighbor[], partial: boolean) => void;
  /** After each neighbour's training steps. */
  onTrained?: (index: number, losses: number[]) => void;
  /** Stops retrieval, training and generation (a client gone, Ctrl-C); the weights are restored. */
  signal?: AbortSignal;
}

export interface TttGeneration {
  promptTokens: number[];
  /** Tokens of the continuation before training (absent when `before` is false). */
  before?: number[];
  /** Tokens of the continuation after training on the neighbours (with none: the plain continuation). */
  after: number[];
  neighbors: RetrievedNeighbor[];
  partial: boolean;
  trainLosses: number[][];
  seconds: { retrieval: number; training: number; generationBefore: number; generationAfter: number };
  /** The signal stopped it: what is here is what was done. */
  aborted: boolean;
}

/** The first `n` words of a text, on one line: how a neighbour is shown beside a generation. */
export function firstWords(text: string, n = 12): string {
  const words = text.trim().split(/\s+/);
  return words.slice(0, n).join(' ') + (words.length > n ? ' …' : '');
}

const aborted = (signal: AbortSignal | undefined): boolean => signal?.aborted ?? false;

export async function generateWithTtt(model: CausalLM, tokenizer: BpeTokenizer, retriever: Retriever | undefined, r: TttGenerateRequest, hooks: TttGenerateHooks = {}): Promise<TttGeneration> {
  const s = r.settings;
  // The original tokenizes the prompt with the tokenizer's special tokens (tokenizer(prompt), :323).
  const promptTokens = tokenizer.encode(r.prompt, { addSpecialTokens: r.addSpecialTokens ?? true });
  if (promptTokens.length === 0) throw new RangeError('the prompt is empty: it has no tokens to continue');
  const stops = [tokenizer.eosTokenId].filter((id): id is number => id !== undefined);
  const result: TttGeneration = { promptTokens, after: [], neighbors: [], partial: false, trainLosses: [], seconds: { retrieval: 0, training: 0, generationBefore: 0, generationAfter: 0 }, aborted: false };
  const sample = async (phase: Phase): Promise<{ tokens: number[]; seconds: number }> => {
    const start = performance.now();
    const out = await generateAsync(model, promptTokens, { ...r.sampling, maxNewTokens: r.maxNewTokens, seed: r.seed, eosTokenId: stops, cache: r.cache, signal: hooks.signal, onToken: (id) => hooks.onToken?.(phase, id) });
    return { tokens: out.slice(promptTokens.length), seconds: (performance.now() - start) / 1000 };
  };

  const k = s.numNeighbors;
  if (r.before !== false || k === 0) {
    const before = await sample(k === 0 ? 'after' : 'before');
    result.seconds[k === 0 ? 'generationAfter' : 'generationBefore'] = before.seconds;
    if (k === 0) {
      result.after = before.tokens;
      result.aborted = aborted(hooks.signal);
      return result;
    }
    result.before = before.tokens;
  }
  if (aborted(hooks.signal)) return { ...result, aborted: true };
  if (!retriever) throw new Error('generation with neighbours needs a retriever (--embedder, --addresses, --token-file)');

  const retrieval = await retriever.retrieve(r.query ?? r.prompt, k);
  result.neighbors = retrieval.neighbors;
  result.partial = retrieval.partial;
  result.seconds.retrieval = retrieval.seconds;
  hooks.onNeighbors?.(retrieval.neighbors, retrieval.partial);

  const weights = trainableWeights(model, s);
  try {
    const optimizer = new AdamW(weights.list(), { lr: s.learningRate, eps: s.adamEpsilon, betas: s.adamBetas, weightDecay: s.weightDecay });
    try {
      manualSeed(r.seed); // dropout during the training steps
      const start = performance.now();
      for (const [i, neighbor] of retrieval.neighbors.entries()) {
        await yieldToEventLoop();
        if (aborted(hooks.signal)) break;
        const losses = trainOnTokens(model, optimizer, tokenizer.encode(neighbor.text), s);
        result.trainLosses.push(losses);
        hooks.onTrained?.(i, losses);
      }
      result.seconds.training = (performance.now() - start) / 1000;
      if (!aborted(hooks.signal)) {
        const after = await sample('after');
        result.after = after.tokens;
        result.seconds.generationAfter = after.seconds;
      }
    } finally {
      restoreParameters(weights.list(), weights.snapshot); // reset_weights (:345-346); a LoRA adapter is removed below
      optimizer.zeroGrad();
      optimizer.reset(); // frees the moments now rather than at garbage collection
    }
  } finally {
    weights.dispose();
    model.training = false;
  }
  result.aborted = aborted(hooks.signal);
  return result;
}
