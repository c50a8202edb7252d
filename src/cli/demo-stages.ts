// The stages of `tttnn demo`, one function each; demo.ts runs them in order.
// Each stage keeps its output under the run directory and reuses it on a
// rerun; each long loop yields to the event loop, so Ctrl-C stops it within
// a training step, a batch or a document.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readDocuments } from '../data/jsonl.js';
import { taskName } from '../data/tasks.js';
import { manualSeed } from '../engine/index.js';
import type { GenerationExample } from '../eval/generation-example.js';
import type { QualityGates, RetrievalQuery } from '../eval/quality-gates.js';
import type { Retriever } from '../eval/retriever.js';
import { fixedDefault, type Method } from '../eval/settings.js';
import { loadCausalLM, loadEncoder, type RawConfig } from '../models/index.js';
import { loadTokenizer, saveTokenizer, trainTokenizers } from '../tokenizers/index.js';
import { PRESETS } from '../train/presets.js';
import type { StopReason } from '../train/trainer.js';
import { ProgressLine } from './progress-line.js';

export const CLI = fileURLToPath(new URL('../../../bin/tttnn.js', import.meta.url));

/** Runs `tttnn <args>` in a child process with the demo's stdio; `current` holds it so Ctrl-C can stop it. */
export function runChild(args: string[], current: { child?: ChildProcess }): Promise<void> {
  return new Promise((done, failed) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'inherit', 'inherit'] });
    current.child = child;
    child.once('error', failed);
    child.once('exit', (code, signal) => {
      current.child = undefined;
      if (code === 0) done();
      else failed(new Error(`tttnn ${args[0]} ${args[1] ?? ''} failed (${signal ?? `exit ${code}`})`));
    });
  });
}

/** Stage 1: the corpus, built in a child process (its package downloads and extraction are synchronous). */
export async function corpusStage(corpus: string, sizeMB: number, maxDocumentBytes: number, current: { child?: ChildProcess }): Promise<string> {
  if (existsSync(join(corpus, 'manifest.json'))) return 'reused';
  await runChild(['corpus', 'build', '--out', corpus, '--size', String(sizeMB), '--max-document-bytes', String(maxDocumentBytes)], current);
  return 'built';
}

/** Stage 2: a byte-level BPE of `vocabSize` tokens trained on the training split; <dir>/causal and <dir>/encoder. */
export async function tokenizerStage(trainData: string, dir: string, vocabSize: number): Promise<string> {
  if (existsSync(join(dir, 'encoder', 'tokenizer.json')) && existsSync(join(dir, 'causal', 'tokenizer.json'))) return 'reused';
  const texts: string[] = [];
  for await (const record of readDocuments(trainData, { onBadLine: 'skip' })) texts.push(record.document.text);
  const { causal, encoder } = trainTokenizers(texts, vocabSize, { causalMaxLength: 256, encoderMaxLength: 256 });
  // encoder first: the causal directory is the marker that both are complete.
  saveTokenizer(encoder, join(dir, 'encoder'));
  saveTokenizer(causal, join(dir, 'causal'));
  return `${causal.vocabSize} tokens`;
}

/**
 * The demo's architectures: the presets' (GPT-2, d 256, 4 layers, context
 * 256; RoBERTa, d 256) without dropout, which only slows a run of a few
 * hundred steps, and an encoder of 2 layers: its mean-pooled embeddings find
 * a document's domain after a minute of training, and embedding the index
 * costs half of 4 layers'.
 */
const DEMO_ARCHITECTURES: Record<'tiny-gpt' | 'tiny-roberta', RawConfig> = {
  'tiny-gpt': { ...PRESETS['tiny-gpt']!.config, embd_pdrop: 0, attn_pdrop: 0, resid_pdrop: 0 },
  'tiny-roberta': { ...PRESETS['tiny-roberta']!.config, num_hidden_layers: 2, hidden_dropout_prob: 0, attention_probs_dropout_prob: 0 },
};

/** The demo's architecture with its tokenizer's vocabulary and special ids. */
export function demoModelConfig(preset: 'tiny-gpt' | 'tiny-roberta', tokenizerDir: string): RawConfig {
  const tokenizer = loadTokenizer(tokenizerDir);
  const config: RawConfig = { ...DEMO_ARCHITECTURES[preset], vocab_size: tokenizer.vocabSize };
  if (preset === 'tiny-gpt') return { ...config, bos_token_id: tokenizer.eosTokenId, eos_token_id: tokenizer.eosTokenId };
  return { ...config, pad_token_id: tokenizer.padTokenId, bos_token_id: tokenizer.bosTokenId, eos_token_id: tokenizer.eosTokenId };
}

export interface TrainedModel {
  checkpoint: string;
  valLoss: number;
  steps: number;
  seconds: number;
  stopReason: StopReason;
  target?: number;
}

export interface ModelStageOptions {
  preset: 'tiny-gpt' | 'tiny-roberta';
  tokenizerDir: string;
  trainData: string;
  valData: string;
  out: string;
  maxSteps: number;
  batchSize: number;
  seqLen: number;
  lr: number;
  /** Stop at this validation loss (nats/token), if given... */
  target?: number;
  /** ...or after this many seconds. */
  seconds: number;
  evalEvery: number;
  valBatches: number;
}

/**
 * Stages 3 and 4: trains a tiny model until a validation-loss target (when
 * given), its time cap or its step budget; done.json marks a finished run
 * (an interrupted one resumes from its newest checkpoint).
 */
export async function modelStage(o: ModelStageOptions): Promise<TrainedModel & { reused: boolean }> {
  const marker = join(o.out, 'done.json');
  if (existsSync(marker)) return { ...(JSON.parse(readFileSync(marker, 'utf8')) as TrainedModel), reused: true };
  const { train } = await import('../train/trainer.js');
  mkdirSync(o.out, { recursive: true });
  const configPath = join(o.out, 'demo-config.json');
  writeFileSync(configPath, JSON.stringify(demoModelConfig(o.preset, o.tokenizerDir)));
  manualSeed(0); // initialisation
  const line = new ProgressLine(`  ${o.preset}`, { unit: 'steps', total: o.maxSteps });
  const result = await train({
    config: configPath, tokenizer: o.tokenizerDir, objective: o.preset === 'tiny-gpt' ? 'causal' : 'mlm',
    data: [o.trainData], val: o.valData, out: o.out, maxSteps: o.maxSteps, batchSize: o.batchSize, seqLen: o.seqLen, lr: o.lr, warmup: 20,
    schedule: 'cosine', weightDecay: 0.01, timeLimit: o.seconds, targetValLoss: o.target, evalEvery: o.evalEvery, valBatches: o.valBatches, saveEvery: o.evalEvery, seed: 0,
    // The finish line below says why training stopped; the trainer's own stop messages would repeat it.
    progress: (text) => void (/^train: (time limit|validation loss)/.test(text) || line.log(`  ${text}`)),
    onStep: (s) => line.update(s.step, `loss ${s.loss.toFixed(3)}${s.valLoss === null ? '' : `, val ${s.valLoss.toFixed(3)}${o.target === undefined ? '' : ` (target ${o.target.toFixed(3)})`}`}, ${s.tokensPerSecond.toFixed(0)} tok/s`),
  });
  line.finish(`${result.steps} steps, validation loss ${result.finalValLoss?.toFixed(3)} (${result.stopReason === 'target' ? 'target reached' : result.stopReason === 'time-limit' ? `time cap of ${o.seconds} s` : 'step budget'})`);
  const trained: TrainedModel = { checkpoint: result.checkpoint, valLoss: result.finalValLoss ?? NaN, steps: result.steps, seconds: result.seconds, stopReason: result.stopReason, target: o.target };
  writeFileSync(marker, JSON.stringify(trained));
  return { ...trained, reused: false };
}

/** Stage 5: the Flat index of the training split's mean-pooled embeddings. */
export async function indexStage(trainData: string, embedderDir: string, indexDir: string, documents: number): Promise<string> {
  const indexPath = join(indexDir, `${trainData.split('/').pop()}.index`);
  if (existsSync(indexPath)) return indexPath;
  const { buildIndex } = await import('../index/index.js');
  const encoder = loadEncoder(embedderDir);
  const line = new ProgressLine('  index', { unit: 'documents', total: documents });
  try {
    await buildIndex({
      data: trainData, embedder: { model: encoder, tokenizer: loadTokenizer(embedderDir), maxLength: 128 }, embedderDir, out: indexDir, batchSize: 32,
      progress: (text) => line.log(`  ${text}`),
      onBatch: (embedded) => line.update(embedded),
    });
  } finally {
    encoder.dispose();
  }
  line.finish(`${documents} documents embedded`);
  return indexPath;
}

/** Domains of the training split's documents, by line (= index id). */
export async function documentTasks(data: string): Promise<string[]> {
  const tasks: string[] = [];
  for await (const record of readDocuments(data, { onBadLine: 'skip' })) tasks[record.id] = taskName(record.document.meta?.pile_set_name);
  return tasks;
}

/** Stage 6 (after the servers start): retrieval quality and leakage, on the test documents the evaluation scores. */
export async function retrievalGateStage(
  retriever: Retriever,
  testData: string,
  trainTasks: readonly string[],
  k: number,
  docsPerTask: number,
): Promise<NonNullable<QualityGates['retrieval']>> {
  const { isDuplicate } = await import('../eval/duplicates.js');
  const { retrievalGate } = await import('../eval/quality-gates.js');
  // The evaluation's own selection, so the gates measure the documents it scores.
  const documents = await evaluatedDocuments(testData, docsPerTask);
  const queries: RetrievalQuery[] = [];
  for (const doc of documents) {
    const { neighbors } = await retriever.retrieve(doc.text, k);
    queries.push({ task: doc.task, neighborTasks: neighbors.map((n) => trainTasks[n.id] ?? '?'), duplicates: neighbors.filter((n) => isDuplicate(n, doc.text)).length });
  }
  const shares = new Map<string, number>();
  for (const t of trainTasks) shares.set(t, (shares.get(t) ?? 0) + 1 / trainTasks.length);
  return retrievalGate(queries, shares);
}

/** The test documents the evaluation scores: its own selection (its default seed), in its order (domains sorted by name). */
async function evaluatedDocuments(testData: string, docsPerTask: number) {
  const { selectDocuments } = await import('../eval/documents.js');
  return [...(await selectDocuments(testData, { tasks: 'pile_all', valPortion: 1, seed: fixedDefault('seed'), rank: 0, worldSize: 1, limit: docsPerTask })).values()].flat();
}

export interface ExampleStageOptions {
  modelDir: string;
  retriever: Retriever;
  data: string;
  /** Where the example is kept: the results it illustrates (a new learning rate or k makes a new one). */
  resultsDir: string;
  neighbors: number;
  learningRate: number;
  docsPerTask: number;
  maxNewTokens: number;
}

/**
 * The end of stage 7: the first document the evaluation scored (the first
 * domain by name, its first selected document), its first sentence continued
 * before and after TTT-NN on its neighbours, by the code of `tttnn generate`.
 * A few seconds; kept as generation-example.json and reused by a rerun.
 */
export async function exampleStage(o: ExampleStageOptions): Promise<{ example: GenerationExample; reused: boolean }> {
  const { generationExample, readGenerationExample, writeGenerationExample } = await import('../eval/generation-example.js');
  const stored = readGenerationExample(o.resultsDir);
  if (stored) return { example: stored, reused: true };
  const [document] = await evaluatedDocuments(o.data, o.docsPerTask);
  if (!document) throw new Error(`${o.data}: no test document to continue`);
  const lm = loadCausalLM(o.modelDir);
  try {
    const example = await generationExample(lm, loadTokenizer(o.modelDir), o.retriever, document, { neighbors: o.neighbors, learningRate: o.learningRate, maxNewTokens: o.maxNewTokens });
    writeGenerationExample(o.resultsDir, example);
    return { example, reused: false };
  } finally {
    lm.dispose();
  }
}

export interface EvaluationStageOptions {
  modelDir: string;
  retriever: Retriever;
  data: string;
  resultsDir: string;
  neighbors: number;
  learningRate: number;
  docsPerTask: number;
  methods: readonly Method[];
}

/** Stage 7: every method over the same documents (results are per document, so a rerun resumes). */
export async function evaluationStage(o: EvaluationStageOptions): Promise<void> {
  const { runEvaluation } = await import('../eval/runner.js');
  for (const method of o.methods) {
    const lm = loadCausalLM(o.modelDir);
    const line = new ProgressLine(`  ${method}`, { unit: 'documents' });
    try {
      // The original's protocol (src/eval/settings.ts) except two values: every
      // method gets the same number of neighbours, and no distance threshold,
      // since the tiny encoder's distances are not in the units of the
      // original's thresholds (4.0 and 2.3 were chosen for RoBERTa-large on the Pile).
      const r = await runEvaluation({
        method, model: lm, tokenizer: loadTokenizer(o.modelDir), retriever: o.retriever, data: o.data, tasks: 'pile_all', resultsDir: o.resultsDir,
        numNeighbors: o.neighbors, learningRate: o.learningRate, valPortion: 1, docsPerTask: o.docsPerTask, distanceThreshold: Infinity,
        progress: (text) => line.log(`  ${text}`),
        onDocument: (done, total, detail) => line.update(done, detail, total),
      });
      line.finish(`${r.evaluated} documents evaluated, ${r.skipped} reused`);
    } finally {
      lm.dispose();
    }
  }
}
