// `npm run bench:index-ttt`: TTT-NN with the Flat index and with a compressed
// one converted from it, side by side on the same test documents (paired).
//
// Runs on what `npm run demo` left in artifacts/ (BENCH_ARTIFACTS): its
// corpus, its Flat index of the training split, its tiny GPT and tiny
// RoBERTa. The Flat index is converted with `tttnn index convert` (by default
// the Pile recipe's proportions scaled to the demo: PCA to d/8 dimensions,
// PQ with d/16 one-byte codes, about N/430 lists — as `PCAR128,IVF16384,PQ64np`
// is for a 7M x 1024 file of the original's; BENCH_FACTORY overrides), its
// recall measured with `tttnn index recall`, and then the same `tttnn eval
// --method ttt` runs against a shard server on each index, once per nprobe
// (BENCH_NPROBE, default 1 and a quarter of the lists). The demo's evaluation
// settings: k neighbours (BENCH_NEIGHBORS, default 5), no distance threshold,
// test-time learning rate 3e-4, BENCH_DOCS_PER_TASK (default 4) documents per
// domain.
//
// It prints, per compressed setting: how often the neighbour lists differ from
// the Flat index's (same order, same set, or how many shared), and bits per
// byte (Σ −log-likelihood / Σ bytes / ln 2 over the documents, lm-evaluation-
// harness's bits_per_byte) before TTT, after TTT-NN on the Flat index's
// neighbours and after TTT-NN on the compressed index's, with the paired
// per-document differences.
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describeEngine } from '../src/engine/index.js';
import type { DocumentResult } from '../src/eval/results.js';
import { readFlatLayout } from '../src/index/index-file-check.js';
import { bitsAt, curveLength, loadResults } from '../src/report/aggregate.js';
import { writeNewToken } from '../src/retrieval/auth.js';
import { formatTable } from './helpers.js';
import { loadLine, machineLine, startServer, stopServer, tttnnLastLine, tttnnShown } from './tttnn-cli.js';

const ARTIFACTS = resolve(process.env['BENCH_ARTIFACTS'] ?? 'artifacts');
const NEIGHBORS = Number(process.env['BENCH_NEIGHBORS'] ?? 5);
const DOCS_PER_TASK = Number(process.env['BENCH_DOCS_PER_TASK'] ?? 4);
const LEARNING_RATE = '3e-4'; // the demo's --learning-rate default (src/cli/demo.ts)

/** The demo's run directory (run-<size>-<bytes>-v<vocab>) and the corpus it was made from. */
function demoRun(): { run: string; corpus: string } {
  const runs = existsSync(ARTIFACTS) ? readdirSync(ARTIFACTS).filter((name) => name.startsWith('run-')) : [];
  const name = process.env['BENCH_RUN'] ?? (runs.length === 1 ? runs[0] : undefined);
  if (name === undefined) {
    throw new Error(`${ARTIFACTS}: ${runs.length === 0 ? 'no demo run here: run `npm run demo` first, or set BENCH_ARTIFACTS to its --artifacts' : `several demo runs (${runs.join(', ')}): set BENCH_RUN to one`}`);
  }
  return { run: join(ARTIFACTS, name), corpus: join(ARTIFACTS, name.replace(/^run-/, 'corpus-').replace(/-v\d+$/, '')) };
}

/** TTT-NN's result lines of one evaluation (the report's reader), by task and document; a bad line or a failed retrieval is an error here. */
function readResults(resultsDir: string): Map<string, DocumentResult> {
  const loaded = loadResults(resultsDir);
  const failed = loaded.failedRetrievals.get('ttt');
  if (failed) throw new Error(`${resultsDir}: retrieval failed for ${[...failed].map(([task, n]) => `${n} document(s) of ${task}`).join(', ')}`);
  if (loaded.warnings.length > 0) throw new Error(loaded.warnings.join('\n'));
  const byDocument = new Map<string, DocumentResult>();
  for (const [task, docs] of loaded.byMethod.get('ttt') ?? []) for (const r of docs) byDocument.set(`${task}/${r.doc_id}`, r);
  return byDocument;
}

/** Bits per byte over `docs` (Σ −log-likelihood / Σ bytes / ln 2) after every neighbour: a shorter curve counts at its last point, as in the report. */
const bitsAfterAll = (docs: readonly DocumentResult[]): number => bitsAt(docs, curveLength(docs) - 1);

function meanAndStandardError(values: number[]): [number, number] {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, values.length - 1);
  return [mean, Math.sqrt(variance / values.length)];
}

async function main(): Promise<void> {
  console.log(`${machineLine()}\n${describeEngine()}`);
  const { run, corpus } = demoRun();
  const indexes = join(run, 'index');
  const embedderName = readdirSync(indexes)[0]!;
  const flat = join(indexes, embedderName, '00.jsonl.index');
  const trainData = join(corpus, 'train', '00.jsonl');
  const testData = join(corpus, 'test', '00.jsonl');
  const model = join(run, 'models', 'tiny-gpt');
  const embedder = join(run, 'models', 'tiny-roberta');
  for (const path of [flat, trainData, testData, model, embedder]) if (!existsSync(path)) throw new Error(`${path} is missing: run \`npm run demo\` to the end first`);

  const { d, ntotal: n } = readFlatLayout(flat);
  const nlist = 2 ** Math.max(2, Math.round(Math.log2(n / 430)));
  const factory = process.env['BENCH_FACTORY'] ?? `PCAR${d / 8},IVF${nlist},PQ${d / 16}np`;
  const nprobes = (process.env['BENCH_NPROBE'] ?? `1,${Math.max(2, nlist / 4)}`).split(',').map(Number);
  // The Flat index's results are kept and reused by the next run with the same settings (eval resumes); a factory's are redone.
  const benchDir = join(run, 'bench-index-ttt');
  const flatResults = join(benchDir, `Flat-k${NEIGHBORS}-d${DOCS_PER_TASK}`);
  const work = join(benchDir, factory.replace(/[^A-Za-z0-9]+/g, '_'));
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  console.log(`demo run ${run}: Flat index of ${n} x ${d} vectors (${embedderName}); compressed: ${factory}, nprobe ${nprobes.join(', ')}; ${NEIGHBORS} neighbours, ${DOCS_PER_TASK} test documents per domain`);

  const converted = JSON.parse(tttnnLastLine(['index', 'convert', '--input', flat, '--factory', factory, '--out', join(work, 'compressed') + '/', '--train-sample', String(n)])) as { path: string; bytes: number; trainedBytes: number };
  const recall = JSON.parse(tttnnLastLine(['index', 'recall', '--exact', flat, '--approx', converted.path, '--queries', '1000', '--nprobe', nprobes.join(','), '--json'])) as {
    rows: { setting: string; recallAt1: number; recallAt10: number; recallAt50: number; overlapAt10: number; overlapAt50: number; msPerQuery: number }[];
  };
  console.log(`converted: ${((converted.bytes - converted.trainedBytes) / n).toFixed(1)} bytes/vector (Flat ${d * 4}); on 1,000 of its own vectors: ${recall.rows.map((r) => `${r.setting}: recall@1 ${r.recallAt1.toFixed(3)}, @10 ${r.recallAt10.toFixed(3)}, overlap@10 ${r.overlapAt10.toFixed(3)}`).join('; ')}`);

  const tokenFile = join(work, 'token');
  writeNewToken(tokenFile);
  const evaluate = async (label: string, index: string, resultsDir: string, nprobe?: number): Promise<Map<string, DocumentResult>> => {
    const addresses = join(work, `${label}.addresses`);
    const server = await startServer('serve', { data: trainData, index, tokenFile, addresses, nprobe });
    const started = performance.now();
    try {
      console.log(`\nTTT-NN with the ${label} index:`);
      await tttnnShown([
        'eval', '--method', 'ttt', '--model', model, '--embedder', embedder, '--addresses', addresses, '--token-file', tokenFile, '--data', testData, '--results-dir', resultsDir,
        '--num-neighbors', String(NEIGHBORS), '--distance-threshold', 'inf', '--learning-rate', LEARNING_RATE, '--val-portion', '1', '--docs-per-task', String(DOCS_PER_TASK),
      ]);
    } finally {
      await stopServer(server);
    }
    console.log(`  ${((performance.now() - started) / 1000).toFixed(0)} s (${loadLine()})`);
    return readResults(resultsDir);
  };

  const exact = await evaluate('Flat', flat, flatResults);
  const documents = [...exact.keys()];
  const before = bitsAt([...exact.values()], 0);
  const afterFlat = bitsAfterAll([...exact.values()]);
  const rows: string[][] = [['Flat', String(d * 4), '1', String(documents.length), '0', '1.000', before.toFixed(4), afterFlat.toFixed(4), '0', '—', '100']];
  for (const nprobe of nprobes) {
    const approx = await evaluate(`${factory} nprobe ${nprobe}`, converted.path, join(work, `nprobe-${nprobe}`), nprobe);
    let sameOrder = 0;
    let sameSet = 0;
    let shared = 0;
    const deltas: number[] = [];
    const paired: DocumentResult[] = [];
    for (const key of documents) {
      const a = exact.get(key)!;
      const b = approx.get(key);
      if (b === undefined) throw new Error(`${key}: evaluated with the Flat index but not with the compressed one`);
      // The same model scores the same text before training: a check that the pairing is right.
      if (Math.abs(a.loglikelihoods![0]! - b.loglikelihoods![0]!) > 1e-3 * Math.abs(a.loglikelihoods![0]!)) throw new Error(`${key}: the scores before training differ (${a.loglikelihoods![0]} vs ${b.loglikelihoods![0]})`);
      const inFlat = new Set(a.neighbor_ids);
      const common = b.neighbor_ids.filter((id) => inFlat.has(id)).length;
      shared += common / Math.max(1, a.neighbor_ids.length);
      if (a.neighbor_ids.join() === b.neighbor_ids.join()) sameOrder++;
      else if (common === a.neighbor_ids.length && common === b.neighbor_ids.length) sameSet++;
      deltas.push(bitsAfterAll([b]) - bitsAfterAll([a]));
      paired.push(b);
    }
    const [meanDelta, standardError] = meanAndStandardError(deltas);
    const afterApprox = bitsAfterAll(paired);
    const setting = recall.rows.find((r) => r.setting === `nprobe=${nprobe}`);
    rows.push([
      `${factory} nprobe ${nprobe}`, ((converted.bytes - converted.trainedBytes) / n).toFixed(1), setting ? setting.recallAt10.toFixed(3) : '?', String(documents.length),
      String(documents.length - sameOrder - sameSet), (shared / documents.length).toFixed(3), before.toFixed(4), afterApprox.toFixed(4), ((100 * (afterApprox - afterFlat)) / afterFlat).toFixed(2),
      `${meanDelta.toFixed(4)} ± ${standardError.toFixed(4)}`, ((100 * (before - afterApprox)) / (before - afterFlat)).toFixed(1),
    ]);
    console.log(`  neighbour lists: ${sameOrder} identical, ${sameSet} the same set in another order, ${documents.length - sameOrder - sameSet} differ; largest per-document change ${Math.max(...deltas.map(Math.abs)).toFixed(4)} bits per byte`);
  }
  console.log(`\n${documents.length} test documents (${DOCS_PER_TASK} per domain), ${NEIGHBORS} neighbours each, the demo's tiny GPT; bits per byte = Σ −log-likelihood / Σ bytes / ln 2`);
  console.log(formatTable(['index', 'bytes/vector', 'recall@10', 'documents', 'neighbour sets differ', `mean overlap@${NEIGHBORS}`, 'bpb before', 'bpb after TTT-NN', 'change %', 'paired Δ bpb ± s.e.', 'TTT gain kept %'], rows));
  console.log(`after: ${loadLine()}`);
}

await main();
