// Benchmark: what bf16 mixed precision costs in accuracy. Bits per byte of
// the demo's test documents before and after TTT on their neighbours, fp32
// vs bf16, with the demo's model, neighbours and settings (read from a demo
// run's artifacts). Target: within 0.5 % relative, before and after.
//
//   npm run bench:precision    (BENCH_DEMO_RUN=artifacts/run-20mb, BENCH_DOCS=4;
//                               without AMX / AVX512_BF16 bf16 is emulated: slow)
//
// Needs `npm run demo` to have run (its models, corpus and TTT results).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AdamW, snapshotParameters, disposeAll, withPrecisionAsync, type EffectivePrecision } from '../src/engine/index.js';
import { DocumentStore } from '../src/data/document-store.js';
import { countBytes } from '../src/eval/metrics.js';
import { resolveSettings } from '../src/eval/settings.js';
import { testTimeTrain } from '../src/eval/ttt.js';
import { loadCausalLM } from '../src/models/index.js';
import { loadTokenizer } from '../src/tokenizers/index.js';
import { latestCheckpoint } from '../src/train/checkpoints.js';
import { formatTable, measureBf16, printEngineHeader } from './helpers.js';

const RUN = resolve(process.env['BENCH_DEMO_RUN'] ?? 'artifacts/run-20mb');
const CORPUS = RUN.replace(/run-(\d+mb)$/, 'corpus-$1');
const DOCS = Number(process.env['BENCH_DOCS'] ?? 4);
const LEARNING_RATE = 3e-4; // the demo's

interface ResultLine {
  task: string;
  doc_id: number;
  tokens: number;
  neighbor_ids: number[];
}

/** The demo's TTT results: the shortest DOCS documents with neighbours (the cost of emulated bf16 grows with length). */
function demoDocuments(): ResultLine[] {
  const results = join(RUN, 'results');
  const runs = existsSync(results) ? readdirSync(results).filter((d) => d.startsWith('tiny-') && !d.endsWith('-bf16')) : [];
  if (runs.length === 0) throw new Error(`${results}: no demo results; run \`npm run demo\` first (or set BENCH_DEMO_RUN)`);
  const ttt = join(results, runs[0] as string, 'ttt');
  const lines = readdirSync(ttt).filter((f) => f.endsWith('.jsonl')).flatMap((f) => readFileSync(join(ttt, f), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as ResultLine));
  return lines.filter((l) => l.neighbor_ids.length > 0).sort((a, b) => a.tokens - b.tokens).slice(0, DOCS);
}

const bf16 = measureBf16();
printEngineHeader();
console.log(`bf16: ${bf16.why}`);
if (!bf16.run) console.log('(measuring anyway: accuracy does not depend on the hardware, only the speed does)');
const modelDir = latestCheckpoint(join(RUN, 'models', 'tiny-gpt'));
if (!modelDir) throw new Error(`${RUN}/models/tiny-gpt: no checkpoint; run \`npm run demo\` first`);
const documents = demoDocuments();
const tokenizer = loadTokenizer(modelDir);
const tests = await DocumentStore.open(join(CORPUS, 'test', '00.jsonl'));
const train = await DocumentStore.open(join(CORPUS, 'train', '00.jsonl'));
const text = (store: DocumentStore, id: number): string => (JSON.parse(store.line(id).toString('utf8')) as { text: string }).text;

/** Bits per byte of each document before and after TTT on its neighbours. */
async function bitsPerByte(precision: EffectivePrecision): Promise<{ before: number; after: number; seconds: number }[]> {
  const model = loadCausalLM(modelDir!);
  const s = resolveSettings('ttt', model, { learningRate: LEARNING_RATE });
  const snapshot = snapshotParameters(model.parameters.list());
  try {
    const rows: { before: number; after: number; seconds: number }[] = [];
    for (const doc of documents) {
      const scoredText = text(tests, doc.doc_id);
      const bytes = countBytes(scoredText);
      const optimizer = new AdamW(model.parameters.list(), { lr: s.learningRate, eps: s.adamEpsilon, betas: s.adamBetas, weightDecay: s.weightDecay });
      const neighbours = doc.neighbor_ids.map((id) => tokenizer.encode(text(train, id)));
      const started = performance.now();
      const curve = await withPrecisionAsync(precision, () => testTimeTrain(model, optimizer, snapshot, tokenizer.encode(scoredText), tokenizer.eosTokenId!, neighbours, s));
      const bpb = (ll: number): number => -ll / bytes / Math.LN2;
      rows.push({ before: bpb(curve.loglikelihoods[0]!), after: bpb(curve.loglikelihoods.at(-1)!), seconds: (performance.now() - started) / 1000 });
    }
    return rows;
  } finally {
    disposeAll(snapshot);
    model.dispose();
  }
}

const fp32 = await bitsPerByte('fp32');
const lowered = await bitsPerByte('bf16');
const relative = (a: number, b: number): number => (100 * Math.abs(a - b)) / b;
const rows = documents.map((doc, i) => {
  const f = fp32[i]!;
  const b = lowered[i]!;
  return [`${doc.task} #${doc.doc_id} (${doc.tokens} tokens, ${doc.neighbor_ids.length} neighbours)`, f.before, b.before, relative(b.before, f.before), f.after, b.after, relative(b.after, f.after), f.seconds, b.seconds];
});
const mean = (xs: number[]): number => xs.reduce((a, x) => a + x, 0) / xs.length;
const meanOf = (list: typeof fp32, key: 'before' | 'after'): number => mean(list.map((r) => r[key]));
rows.push(['mean', meanOf(fp32, 'before'), meanOf(lowered, 'before'), relative(meanOf(lowered, 'before'), meanOf(fp32, 'before')), meanOf(fp32, 'after'), meanOf(lowered, 'after'), relative(meanOf(lowered, 'after'), meanOf(fp32, 'after')), mean(fp32.map((r) => r.seconds)), mean(lowered.map((r) => r.seconds))]);
console.log(`model ${modelDir}; test documents and neighbours from ${RUN}/results`);
console.log(formatTable(['document', 'fp32 before', 'bf16 before', '% diff', 'fp32 after TTT', 'bf16 after TTT', '% diff', 'fp32 s', 'bf16 s'], rows));
console.log('bits per byte; target: |bf16 - fp32| / fp32 <= 0.5 % before and after TTT');
