// `tttnn demo` (npm run demo): the whole TTT-NN pipeline on this machine, in
// about a quarter of an hour on 2 cores from a fresh clone.
//   1. corpus: 18 domains from npm and Debian packages
//   2. tokenizer: a small byte-level BPE (1024 tokens by default) trained on it
//   3. language model: the tiny GPT, trained to a validation-loss target (time-capped)
//   4. encoder: the tiny RoBERTa (masked LM), for a time cap (its gate is retrieval quality)
//   5. index: the training split's embeddings in a FAISS Flat index
//   6. shard servers: 2 slices x 2 replicas on 127.0.0.1; retrieval quality gates
//   7. evaluation: TTT-NN, TTT on random documents (the control), in-context,
//      interpolation (and its alpha chosen on validation documents), dynamic evaluation;
//      then one example: the first scored test document's first sentence,
//      continued before and after TTT-NN on its neighbours (as `tttnn generate`)
//   8. report: quality gates first, then the tables, whether TTT-NN won, and the example
// Every stage keeps its output under --artifacts and is reused by a rerun;
// Ctrl-C stops within seconds at any stage (exit 130) and a rerun resumes.
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { type Command, Option } from 'commander';
import type { Precision } from '../engine/precision.js';
import { METHOD_REGISTRY, METHODS } from '../eval/methods/index.js';
import type { QualityGates } from '../eval/quality-gates.js';
import type { UnigramBaseline } from '../train/unigram.js';
import type * as DemoStageFunctions from './demo-stages.js';
import { integerArg, numberArg } from './parse.js';
import { applyPrecision, precisionOption } from './precision-option.js';
import { formatDuration } from './progress-line.js';
import { connectFleet } from './fleet-options.js';

interface DemoOptions {
  artifacts: string;
  size: number;
  maxDocumentBytes: number;
  vocabSize: number;
  neighbors: number;
  docsPerTask: number;
  model?: string;
  embedder?: string;
  gptSteps: number;
  robertaSteps: number;
  gptSeconds: number;
  robertaSeconds: number;
  targetRatio: number;
  learningRate: number;
  precision: Precision;
}

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('run the whole pipeline on the embedded default: corpus, tokenizer, tiny GPT and encoder, index, shard servers, quality gates, TTT-NN and baselines, report')
    .addOption(new Option('--artifacts <dir>', 'where every stage keeps its output (reused by the next run)').default('artifacts'))
    .addOption(new Option('--size <mb>', 'corpus size in MB').default(10).argParser(numberArg('--size')))
    .addOption(new Option('--max-document-bytes <n>', 'corpus documents are cut to at most this many bytes (short documents keep a training step per neighbour short)').default(2000).argParser(integerArg('--max-document-bytes')))
    .addOption(new Option('--vocab-size <n>', 'tokens of the byte-level BPE trained on the corpus').default(1024).argParser(integerArg('--vocab-size')))
    .addOption(new Option('--neighbors <k>', 'neighbours per test document (every method)').default(5).argParser(integerArg('--neighbors')))
    .addOption(new Option('--docs-per-task <n>', 'test documents per domain').default(2).argParser(integerArg('--docs-per-task')))
    .option('--model <dir>', 'use this causal LM checkpoint instead of training the tiny GPT')
    .option('--embedder <dir>', 'use this encoder checkpoint instead of training the tiny RoBERTa')
    .addOption(new Option('--gpt-steps <n>', 'step budget of the tiny GPT (batch 16 x 256 tokens; its cosine schedule ends there)').default(200).argParser(integerArg('--gpt-steps')))
    .addOption(new Option('--roberta-steps <n>', 'step budget of the tiny RoBERTa (batch 32 x 128 tokens; its cosine schedule ends there)').default(100).argParser(integerArg('--roberta-steps')))
    .addOption(new Option('--gpt-seconds <s>', 'time cap of the tiny GPT\'s training').default(200).argParser(numberArg('--gpt-seconds')))
    .addOption(new Option('--roberta-seconds <s>', 'time cap of the tiny RoBERTa\'s training').default(50).argParser(numberArg('--roberta-seconds')))
    .addOption(new Option('--target-ratio <r>', 'train the tiny GPT until its validation loss is at most this share of the unigram baseline\'s cross-entropy (or its time cap)').default(0.9).argParser(numberArg('--target-ratio')))
    .addOption(new Option('--learning-rate <lr>', 'test-time learning rate').default(3e-4).argParser(numberArg('--learning-rate')))
    .addOption(precisionOption('auto'))
    .action(async (o: DemoOptions) => runDemo(o));
}

/** Tokens of the worked example's continuations: a few seconds of the tiny GPT, enough to see what the training changed. */
const EXAMPLE_NEW_TOKENS = 40;

/** A stage's banner, and its wall time when it ends. */
class Stages {
  private readonly started = performance.now();
  readonly times: [string, number][] = [];
  private current: [string, number] | undefined;

  begin(n: number, title: string): void {
    this.end();
    process.stdout.write(`\n== ${n}/8 ${title}\n`);
    this.current = [title.split(':')[0]!.split(' (')[0]!, performance.now()];
  }

  end(): void {
    if (!this.current) return;
    const seconds = (performance.now() - this.current[1]) / 1000;
    this.times.push([this.current[0], seconds]);
    console.log(`   (${this.current[0]}: ${formatDuration(seconds)})`);
    this.current = undefined;
  }

  get total(): number {
    return (performance.now() - this.started) / 1000;
  }
}

// The stage functions load lazily (import() in runDemo) so that `tttnn --help` stays fast; this is only their type.
type DemoStages = typeof DemoStageFunctions;

/** Where a demo run keeps what it makes: the corpus, and the run (tokenizer, models, index, results) for one corpus and one vocabulary. */
interface DemoPaths {
  corpus: string;
  run: string;
  trainData: string;
  valData: string;
  testData: string;
}

function demoPaths(o: DemoOptions): DemoPaths {
  const name = `${o.size}mb-${o.maxDocumentBytes}b`;
  const corpus = join(resolve(o.artifacts), `corpus-${name}`);
  return {
    corpus,
    run: join(resolve(o.artifacts), `run-${name}-v${o.vocabSize}`),
    trainData: join(corpus, 'train', '00.jsonl'),
    valData: join(corpus, 'val', '00.jsonl'),
    testData: join(corpus, 'test', '00.jsonl'),
  };
}

/** The child processes a Ctrl-C must stop: the current stage's, and the shard-server fleet. */
interface DemoChildren {
  child?: ChildProcess;
  fleet?: ChildProcess;
}

/**
 * Ctrl-C / SIGTERM: stop the children, exit 130. Long loops yield between
 * steps, so this runs within a training step, a batch or a document.
 * Returns the function that removes the handlers.
 */
function stopOnSignals(current: DemoChildren): () => void {
  const stopChildren = (): void => {
    for (const c of [current.child, current.fleet]) if (c && c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
  };
  const onSignal = (signal: string): void => {
    stopChildren();
    process.stderr.write(`\n${signal}: demo stopped; run the same command again to resume (finished stages and documents are kept)\n`);
    process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', stopChildren);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('exit', stopChildren);
  };
}

async function runDemo(o: DemoOptions): Promise<void> {
  const stages = new Stages();
  const precision = await applyPrecision(o.precision, 'demo');
  const { resolveModelDirectory } = await import('./model-directory.js');
  if (o.model !== undefined) o.model = resolveModelDirectory(o.model, '--model', 'model');
  if (o.embedder !== undefined) o.embedder = resolveModelDirectory(o.embedder, '--embedder', 'model');
  const paths = demoPaths(o);
  mkdirSync(paths.run, { recursive: true });
  const current: DemoChildren = {};
  const removeHandlers = stopOnSignals(current);
  try {
    const s = await import('./demo-stages.js');
    stages.begin(1, `corpus (${o.size} MB, documents of at most ${o.maxDocumentBytes} bytes) -> ${paths.corpus}`);
    console.log(`corpus ${await s.corpusStage(paths.corpus, o.size, o.maxDocumentBytes, current)}`);

    const gates: QualityGates = {};
    const { model, embedder } = await trainModels(o, paths, stages, s, gates);

    stages.begin(5, 'index (mean-pooled embeddings, FAISS Flat)');
    const trainTasks = await s.documentTasks(paths.trainData);
    const indexDir = join(paths.run, 'index', o.embedder ? embedder.replace(/[^A-Za-z0-9]+/g, '_').slice(-60) : 'tiny-roberta');
    const indexPath = await s.indexStage(paths.trainData, embedder, indexDir, trainTasks.length);
    console.log(`index ${indexPath}`);

    stages.begin(6, 'shard servers (2 slices x 2 replicas on 127.0.0.1) and retrieval quality');
    const tokenFile = join(paths.run, 'token');
    const addresses = join(paths.run, 'addresses.txt');
    const fleet = await startDemoFleet(s, paths.trainData, indexPath, tokenFile, addresses, current);
    try {
      await evaluateAndReport(o, precision, paths, { model, embedder, tokenFile, addresses, trainTasks }, stages, s, gates);
    } finally {
      current.fleet = undefined;
      if (fleet.exitCode === null && fleet.signalCode === null) {
        fleet.kill('SIGTERM');
        await new Promise<void>((r) => fleet.once('exit', () => r()));
      }
    }
    stages.end();
    console.log(`\nstage times: ${stages.times.map(([n, t]) => `${n} ${formatDuration(t)}`).join(', ')}; demo finished in ${formatDuration(stages.total)}`);
  } finally {
    removeHandlers();
  }
}

/**
 * Stages 2-4: the tokenizer, the unigram baseline the language model's gate
 * compares with, the tiny GPT and the tiny RoBERTa — each skipped where the
 * user gave a checkpoint (--model, --embedder).
 */
async function trainModels(o: DemoOptions, paths: DemoPaths, stages: Stages, s: DemoStages, gates: QualityGates): Promise<{ model: string; embedder: string }> {
  let model = o.model;
  let embedder = o.embedder;
  if (model && embedder) return { model, embedder };
  stages.begin(2, `tokenizer (byte-level BPE, ${o.vocabSize} tokens, trained on the corpus)`);
  const tokenizers = join(paths.run, 'tokenizer');
  console.log(`tokenizer ${await s.tokenizerStage(paths.trainData, tokenizers, o.vocabSize)} -> ${tokenizers}`);
  const gptVal = { batches: 8, batchSize: 16, seqLen: 256 };
  const unigram = await cachedUnigram(paths, tokenizers, gptVal.seqLen, gptVal.batches * gptVal.batchSize);
  console.log(`unigram baseline: ${unigram.crossEntropy.toFixed(3)} nats/token on ${unigram.valTokens} validation tokens (counts from ${unigram.trainTokens} training tokens)`);
  const target = o.targetRatio * unigram.crossEntropy;

  if (!model) {
    stages.begin(3, `language model (tiny GPT, until validation loss <= ${target.toFixed(3)} = ${o.targetRatio} x unigram, at most ${o.gptSeconds} s)`);
    const lm = await s.modelStage({
      preset: 'tiny-gpt', tokenizerDir: join(tokenizers, 'causal'), trainData: paths.trainData, valData: paths.valData, out: join(paths.run, 'models', 'tiny-gpt'), maxSteps: o.gptSteps,
      batchSize: gptVal.batchSize, seqLen: gptVal.seqLen, lr: 2e-3, target, seconds: o.gptSeconds, evalEvery: 25, valBatches: gptVal.batches,
    });
    if (lm.reused) console.log(`reusing ${lm.checkpoint}`);
    gates.languageModel = { valLoss: lm.valLoss, unigram: unigram.crossEntropy, steps: lm.steps, seconds: lm.seconds, stopReason: lm.stopReason, target };
    model = lm.checkpoint;
  }
  if (!embedder) {
    stages.begin(4, `encoder (tiny RoBERTa, masked LM, at most ${o.robertaSeconds} s)`);
    const enc = await s.modelStage({
      preset: 'tiny-roberta', tokenizerDir: join(tokenizers, 'encoder'), trainData: paths.trainData, valData: paths.valData, out: join(paths.run, 'models', 'tiny-roberta'), maxSteps: o.robertaSteps,
      batchSize: 32, seqLen: 128, lr: 1e-3, seconds: o.robertaSeconds, evalEvery: 25, valBatches: 4,
    });
    if (enc.reused) console.log(`reusing ${enc.checkpoint}`);
    else console.log(`encoder: masked-LM validation loss ${enc.valLoss.toFixed(3)} nats per masked token (its quality gate is retrieval, stage 6)`);
    embedder = enc.checkpoint;
  }
  return { model, embedder };
}

/** The unigram baseline on exactly the language model's validation targets, computed once per tokenizer. */
async function cachedUnigram(paths: DemoPaths, tokenizers: string, seqLen: number, valSequences: number): Promise<UnigramBaseline> {
  const file = join(tokenizers, `unigram-${seqLen}x${valSequences}.json`);
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as UnigramBaseline;
  const { unigramBaseline } = await import('../train/unigram.js');
  const { loadTokenizer } = await import('../tokenizers/index.js');
  const unigram = await unigramBaseline({ tokenizer: loadTokenizer(join(tokenizers, 'causal')), train: paths.trainData, trainBytes: 3e6, val: paths.valData, seqLen, valSequences });
  writeFileSync(file, JSON.stringify(unigram));
  return unigram;
}

/**
 * `tttnn serve` with 2 slices x 2 replicas on a fresh token, returned once all
 * four servers have registered (and known to `current` from its start, so a
 * Ctrl-C while they start stops them too).
 */
async function startDemoFleet(s: DemoStages, data: string, indexPath: string, tokenFile: string, addresses: string, current: DemoChildren): Promise<ChildProcess> {
  const { writeNewToken } = await import('../retrieval/auth.js');
  const { readAddresses } = await import('../retrieval/addresses.js');
  writeNewToken(tokenFile);
  rmSync(addresses, { force: true }); // only this run's servers register
  const fleet = spawn(process.execPath, [s.CLI, 'serve', '--data', data, '--index', indexPath, '--slices', '2', '--replicas', '2', '--addresses', addresses, '--token-file', tokenFile], { stdio: ['ignore', 'inherit', 'inherit'] });
  current.fleet = fleet;
  const deadline = Date.now() + 120_000;
  while (!(existsSync(addresses) && readAddresses(addresses).length >= 4)) {
    if (fleet.exitCode !== null || Date.now() > deadline) {
      if (fleet.exitCode === null) fleet.kill('SIGTERM');
      throw new Error('the shard servers did not start');
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return fleet;
}

/** Stages 6 (the retrieval gates), 7 (every method on the test documents, interpolation also on validation ones) and 8 (the report). */
async function evaluateAndReport(
  o: DemoOptions,
  precision: string,
  paths: DemoPaths,
  inputs: { model: string; embedder: string; tokenFile: string; addresses: string; trainTasks: string[] },
  stages: Stages,
  s: DemoStages,
  gates: QualityGates,
): Promise<void> {
  const { FleetRetriever } = await import('../eval/retriever.js');
  const { loadEncoder } = await import('../models/index.js');
  const { loadTokenizer } = await import('../tokenizers/index.js');
  const client = await connectFleet(inputs);
  const encoder = loadEncoder(inputs.embedder);
  const retriever = new FleetRetriever(client, { model: encoder, tokenizer: loadTokenizer(inputs.embedder), maxLength: 128 });
  gates.retrieval = await s.retrievalGateStage(retriever, paths.testData, inputs.trainTasks, o.neighbors, o.docsPerTask);
  const { checkGates, writeGates } = await import('../eval/quality-gates.js');
  console.log('quality gates:');
  for (const g of checkGates(gates)) console.log(`  ${g.passed ? 'pass' : 'FAIL'}  ${g.name}: ${g.measured} vs ${g.reference} (${g.rule})`);

  stages.begin(7, `evaluation (${o.docsPerTask} test documents per domain, ${o.neighbors} neighbours, test-time learning rate ${o.learningRate})`);
  const label = `${o.model ? 'custom' : 'tiny'}-k${o.neighbors}-d${o.docsPerTask}-lr${o.learningRate}${precision === 'bf16' ? '-bf16' : ''}`;
  const resultsDir = join(paths.run, 'results', label);
  const validationDir = join(paths.run, 'results', `${label}.validation`);
  mkdirSync(resultsDir, { recursive: true });
  writeGates(resultsDir, gates);
  const common = { modelDir: inputs.model, retriever, neighbors: o.neighbors, learningRate: o.learningRate, docsPerTask: o.docsPerTask };
  await s.evaluationStage({ ...common, data: paths.testData, resultsDir, methods: [...METHODS] });
  // Interpolation's non-oracle alpha: the best one on validation documents.
  const overAlphas = METHOD_REGISTRY.filter((m) => m.report.kind === 'alphas').map((m) => m.name);
  console.log(`  ${overAlphas.join(', ')} on validation documents (to choose its alpha without the test documents):`);
  await s.evaluationStage({ ...common, data: paths.valData, resultsDir: validationDir, methods: overAlphas });
  // The worked example, while the servers still run: one test document's first sentence continued before and after TTT-NN.
  const example = await s.exampleStage({ ...common, data: paths.testData, resultsDir, maxNewTokens: EXAMPLE_NEW_TOKENS });
  console.log(`  generation example: test document ${example.example.document.id} (${example.example.document.task}), ${example.reused ? 'reused' : `made in ${formatDuration(Object.values(example.example.seconds).reduce((a, b) => a + b, 0))}`}`);
  encoder.dispose();

  stages.begin(8, 'report');
  const { writeReport } = await import('../report/report.js');
  const reportDir = join(paths.run, 'report', basename(resultsDir));
  const report = await writeReport({ resultsDir, out: reportDir, weights: join(paths.corpus, 'manifest.json'), interpolationValidation: validationDir, explorerData: { documents: paths.testData, neighbours: paths.trainData }, warn: (line) => console.warn(`warning: ${line}`) });
  console.log(report.markdown);
  const failed = report.gates.filter((g) => !g.passed);
  console.log(`\n${failed.length === 0 ? 'All quality gates passed.' : `QUALITY GATES FAILED: ${failed.map((g) => g.name).join('; ')} — read the numbers above with that in mind.`}`);
  console.log(`Verdict: ${report.verdict}`);
  // The demo ends with what the numbers mean for the text.
  const { generationExampleMarkdown } = await import('../report/generation-example.js');
  console.log(`\n${generationExampleMarkdown(example.example)}`);
  console.log(`\nresults: ${resultsDir}\nreport:  ${join(reportDir, 'report.html')}`);
}
