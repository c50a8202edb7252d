// TTT-NN and the baselines on tiny models, a tiny corpus and real shard
// servers on 127.0.0.1.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { manualSeed, setPrecision } from '../../src/engine/index.js';
import { selectDocuments } from '../../src/eval/documents.js';
import { contextLoglikelihood, contextWindowLength } from '../../src/eval/context-loglikelihood.js';
import { interpolationLoglikelihoods, neighborUnigram } from '../../src/eval/interpolated-loglikelihood.js';
import { rollingLoglikelihood } from '../../src/eval/loglikelihood.js';
import { runEvaluation, type Method } from '../../src/eval/runner.js';
import { resultsLabel } from '../../src/eval/results-label.js';
import { FleetRetriever } from '../../src/eval/retriever.js';
import { buildIndex } from '../../src/index/index.js';
import { Gpt2LMHeadModel, RobertaModel, saveModel, type CausalLM } from '../../src/models/index.js';
import { writeNewToken, readToken } from '../../src/retrieval/auth.js';
import { RetrievalClient } from '../../src/retrieval/client.js';
import { gpt2Tokenizer, robertaTokenizerFromGpt2, saveTokenizer } from '../../src/tokenizers/index.js';
import type { DocumentResult } from '../../src/eval/results.js';
import type { RunRecord } from '../../src/eval/run-record.js';
import { loadResults } from '../../src/report/aggregate.js';
import { assertClose } from '../helpers/assert-close.js';
import { startFleetProcess, type FleetProcess } from '../helpers/fleet.js';
import { readResultLines } from '../helpers/results.js';

const CLI = new URL('../../../bin/tttnn.js', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'tttnn-eval-'));
const tokenizer = gpt2Tokenizer();
const TOPICS = ['The lighthouse keeper counted ships in the fog every night', 'def parse(tokens): return [t.strip() for t in tokens if t]', 'Solve 3*x + 7 = 22 for x. The answer is 5', 'The licence grants permission to copy and modify the software'];
const testDocs = TOPICS.map((t, i) => `${t}. ${t.split(' ').reverse().join(' ')} ${i}. ${t}.`);
const trainData = join(dir, 'train.jsonl');
const testData = join(dir, 'test.jsonl');
// The training file holds every test document verbatim (an identical neighbour) among others.
writeFileSync(trainData, [...testDocs, ...Array.from({ length: 30 }, (_, i) => `${TOPICS[i % 4]} variant ${i} with more words ${i * 7}`)].map((text, i) => JSON.stringify({ text, meta: { pile_set_name: ['Gutenberg (PG-19)', 'Github', 'DM Mathematics', 'FreeLaw'][i % 4] } })).join('\n') + '\n');
writeFileSync(testData, testDocs.map((text, i) => JSON.stringify({ text, meta: { pile_set_name: ['Gutenberg (PG-19)', 'Github', 'DM Mathematics', 'FreeLaw'][i % 4] } })).join('\n') + '\n');

let fleet: FleetProcess;
let retriever: FleetRetriever;
let encoder: RobertaModel;
const modelDir = join(dir, 'gpt');

function tinyGpt(): CausalLM {
  manualSeed(21);
  return Gpt2LMHeadModel.random({ model_type: 'gpt2', vocab_size: 50257, n_positions: 64, n_embd: 32, n_layer: 2, n_head: 2, embd_pdrop: 0, attn_pdrop: 0, resid_pdrop: 0 });
}

before(async () => {
  manualSeed(4);
  encoder = RobertaModel.random({ model_type: 'roberta', vocab_size: 50261, hidden_size: 16, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 32, max_position_embeddings: 66 }, false);
  const embedder = { model: encoder, tokenizer: robertaTokenizerFromGpt2() };
  await buildIndex({ data: trainData, embedder, embedderDir: join(dir, 'enc'), out: dir, progress: () => undefined });
  const tokenFile = join(dir, 'token');
  writeNewToken(tokenFile);
  fleet = await startFleetProcess({ data: trainData, index: join(dir, 'train.jsonl.index'), slices: 2, replicas: 1, addresses: join(dir, 'addresses'), tokenFile });
  const client = await RetrievalClient.connect({ addresses: fleet.addresses, token: readToken(tokenFile) });
  retriever = new FleetRetriever(client, embedder);
  const model = tinyGpt();
  saveModel(model, modelDir);
  saveTokenizer(tokenizer, modelDir);
  model.dispose();
});

after(async () => {
  await fleet?.stop();
  encoder?.dispose();
});



async function evaluate(method: Method, extra: Partial<Parameters<typeof runEvaluation>[0]> = {}): Promise<DocumentResult[]> {
  const resultsDir = mkdtempSync(join(dir, 'results-'));
  const model = tinyGpt();
  try {
    await runEvaluation({ method, model, tokenizer, retriever, data: testData, tasks: 'pile_all', resultsDir, numNeighbors: 3, learningRate: 3e-3, valPortion: 1, distanceThreshold: Infinity, progress: () => undefined, ...extra });
  } finally {
    model.dispose();
  }
  return readResultLines(resultsDir, resultsLabel({ method, selection: extra.selection ?? 'knn', siftAlpha: extra.siftAlpha, budgetSeconds: extra.budgetSeconds }));
}

test('TTT on a neighbour identical to the test document lowers its bits per byte; the weights are restored after', async () => {
  const lines = await evaluate('ttt');
  assert.equal(lines.length, 4);
  for (const line of lines) {
    assert.equal(line.neighbor_ids[0], line.doc_id, 'the nearest neighbour is the identical training document');
    assert.ok(line.neighbor_distances[0]! < 1e-6);
    assert.equal(line.loglikelihoods!.length, 4); // before, and after each of 3 neighbours
    assert.ok(line.loglikelihoods![1]! > line.loglikelihoods![0]! + 1, `log-likelihood ${line.loglikelihoods![0]} -> ${line.loglikelihoods![1]}`);
    assert.equal(line.train_losses!.length, 3);
  }
  // Every document starts from the same weights: the first point equals the plain score.
  const model = tinyGpt();
  for (const line of lines) {
    const plain = rollingLoglikelihood(model, tokenizer.encode(testDocs[line.doc_id]!), 50256);
    assert.ok(Math.abs(line.loglikelihoods![0]! - plain) < 1e-3, `${line.loglikelihoods![0]} vs ${plain}`);
  }
  model.dispose();
});

test('SIFT selects among the candidates into ttt+sift; every line records the selection, and a budget cuts training short into ttt@<s>s', async () => {
  const lines = await evaluate('ttt', { selection: 'sift', candidates: 12, numNeighbors: 3 });
  assert.equal(lines.length, 4);
  for (const line of lines) {
    assert.equal(line.selection, 'sift');
    assert.equal(line.candidate_count, 12);
    assert.equal(line.selection_stop, 'count');
    assert.equal(line.neighbor_ids.length, 3);
    assert.equal(line.selection_variances!.length, 3);
    assert.ok(line.selection_variances!.every((v, i) => i === 0 || v <= line.selection_variances![i - 1]!));
    assert.equal(line.loglikelihoods!.length, 4);
    assert.ok(line.neighbor_mean_pairwise_distance! >= 0 && typeof line.duplicate_neighbor_pairs === 'number');
    assert.ok(line.selection_seconds! >= 0 && line.score_seconds_before! > 0);
  }
  const knn = await evaluate('ttt');
  assert.ok(knn.every((l) => l.selection === undefined && l.candidate_count === undefined), 'the original selection writes no selection fields');
  await assert.rejects(evaluate('random', { selection: 'sift' }), /--method random retrieves none/);
  await assert.rejects(evaluate('ttt', { siftAlpha: 1 }), /--sift-alpha is adaptive SIFT: it needs --selection sift/);
  // A budget far below one document's work: the first neighbour is at most partly trained.
  const budgeted = await evaluate('ttt', { budgetSeconds: 1e-3 });
  for (const line of budgeted) {
    assert.equal(line.budget_seconds, 1e-3);
    assert.equal(line.budget_stop, true);
    assert.ok(line.loglikelihoods!.length <= 2, JSON.stringify(line.loglikelihoods));
  }
});

test('dynamic evaluation lowers the second half\'s bits per byte (split text)', async () => {
  const lines = await evaluate('dynamic', { splitText: true, numNeighbors: 2 });
  for (const line of lines) {
    assert.equal(line.neighbor_ids.length, 0);
    assert.ok(line.loglikelihoods!.at(-1)! > line.loglikelihoods![0]!, JSON.stringify(line.loglikelihoods));
    const tokens = tokenizer.encode(testDocs[line.doc_id]!);
    assert.equal(line.bytes, Buffer.byteLength(tokenizer.decode(tokens.slice(Math.floor(tokens.length / 2)))));
  }
});

test('context with no neighbours equals the plain score; interpolation at alpha 0 equals the plain score', async () => {
  const model = tinyGpt();
  const tokens = tokenizer.encode(testDocs[1]!.repeat(3));
  const plainHalf = rollingLoglikelihood(model, tokens, 50256, contextWindowLength(64));
  assert.ok(Math.abs(contextLoglikelihood(model, tokens, 50256, [], 64) - plainHalf) < 1e-4);
  const neighbor = tokenizer.encode(testDocs[1]!);
  assert.notEqual(contextLoglikelihood(model, tokens, 50256, [neighbor], 64), plainHalf);
  const plain = rollingLoglikelihood(model, tokens, 50256, 64);
  const knn = neighborUnigram([neighbor, tokenizer.encode(testDocs[2]!)], [0.5, 2]);
  const byAlpha = interpolationLoglikelihoods(model, tokens, 50256, knn, 64);
  assert.equal(byAlpha.length, 20);
  assert.ok(Math.abs(byAlpha[0]! - plain) < 1e-4, `${byAlpha[0]} vs ${plain}`);
  assert.ok(Math.max(...byAlpha) > byAlpha[0]!, 'a neighbour with the same words helps at some alpha');
  model.dispose();
  const context = await evaluate('context');
  assert.ok(context.every((l) => l.loglikelihoods!.length === 2), 'the original\'s in-context baseline: one score without and one with neighbours');
  const windows = await evaluate('context', { contextMode: 'windows' });
  assert.ok(windows.every((l) => l.loglikelihoods!.length === 4), 'windows mode: a curve over 0..3 neighbours');
  const interpolation = await evaluate('interpolation');
  assert.ok(interpolation.every((l) => l.alpha_loglikelihoods!.length === 20));
});

test('under bf16 (emulated on CPUs without it) TTT records its precision, scores within 1 % of fp32, and a rerun in fp32 refuses to mix into its file', async () => {
  const fp32 = await evaluate('ttt', { docsPerTask: 1, numNeighbors: 2 });
  const resultsDir = mkdtempSync(join(dir, 'results-'));
  const model = tinyGpt();
  const run = (): Promise<unknown> =>
    runEvaluation({ method: 'ttt', model, tokenizer, retriever, data: testData, tasks: 'pile_all', resultsDir, numNeighbors: 2, learningRate: 3e-3, valPortion: 1, distanceThreshold: Infinity, docsPerTask: 1, progress: () => undefined });
  try {
    setPrecision('bf16');
    await run();
    setPrecision('fp32');
    await assert.rejects(run(), /evaluated in bf16 and this run is fp32; resume with --precision bf16/);
  } finally {
    setPrecision('fp32');
    model.dispose();
  }
  const bf16 = readResultLines(resultsDir, 'ttt');
  assert.equal(bf16.length, fp32.length);
  for (const line of bf16) {
    assert.equal(line.precision, 'bf16');
    const reference = fp32.find((l) => l.doc_id === line.doc_id && l.task === line.task)!;
    assert.equal(reference.precision, undefined, 'fp32 lines keep the original format');
    assertClose(line.loglikelihoods!, reference.loglikelihoods!, 0, `doc ${line.doc_id} log-likelihoods, bf16 vs fp32`, 0.01);
  }
});

test('document selection: shuffled with the seed, val portion, every world-size-th from rank', async () => {
  const all = await selectDocuments(trainData, { tasks: 'pile_all', valPortion: 1, seed: 1216, rank: 0, worldSize: 1 });
  assert.equal([...all.values()].reduce((n, d) => n + d.length, 0), 34);
  const part = await selectDocuments(trainData, { tasks: ['pile_github'], valPortion: 0.5, seed: 1216, rank: 0, worldSize: 1 });
  assert.equal(part.get('pile_github')!.length, 4);
  const ranks = await Promise.all([0, 1, 2].map((rank) => selectDocuments(trainData, { tasks: 'pile_all', valPortion: 1, seed: 1216, rank, worldSize: 3 })));
  const ids = ranks.flatMap((m) => [...m.values()].flat().map((d) => d.id)).sort((a, b) => a - b);
  assert.deepEqual(ids, Array.from({ length: 34 }, (_, i) => i));
  await assert.rejects(selectDocuments(trainData, { tasks: ['pile_nope'], valPortion: 1, seed: 1, rank: 0, worldSize: 1 }), /no documents of task\(s\) pile_nope/);
});

test('an eval run killed with SIGKILL and rerun ends with no duplicate, no missing document, and the curves of an uninterrupted run (AdamW moments per task resumed)', async () => {
  const resultsDir = join(dir, 'killed');
  saveModel(encoder, join(dir, 'enc'));
  saveTokenizer(robertaTokenizerFromGpt2(), join(dir, 'enc'));
  const args = (out: string): string[] => [CLI, 'eval', '--method', 'ttt', '--model', modelDir, '--embedder', join(dir, 'enc'), '--addresses', join(dir, 'addresses'), '--token-file', join(dir, 'token'), '--data', trainData, '--results-dir', out, '--num-neighbors', '2', '--val-portion', '1', '--learning-rate', '1e-3'];
  const child = spawn(process.execPath, args(resultsDir), { stdio: 'pipe' });
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const file = join(resultsDir, 'ttt', 'pile_github.rank0.jsonl');
      if (existsSync(file) && readFileSync(file, 'utf8').split('\n').filter(Boolean).length >= 3) {
        clearInterval(timer);
        child.kill('SIGKILL'); // resolved on its exit, below: the rerun starts once it is gone (its results lock too)
      }
    }, 10);
    child.on('exit', () => {
      clearInterval(timer);
      resolve();
    });
  });
  const rerun = spawnSync(process.execPath, args(resultsDir), { encoding: 'utf8' });
  assert.equal(rerun.status, 0, rerun.stderr);
  const summary = JSON.parse(rerun.stdout) as { evaluated: number; skipped: number };
  assert.ok(summary.skipped >= 3, JSON.stringify(summary));
  const lines = readResultLines(resultsDir, 'ttt');
  const ids = lines.map((l) => l.doc_id).sort((a, b) => a - b);
  assert.deepEqual(ids, Array.from({ length: 34 }, (_, i) => i));
  const whole = join(dir, 'uninterrupted');
  const once = spawnSync(process.execPath, args(whole), { encoding: 'utf8' });
  assert.equal(once.status, 0, once.stderr);
  const expected = new Map(readResultLines(whole, 'ttt').map((l) => [l.doc_id, l.loglikelihoods!]));
  for (const line of lines) assertClose(line.loglikelihoods!, expected.get(line.doc_id)!, 1e-4, `resumed document ${line.doc_id}`);

  // Without the saved moments a resume would differ: it stops and says why.
  const file = join(resultsDir, 'ttt', 'pile_github.rank0.jsonl');
  writeFileSync(file, readFileSync(file, 'utf8').split('\n').slice(0, 2).join('\n') + '\n');
  rmSync(join(resultsDir, 'ttt', 'optimizer.rank0.pile_github.safetensors'));
  const refused = spawnSync(process.execPath, args(resultsDir), { encoding: 'utf8' });
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /cannot resume pile_github exactly: 2 document\(s\) are finished .* --optimizer-scope document --force-mix/s);
  // Another optimizer scope is another configuration: refused into the same directory unless named.
  const other = spawnSync(process.execPath, [...args(resultsDir), '--optimizer-scope', 'document'], { encoding: 'utf8' });
  assert.equal(other.status, 1);
  assert.match(other.stderr, /holds results of another configuration \(optimizerScope: was "task", now "document"\)/);
  const independent = spawnSync(process.execPath, [...args(resultsDir), '--optimizer-scope', 'document', '--force-mix'], { encoding: 'utf8' });
  assert.equal(independent.status, 0, independent.stderr);
});

test('Ctrl-C (shouldStop) mid-run and a rerun give the curves of an uninterrupted run, with one AdamW for the whole run (--optimizer-scope run)', async () => {
  const run = async (resultsDir: string, stopAfter = Infinity): Promise<void> => {
    const model = tinyGpt();
    let documents = 0;
    try {
      await runEvaluation({ method: 'ttt', model, tokenizer, retriever, data: trainData, tasks: 'pile_all', resultsDir, numNeighbors: 2, learningRate: 3e-3, valPortion: 0.3, optimizerScope: 'run', progress: () => documents++, shouldStop: () => documents >= stopAfter });
    } finally {
      model.dispose();
    }
  };
  const whole = mkdtempSync(join(dir, 'run-scope-'));
  await run(whole);
  const resumed = mkdtempSync(join(dir, 'run-scope-'));
  await assert.rejects(run(resumed, 3), /evaluation interrupted; rerun the same command to resume/);
  assert.equal(readResultLines(resumed, 'ttt').length, 3);
  await run(resumed);
  const expected = new Map(readResultLines(whole, 'ttt').map((l) => [l.doc_id, l.loglikelihoods!]));
  const lines = readResultLines(resumed, 'ttt');
  assert.equal(lines.length, expected.size);
  for (const line of lines) assertClose(line.loglikelihoods!, expected.get(line.doc_id)!, 1e-4, `document ${line.doc_id} after the resume`);
});

test('dynamic evaluation without --split-text is refused unless --train-on-scored-text names the leak', async () => {
  await assert.rejects(evaluate('dynamic', { splitText: false }), /trains on the very text it scores .* --train-on-scored-text/);
  const leaky = await evaluate('dynamic', { splitText: false, trainOnScoredText: true, numNeighbors: 1 });
  for (const line of leaky) assert.equal(line.bytes, Buffer.byteLength(testDocs[line.doc_id]!), 'the whole document is scored');
});

test('leakage audit: neighbours identical to the test document are counted, and dropped with --exclude-duplicates', async () => {
  const counted = await evaluate('ttt', { numNeighbors: 2 });
  for (const line of counted) {
    assert.equal(line.duplicate_neighbors, 1, 'the training file holds each test document once');
    assert.equal(line.neighbor_ids[0], line.doc_id);
  }
  const excluded = await evaluate('ttt', { numNeighbors: 2, excludeDuplicates: true });
  for (const line of excluded) {
    assert.equal(line.duplicate_neighbors, 1);
    assert.equal(line.excluded_duplicates, 1);
    assert.ok(!line.neighbor_ids.includes(line.doc_id));
    assert.ok(line.neighbor_distances.every((d) => d > 0));
  }
});

test('random documents (the control): TTT on k documents drawn from the whole index, seeded per document, with their plain distances', async () => {
  const first = await evaluate('random', { numNeighbors: 5 });
  const again = await evaluate('random', { numNeighbors: 5 });
  assert.deepEqual(first.map((l) => l.neighbor_ids), again.map((l) => l.neighbor_ids), 'the same draw on a rerun');
  const all = first.flatMap((l) => l.neighbor_ids);
  assert.ok(new Set(all).size > 5, 'different documents draw different neighbours');
  assert.ok(all.every((id) => id >= 0 && id < 34));
  for (const line of first) {
    assert.equal(new Set(line.neighbor_ids).size, 5);
    assert.equal(line.loglikelihoods!.length, 6);
    assert.equal(line.eval_seconds!.length, 5);
  }
});

test('a failed retrieval leaves a line with the error and no curve (the report drops it), and the run goes on', async () => {
  const tokenFile = join(dir, 'token-dead');
  writeNewToken(tokenFile);
  const dead = await startFleetProcess({ data: trainData, index: join(dir, 'train.jsonl.index'), slices: 1, replicas: 1, addresses: join(dir, 'addresses-dead'), tokenFile });
  const client = await RetrievalClient.connect({ addresses: dead.addresses, token: readToken(tokenFile), timeoutMs: 2000 });
  await dead.stop();
  const failing = new FleetRetriever(client, { model: encoder, tokenizer: robertaTokenizerFromGpt2() }, 0);
  const lines = await evaluate('ttt', { retriever: failing, numNeighbors: 2 });
  assert.equal(lines.length, 4);
  for (const line of lines) {
    assert.match(line.retrieval_error!, /no replica of shard/);
    assert.equal(line.loglikelihoods, undefined);
  }
});

test('tttnn eval --preset paper refuses a flag that changes the paper\'s settings; --help lists the defaults with their sources', () => {
  const base = [CLI, 'eval', '--preset', 'paper', '--model', modelDir, '--data', testData, '--results-dir', join(dir, 'preset'), '--method', 'dynamic'];
  const clash = spawnSync(process.execPath, [...base, '--num-neighbors', '3'], { encoding: 'utf8' });
  assert.equal(clash.status, 1);
  assert.match(clash.stderr, /--preset paper uses the original's value of --num-neighbors/);
  const help = spawnSync(process.execPath, [CLI, 'eval', '--help'], { encoding: 'utf8' });
  assert.match(help.stdout, /neighbours, context: 20 \(baseline_context\.py:161/);
  assert.match(help.stdout, /distance threshold, context: 2\.3 \(baseline_context\.py:38/);
  assert.match(help.stdout, /AdamW weight decay: 0\.01 \(torch\.optim\.AdamW's default/);
  assert.match(help.stdout, /SIFT lambda: 0\.01 \(activeft sift\.py/);
  // The paper ran the k nearest with no budget: a selection or a budget is not the paper's setting.
  const sift = spawnSync(process.execPath, [...base, '--selection', 'sift'], { encoding: 'utf8' });
  assert.match(sift.stderr, /--preset paper uses the original's value of --selection/);
  const badSelection = spawnSync(process.execPath, [CLI, 'eval', '--model', modelDir, '--data', testData, '--results-dir', join(dir, 'bad'), '--selection', 'best'], { encoding: 'utf8' });
  assert.match(badSelection.stderr, /argument 'best' is invalid\. Allowed choices are knn, sift, random/);
});

test('a rerun into the same results directory with another setting or model is refused naming what differs; --force-mix records it, and the report warns and refuses methods run on other inputs', async () => {
  const resultsDir = mkdtempSync(join(dir, 'rerun-'));
  const run = async (extra: Partial<Parameters<typeof runEvaluation>[0]>, model: CausalLM = tinyGpt()): Promise<void> => {
    try {
      await runEvaluation({ method: 'ttt', model, tokenizer, retriever, data: testData, tasks: 'pile_all', resultsDir, numNeighbors: 2, learningRate: 3e-3, valPortion: 1, distanceThreshold: Infinity, docsPerTask: 1, progress: () => undefined, ...extra });
    } finally {
      model.dispose();
    }
  };
  const otherWeights = (): CausalLM => {
    manualSeed(99);
    return Gpt2LMHeadModel.random({ model_type: 'gpt2', vocab_size: 50257, n_positions: 64, n_embd: 32, n_layer: 2, n_head: 2, embd_pdrop: 0, attn_pdrop: 0, resid_pdrop: 0 });
  };
  const github = { tasks: ['pile_github'] };
  await run(github);
  const recordPath = join(resultsDir, 'ttt', 'run.json');
  const record = JSON.parse(readFileSync(recordPath, 'utf8')) as RunRecord;
  assert.equal(record.settings['learningRate'], 3e-3);
  assert.equal(record.settings['distanceThreshold'], 'Infinity');
  assert.equal(record.settings['rank'], undefined, 'every rank writes to the same directory');
  assert.match(record.model, /^[0-9a-f]{64}$/);
  assert.match(record.retrieval!.index, /^[0-9a-f]{64}$/);
  const lines = (): number => readResultLines(resultsDir, 'ttt').length;
  assert.equal(lines(), 1);
  await run(github); // the same configuration resumes (nothing left to do)
  await assert.rejects(run({ ...github, learningRate: 1e-3 }), /ttt: holds results of another configuration \(learningRate: was 0\.003, now 0\.001\); evaluate into another --results-dir, or pass --force-mix/);
  await assert.rejects(run({ ...github, docsPerTask: 2 }), /docsPerTask: was 1, now 2/);
  await assert.rejects(run({ ...github, numNeighbors: 3 }), /numNeighbors: was 2, now 3/);
  await assert.rejects(run(github, otherWeights()), /\(model: was [0-9a-f]{12}…, now [0-9a-f]{12}…\)/, 'same architecture, other weights');
  assert.equal(lines(), 1, 'nothing was added by the refused runs');
  await run({ learningRate: 1e-3, forceMix: true }); // every task: three documents more
  assert.equal(lines(), 4);
  const mixed = (JSON.parse(readFileSync(recordPath, 'utf8')) as RunRecord).mixed!;
  assert.equal(mixed.length, 1);
  assert.deepEqual(mixed[0]!.differences, ['learningRate: was 0.003, now 0.001']);
  assert.ok(loadResults(resultsDir).warnings.some((w) => /ttt: mixes runs made with other settings or inputs \(--force-mix\): learningRate: was 0\.003, now 0\.001/.test(w)));
  // Another method of the same directory on another model: the report will not compare them.
  const context = otherWeights();
  try {
    await runEvaluation({ method: 'context', model: context, tokenizer, retriever, data: testData, tasks: 'pile_all', resultsDir, numNeighbors: 2, valPortion: 1, docsPerTask: 1, progress: () => undefined });
  } finally {
    context.dispose();
  }
  assert.throws(() => loadResults(resultsDir), /its methods were not evaluated on the same inputs: model differs \(context: [0-9a-f]{12}, ttt: [0-9a-f]{12}\)/);
});
