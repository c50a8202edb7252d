// Benchmark: what LoRA costs in quality. TTT-NN with every weight trained
// (the original) vs with a LoRA adapter on the frozen base (--trainable lora,
// PEFT's defaults: r 8, alpha 8, c_attn for GPT-2), on the demo's model, index
// and documents (run `npm run demo` first): pile_all bits per byte before and
// after the k nearest neighbours, and each LoRA run's relative change against
// full fine-tuning's with a paired bootstrap interval (the same documents,
// resampled together; report/verdict.ts pairedComparison).
//
// Full fine-tuning uses the demo's learning rate (3e-4); LoRA is run at the
// same rate and at each of BENCH_LORA_LRS (default also 1e-3 and 1e-2: PEFT users
// typically give the adapter a higher rate than full fine-tuning).
//
//   npm run bench:lora-quality
//
// Settings (environment): BENCH_RUN (artifacts/run-4mb-2000b-v1024), BENCH_CORPUS
// (artifacts/corpus-4mb-2000b), BENCH_NEIGHBORS (3), BENCH_DOCS_PER_TASK (3),
// BENCH_LORA_LRS (3e-4,1e-3,1e-2), BENCH_OUT (<run>/bench-lora-quality: results are
// reused on a rerun).
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { manualSeed } from '../src/engine/index.js';
import { FleetRetriever } from '../src/eval/retriever.js';
import { runEvaluation } from '../src/eval/runner.js';
import { loadCausalLM, loadEncoder } from '../src/models/index.js';
import { readToken, writeNewToken } from '../src/retrieval/auth.js';
import { RetrievalClient } from '../src/retrieval/client.js';
import { loadResults, pileAllBits } from '../src/report/aggregate.js';
import { readWeights } from '../src/report/report.js';
import { pairedComparison } from '../src/report/verdict.js';
import type { DocumentResult } from '../src/eval/results.js';
import { loadTokenizer } from '../src/tokenizers/index.js';
import { startFleetProcess } from '../test/helpers/fleet.js';
import { formatTable, printEngineHeader } from './helpers.js';

const env = (name: string, fallback: string): string => process.env[name] ?? fallback;
const RUN = resolve(env('BENCH_RUN', 'artifacts/run-4mb-2000b-v1024'));
const CORPUS = resolve(env('BENCH_CORPUS', 'artifacts/corpus-4mb-2000b'));
const OUT = resolve(env('BENCH_OUT', join(RUN, 'bench-lora-quality')));
const NEIGHBORS = Number(env('BENCH_NEIGHBORS', '3'));
const DOCS = Number(env('BENCH_DOCS_PER_TASK', '3'));
const FULL_LEARNING_RATE = 3e-4; // the demo's
const LORA_LEARNING_RATES = env('BENCH_LORA_LRS', '3e-4,1e-3,1e-2').split(',').map(Number);
const LAST = Number.MAX_SAFE_INTEGER;

/** The checkpoint a finished demo stage recorded (models/<name>/done.json). */
function demoCheckpoint(name: string): string {
  const marker = join(RUN, 'models', name, 'done.json');
  if (!existsSync(marker)) throw new Error(`${marker}: no finished ${name}; run \`npm run demo\` first (or set BENCH_RUN)`);
  return (JSON.parse(readFileSync(marker, 'utf8')) as { checkpoint: string }).checkpoint;
}

interface Configuration {
  name: string;
  trainable: 'full' | 'lora';
  learningRate: number;
}

const configurations: Configuration[] = [{ name: `full, lr ${FULL_LEARNING_RATE}`, trainable: 'full', learningRate: FULL_LEARNING_RATE }, ...LORA_LEARNING_RATES.map((lr) => ({ name: `LoRA r 8, lr ${lr}`, trainable: 'lora' as const, learningRate: lr }))];
const resultsOf = (c: Configuration): string => join(OUT, `results-k${NEIGHBORS}-d${DOCS}`, `${c.trainable}-lr${c.learningRate}`);

printEngineHeader();
console.log(`LoRA vs full fine-tuning: TTT-NN on the demo's artifacts (${RUN}), ${NEIGHBORS} neighbours, ${DOCS} documents per task`);
const lmDir = demoCheckpoint('tiny-gpt');
const encoderDir = demoCheckpoint('tiny-roberta');
const encoder = loadEncoder(encoderDir);
const embedder = { model: encoder, tokenizer: loadTokenizer(encoderDir), maxLength: 128 }; // the demo's index and queries
mkdirSync(OUT, { recursive: true });
const tokenFile = join(OUT, 'token');
writeNewToken(tokenFile);
rmSync(join(OUT, 'addresses'), { force: true }); // only this run's servers register
const fleet = await startFleetProcess({ data: join(CORPUS, 'train', '00.jsonl'), index: join(RUN, 'index', 'tiny-roberta', '00.jsonl.index'), slices: 2, replicas: 1, addresses: join(OUT, 'addresses'), tokenFile });
try {
  const client = await RetrievalClient.connect({ addresses: fleet.addresses, token: readToken(tokenFile) });
  const retriever = new FleetRetriever(client, embedder);
  for (const c of configurations) {
    const model = loadCausalLM(lmDir);
    manualSeed(0);
    try {
      const started = performance.now();
      const r = await runEvaluation({
        method: 'ttt', model, tokenizer: loadTokenizer(lmDir), retriever, data: join(CORPUS, 'test', '00.jsonl'), tasks: 'pile_all', resultsDir: resultsOf(c),
        numNeighbors: NEIGHBORS, learningRate: c.learningRate, trainable: c.trainable, valPortion: 1, docsPerTask: DOCS, distanceThreshold: Infinity, progress: () => undefined,
      });
      console.log(`  ${c.name}: ${r.evaluated} documents (${r.skipped} reused) in ${((performance.now() - started) / 1000).toFixed(0)} s`);
    } finally {
      model.dispose();
    }
  }
} finally {
  await fleet.stop();
  encoder.dispose();
}

const weights = readWeights(join(CORPUS, 'manifest.json'));
const byTask = (c: Configuration): Map<string, DocumentResult[]> => {
  const methods = [...loadResults(resultsOf(c)).byMethod.values()];
  if (methods.length !== 1) throw new Error(`${resultsOf(c)}: expected the results of one method, found ${methods.length}`);
  return methods[0]!;
};
const full = byTask(configurations[0]!);
const pct = (x: number): string => `${(100 * x).toFixed(2)} %`;
const rows = configurations.map((c) => {
  const docs = byTask(c);
  const all = [...docs.values()].flat();
  // Training + evaluation seconds per neighbour, as the results record them (the original's cost).
  const perNeighbour = all.reduce((sum, d) => sum + (d.train_seconds ?? []).reduce((a, x) => a + x, 0) + (d.eval_seconds ?? []).reduce((a, x) => a + x, 0), 0) / all.reduce((n, d) => n + (d.train_seconds?.length ?? 0), 0);
  const before = pileAllBits(docs, weights, () => 0);
  const after = pileAllBits(docs, weights, () => LAST);
  const p = c.trainable === 'full' ? undefined : pairedComparison(docs, full, weights, () => LAST, () => LAST);
  const interval = p ? `${pct(p.difference.value)} [${pct(p.difference.low)}, ${pct(p.difference.high)}]` : '-';
  return [c.name, String(all.length), before, after, pct(after / before - 1), interval, perNeighbour.toFixed(3)];
});
console.log(formatTable(['configuration', 'documents', 'pile_all bpb before', `after ${NEIGHBORS} neighbours`, 'change', 'change - full\'s [95 % paired]', 's per neighbour'], rows));
console.log('bits per byte (lower is better); a positive difference: LoRA lowers bits per byte less than full fine-tuning');
