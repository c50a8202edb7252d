// Benchmark: which neighbours TTT-NN should train on — the k nearest (the
// original), SIFT, or k drawn at random from the same candidates — on the
// demo's artifacts (run `npm run demo` first), at equal neighbours and at
// equal seconds, with paired bootstrap intervals; optionally on the training
// data with near-duplicates injected, where the k nearest are redundant.
//
//   npm run bench:selection                         (the embedded default)
//   BENCH_DUPLICATES=4 npm run bench:selection      (+4 near-copies of every 5th training document)
//
// Settings (environment): BENCH_RUN (artifacts/run-10mb-2000b-v1024), BENCH_CORPUS
// (artifacts/corpus-10mb-2000b), BENCH_NEIGHBORS (5), BENCH_CANDIDATES (50),
// BENCH_DOCS_PER_TASK (2), BENCH_LAMBDA (0.01), BENCH_BUDGET (seconds per
// document for the equal-seconds runs; default: the k nearest's mean seconds
// to reach half its neighbours). The cost ratio printed last is SIFT's
// (retrieval of K candidates + selection) over the k nearest's retrieval,
// measured in this run.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { manualSeed } from '../src/engine/index.js';
import { FleetRetriever } from '../src/eval/retriever.js';
import { runEvaluation } from '../src/eval/runner.js';
import type { Selection } from '../src/eval/selection.js';
import { buildIndex } from '../src/index/index.js';
import { loadCausalLM, loadEncoder } from '../src/models/index.js';
import { readToken, writeNewToken } from '../src/retrieval/auth.js';
import { RetrievalClient } from '../src/retrieval/client.js';
import { loadResults } from '../src/report/aggregate.js';
import { writeReport } from '../src/report/report.js';
import { secondsCurve } from '../src/report/selection-cost.js';
import { paretoTable, selectionTable, toText } from '../src/report/tables.js';
import { compareSelections, selectionVerdictTable } from '../src/report/verdict.js';
import { loadTokenizer } from '../src/tokenizers/index.js';
import { startFleetProcess } from '../test/helpers/fleet.js';
import { printEngineHeader } from './helpers.js';

const env = (name: string, fallback: string): string => process.env[name] ?? fallback;
const RUN = resolve(env('BENCH_RUN', 'artifacts/run-10mb-2000b-v1024'));
const CORPUS = resolve(env('BENCH_CORPUS', 'artifacts/corpus-10mb-2000b'));
const NEIGHBORS = Number(env('BENCH_NEIGHBORS', '5'));
const CANDIDATES = Number(env('BENCH_CANDIDATES', '50'));
const DOCS = Number(env('BENCH_DOCS_PER_TASK', '2'));
const LAMBDA = Number(env('BENCH_LAMBDA', '0.01'));
const DUPLICATES = Number(env('BENCH_DUPLICATES', '0'));
const LEARNING_RATE = 3e-4; // the demo's

/** The checkpoint a finished demo stage recorded (models/<name>/done.json). */
function demoCheckpoint(name: string): string {
  const marker = join(RUN, 'models', name, 'done.json');
  if (!existsSync(marker)) throw new Error(`${marker}: no finished ${name}; run \`npm run demo\` first (or set BENCH_RUN)`);
  return (JSON.parse(readFileSync(marker, 'utf8')) as { checkpoint: string }).checkpoint;
}

/**
 * The training data with `copies` near-duplicates of every 5th document: the
 * same text with one word dropped (a different word in each copy), as web
 * crawls hold the same page with small edits. Written once.
 */
function withNearDuplicates(data: string, out: string, copies: number): string {
  if (existsSync(out)) return out;
  const lines = readFileSync(data, 'utf8').split('\n').filter(Boolean);
  const extra: string[] = [];
  lines.forEach((line, i) => {
    if (i % 5 !== 0) return;
    const doc = JSON.parse(line) as { text: string; meta: unknown };
    const words = doc.text.split(' ');
    for (let c = 0; c < copies; c++) {
      const drop = Math.floor(((c + 1) * words.length) / (copies + 1));
      extra.push(JSON.stringify({ text: words.filter((_, w) => w !== drop).join(' '), meta: doc.meta }));
    }
  });
  mkdirSync(resolve(out, '..'), { recursive: true });
  writeFileSync(out, [...lines, ...extra].join('\n') + '\n');
  return out;
}

printEngineHeader();
console.log('selection: the k nearest vs SIFT vs random candidates, TTT-NN on the demo\'s artifacts');
const lmDir = demoCheckpoint('tiny-gpt');
const encoderDir = demoCheckpoint('tiny-roberta');
const encoder = loadEncoder(encoderDir);
const embedder = { model: encoder, tokenizer: loadTokenizer(encoderDir), maxLength: 128 }; // the demo's index and queries
const baseData = join(CORPUS, 'train', '00.jsonl');
const tag = DUPLICATES > 0 ? `dup${DUPLICATES}` : 'plain';
const work = join(RUN, 'bench-selection', tag);
let data = baseData;
let indexPath = join(RUN, 'index', 'tiny-roberta', '00.jsonl.index');
if (DUPLICATES > 0) {
  data = withNearDuplicates(baseData, join(work, 'train.jsonl'), DUPLICATES);
  indexPath = join(work, 'train.jsonl.index');
  if (!existsSync(indexPath)) await buildIndex({ data, embedder, embedderDir: encoderDir, out: work, batchSize: 32, progress: (l) => console.log(l) });
}
const tokenFile = join(work, 'token');
mkdirSync(work, { recursive: true });
writeNewToken(tokenFile);
rmSync(join(work, 'addresses'), { force: true }); // only this run's servers register
const fleet = await startFleetProcess({ data, index: indexPath, slices: 2, replicas: 1, addresses: join(work, 'addresses'), tokenFile });
const results = join(work, `results-k${NEIGHBORS}-K${CANDIDATES}-d${DOCS}`);
try {
  const client = await RetrievalClient.connect({ addresses: fleet.addresses, token: readToken(tokenFile) });
  const retriever = new FleetRetriever(client, embedder);
  const evaluate = async (selection: Selection, budgetSeconds?: number): Promise<void> => {
    const model = loadCausalLM(lmDir);
    manualSeed(0);
    try {
      const started = performance.now();
      const r = await runEvaluation({
        method: 'ttt', model, tokenizer: loadTokenizer(lmDir), retriever, data: join(CORPUS, 'test', '00.jsonl'), tasks: 'pile_all', resultsDir: results,
        numNeighbors: NEIGHBORS, learningRate: LEARNING_RATE, valPortion: 1, docsPerTask: DOCS, distanceThreshold: Infinity,
        selection, candidates: CANDIDATES, siftLambda: LAMBDA, budgetSeconds, progress: () => undefined,
      });
      console.log(`  ${selection}${budgetSeconds ? ` @${budgetSeconds.toFixed(2)} s` : ''}: ${r.evaluated} documents (${r.skipped} reused) in ${((performance.now() - started) / 1000).toFixed(0)} s`);
    } finally {
      model.dispose();
    }
  };
  console.log(`\nequal neighbours (${NEIGHBORS}; SIFT and random among ${CANDIDATES} candidates):`);
  for (const selection of ['knn', 'sift', 'random'] as const) await evaluate(selection);
  // Equal seconds: each selection gets the k nearest's mean seconds to reach half its neighbours.
  const knnDocs = [...(loadResults(results).byMethod.get('ttt')?.values() ?? [])].flat();
  const budget = Number(process.env['BENCH_BUDGET'] ?? secondsCurve(knnDocs, NEIGHBORS + 1)[Math.ceil(NEIGHBORS / 2)]);
  const rounded = Number(budget.toFixed(2));
  console.log(`\nequal seconds (a budget of ${rounded} s per document):`);
  for (const selection of ['knn', 'sift', 'random'] as const) await evaluate(selection, rounded);
} finally {
  await fleet.stop();
  encoder.dispose();
}

const report = await writeReport({ resultsDir: results, out: join(work, 'report'), weights: join(CORPUS, 'manifest.json') });
const tables = [selectionTable(report.summary), selectionVerdictTable(compareSelections(loadResults(results), report.summary)), paretoTable(report.summary)];
for (const table of tables) if (table) console.log(`\n${toText(table)}`);
const by = new Map(report.summary.methods.map((m) => [m.label, m]));
const knnRetrieval = by.get('ttt')?.tasks.flatMap((t) => t.retrievalSeconds) ?? [];
const siftRetrieval = by.get('ttt+sift')?.tasks.flatMap((t) => t.retrievalSeconds) ?? [];
const mean = (v: number[]): number => v.reduce((s, x) => s + x, 0) / Math.max(1, v.length);
const siftSelection = by.get('ttt+sift')?.selection.selectionSeconds ?? 0;
console.log(`cost of choosing (mean per document): k nearest ${mean(knnRetrieval).toFixed(3)} s retrieval; SIFT ${mean(siftRetrieval).toFixed(3)} s retrieval of ${CANDIDATES} + ${siftSelection.toFixed(4)} s selection: ${((mean(siftRetrieval) + siftSelection) / mean(knnRetrieval)).toFixed(2)}x`);
if (DUPLICATES > 0) {
  // Pairs of picks from one injection group (a document and its near-copies), per document.
  const original = readFileSync(baseData, 'utf8').split('\n').filter(Boolean).length;
  const group = (id: number): number | undefined => (id >= original ? Math.floor((id - original) / DUPLICATES) * 5 : id % 5 === 0 ? id : undefined);
  for (const [label, byTask] of loadResults(results).byMethod) {
    const docs = [...byTask.values()].flat();
    let near = 0;
    let repeated = 0;
    for (const d of docs) {
      const ids = d.neighbor_ids;
      for (let a = 0; a < ids.length; a++) {
        for (let b = a + 1; b < ids.length; b++) {
          if (ids[a] === ids[b]) repeated++;
          else if (group(ids[a]!) !== undefined && group(ids[a]!) === group(ids[b]!)) near++;
        }
      }
    }
    console.log(`${label}: ${(near / docs.length).toFixed(2)} near-duplicate pairs and ${(repeated / docs.length).toFixed(2)} repeated picks per document`);
  }
}
console.log(`report: ${join(work, 'report', 'report.html')}`);
