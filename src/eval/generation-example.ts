// One worked example of what TTT-NN does to a model's text, for the demo's
// last step and its report: a test document's first sentence continued
// before and after test-time training on its neighbours. It runs the same
// code as `tttnn generate` (generateWithTtt: sample, retrieve, train, sample
// again, restore the weights), greedily, so that the two continuations
// differ only by the training. Kept as generation-example.json beside the
// results it illustrates, where a rerun finds it and `tttnn report` shows it.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileDurably } from '../io/durable.js';
import type { CausalLM } from '../models/index.js';
import type { BpeTokenizer } from '../tokenizers/index.js';
import type { EvalDocument } from './documents.js';
import type { Retriever } from './retriever.js';
import { resolveSettings } from './settings.js';
import { firstWords, generateWithTtt } from './ttt-generate.js';

export const GENERATION_EXAMPLE_FILE = 'generation-example.json';

/** The prompt is cut to this many characters: with the continuation it stays inside a small model's context (the tiny GPT's 256 tokens). */
export const PROMPT_MAX_CHARS = 160;

export interface GenerationExample {
  /** The test document the prompt comes from: its domain and its line in the test file. */
  document: { task: string; id: number };
  prompt: string;
  prompt_tokens: number;
  /** The continuations (without the prompt), decoded. */
  before: string;
  after: string;
  neighbors: { id: number; distance: number; first_words: string }[];
  partial: boolean;
  /** Mean training loss per neighbour. */
  train_losses: number[];
  seconds: { retrieval: number; training: number; generation_before: number; generation_after: number };
  max_new_tokens: number;
  /** Greedy decoding (temperature 0); the seed only seeds the training steps' dropout. */
  greedy: true;
  seed: number;
  num_neighbors: number;
  learning_rate: number;
}

/**
 * A document's first sentence: up to the first '.', '!' or '?' followed by
 * white space, or the first line break, from the first line that has text;
 * sentences shorter than 20 characters (a heading, "Usage:") take the next one
 * along, so the model has something to continue; cut to `maxChars` at a word
 * boundary.
 */
export function firstSentence(text: string, maxChars = PROMPT_MAX_CHARS): string {
  const body = text.replace(/^\s+/, '');
  const ends = /[.!?](?=\s)|\n/g;
  let end = body.length;
  for (let m = ends.exec(body); m !== null; m = ends.exec(body)) {
    const candidate = m[0] === '\n' ? m.index : m.index + 1;
    if (body.slice(0, candidate).trim().length >= 20) {
      end = candidate;
      break;
    }
  }
  const sentence = body.slice(0, end).trimEnd();
  if (sentence.length <= maxChars) return sentence;
  const cut = sentence.slice(0, maxChars);
  const space = cut.lastIndexOf(' ');
  return space > maxChars / 2 ? cut.slice(0, space) : cut;
}

export interface GenerationExampleOptions {
  neighbors: number;
  learningRate: number;
  maxNewTokens: number;
  seed?: number;
}

/** The example for `document`: its first sentence continued greedily before and after TTT on its neighbours (the model is restored afterwards). */
export async function generationExample(model: CausalLM, tokenizer: BpeTokenizer, retriever: Retriever, document: EvalDocument, o: GenerationExampleOptions): Promise<GenerationExample> {
  const prompt = firstSentence(document.text);
  const seed = o.seed ?? 0;
  // The evaluation's own TTT settings (windows, AdamW, what trains), with its neighbours and learning rate.
  const settings = resolveSettings('ttt', { modelType: model.modelType, contextLength: model.contextLength }, { numNeighbors: o.neighbors, learningRate: o.learningRate });
  const r = await generateWithTtt(model, tokenizer, retriever, { prompt, maxNewTokens: o.maxNewTokens, sampling: { temperature: 0 }, seed, settings });
  const decode = (ids: number[] | undefined): string => tokenizer.decode(ids ?? [], { skipSpecialTokens: true });
  return {
    document: { task: document.task, id: document.id },
    prompt,
    prompt_tokens: r.promptTokens.length,
    before: decode(r.before),
    after: decode(r.after),
    neighbors: r.neighbors.map((n) => ({ id: n.id, distance: n.distance, first_words: firstWords(n.text) })),
    partial: r.partial,
    train_losses: r.trainLosses.map((l) => l.filter(Number.isFinite).reduce((a, b, _i, all) => a + b / all.length, 0)),
    seconds: { retrieval: r.seconds.retrieval, training: r.seconds.training, generation_before: r.seconds.generationBefore, generation_after: r.seconds.generationAfter },
    max_new_tokens: o.maxNewTokens,
    greedy: true,
    seed,
    num_neighbors: o.neighbors,
    learning_rate: settings.learningRate,
  };
}

export function writeGenerationExample(dir: string, example: GenerationExample): void {
  writeFileDurably(join(dir, GENERATION_EXAMPLE_FILE), `${JSON.stringify(example, null, 1)}\n`);
}

/** The example stored in a results directory, if any. */
export function readGenerationExample(dir: string): GenerationExample | undefined {
  const path = join(dir, GENERATION_EXAMPLE_FILE);
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as GenerationExample;
  } catch (error) {
    throw new Error(`${path}: ${(error as Error).message}`);
  }
}
