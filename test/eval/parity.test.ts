// Parity with the original evaluation: test/reference/tttlm_original.py
// transcribes the original's TTT loop, dynamic evaluation and both baselines
// (python3-torch, torch.optim.AdamW, clip_grad_norm_, python3-faiss on the
// same index file); `tttnn eval` runs against real shard servers on
// 127.0.0.1 with the same tiny checkpoint. The per-neighbour log-likelihood
// curves must agree to 1e-4. What the data exercises, asserted below:
// neighbours cut by a plain-L2 threshold that squared L2 would cut
// differently; several documents per task (AdamW's moments carry over);
// training texts whose last window has one token; documents longer than one
// scoring window (the in-context baseline scores them without neighbours)
// and neighbour contexts longer than the room left (cut from the left).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { manualSeed } from '../../src/engine/index.js';
import type { DocumentResult } from '../../src/eval/results.js';
import { runEvaluation, type Method } from '../../src/eval/runner.js';
import type { FleetRetriever } from '../../src/eval/retriever.js';
import { embedTexts } from '../../src/index/index.js';
import { Gpt2LMHeadModel, loadCausalLM, saveModel } from '../../src/models/index.js';
import { gpt2Tokenizer, saveTokenizer } from '../../src/tokenizers/index.js';
import { assertClose } from '../helpers/assert-close.js';
import { startTinyFleet, type TinyFleet } from '../helpers/tiny-fleet.js';
import { runPython } from '../helpers/python.js';
import { readResultLines } from '../helpers/results.js';

const CLI = new URL('../../../bin/tttnn.js', import.meta.url).pathname;
const REFERENCE = readFileSync(new URL('../../../test/reference/tttlm_original.py', import.meta.url), 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'tttnn-parity-'));
const tokenizer = gpt2Tokenizer();
const N_CTX = 32;
const LEARNING_RATE = 3e-3;
const VAL_PORTION = 0.6; // int(0.6 * 5) = 3 documents per task
const K = { ttt: 4, dynamic: 2, context: 4, interpolation: 4 };

const TOPICS = [
  'func main() { fmt.Println("hello") } // prints a greeting to the terminal',
  'Subject: meeting moved to Friday. Please confirm your attendance by noon.',
  'The court held that the contract was void for lack of consideration.',
];
/** Text of exactly `n` GPT-2 tokens: training windows of max-length 32 leave a 1-token tail at 33 and 65. */
function ofTokens(n: number, word: string): string {
  let text = word;
  while (tokenizer.encode(text).length < n) text += ` ${word}`;
  assert.equal(tokenizer.encode(text).length, n, `"${word}" repeated is not ${n} tokens`);
  return text;
}
const trainTexts = [
  ...Array.from({ length: 24 }, (_, i) => `${TOPICS[i % 3]} Variant ${i}: ${TOPICS[(i + 1) % 3]!.split(' ').slice(0, 3 + (i % 7)).join(' ')} and more text number ${i * 13}.`),
  ofTokens(33, 'main'), ofTokens(65, 'meeting'), ofTokens(33, 'court'), ofTokens(65, 'fmt'),
];
const taskNames = ['Github', 'Enron Emails'];
// Five documents per task: short ones (one scoring window) and long ones (three).
const testDocs = Array.from({ length: 10 }, (_, i) => {
  const topic = TOPICS[i % 3]!;
  return i % 2 === 0 ? `${topic} Document ${i}.` : `${topic} ${topic.split(' ').reverse().join(' ')} Document ${i}. ${topic}`;
});

let fleet: TinyFleet;
let retriever: FleetRetriever;
const modelDir = join(dir, 'gpt');
const trainData = join(dir, 'train.jsonl');
const testData = join(dir, 'test.jsonl');

interface PythonCurves {
  [method: string]: Record<string, { curve: number[]; neighbors: number }>;
}


function results(resultsDir: string, method: string): Map<number, DocumentResult> {
  return new Map(readResultLines(resultsDir, method).map((l) => [l.doc_id, l]));
}

let threshold = 0;
let reference: PythonCurves;

before(async () => {
  writeFileSync(trainData, trainTexts.map((text, i) => JSON.stringify({ text, meta: { pile_set_name: taskNames[i % 2] } })).join('\n') + '\n');
  writeFileSync(testData, testDocs.map((text, i) => JSON.stringify({ text, meta: { pile_set_name: taskNames[i % 2] } })).join('\n') + '\n');
  manualSeed(7);
  const gpt = Gpt2LMHeadModel.random({ model_type: 'gpt2', vocab_size: 50257, n_positions: N_CTX, n_embd: 16, n_layer: 1, n_head: 2, embd_pdrop: 0, attn_pdrop: 0, resid_pdrop: 0 });
  saveModel(gpt, modelDir);
  saveTokenizer(tokenizer, modelDir);
  gpt.dispose();
  fleet = await startTinyFleet(dir, trainData);
  ({ retriever } = fleet);
  const { embedder } = fleet;

  // A threshold between two retrieved plain distances, where squared L2 would keep another set.
  const plain = (await Promise.all(testDocs.map((d) => retriever.retrieve(d, K.ttt)))).flatMap((r) => r.neighbors.map((n) => n.distance)).sort((a, b) => a - b);
  const at = Math.floor(plain.length * 0.6);
  threshold = (plain[at - 1]! + plain[at]!) / 2;
  const keptPlain = plain.filter((d) => d < threshold).length;
  const keptSquared = plain.filter((d) => d * d < threshold).length;
  assert.ok(keptPlain > 0 && keptPlain < plain.length, 'the threshold keeps some neighbours and drops others');
  assert.notEqual(keptPlain, keptSquared, 'plain and squared L2 keep different neighbours at this threshold');

  // What the transcription needs: embeddings of the query texts and token ids of every text it encodes.
  const encodings: Record<string, number[]> = {};
  const embeddings: Record<string, number[]> = {};
  for (const text of [...trainTexts, ...testDocs]) encodings[text] = tokenizer.encode(text);
  for (const doc of testDocs) {
    embeddings[doc] = [...embedTexts(embedder, [doc])];
    const tokens = tokenizer.encode(doc);
    const split = Math.floor(tokens.length / 2);
    for (const half of [tokenizer.decode(tokens.slice(0, split)), tokenizer.decode(tokens.slice(split))]) encodings[half] = tokenizer.encode(half);
  }
  const tasks: Record<string, [number, string][]> = {};
  testDocs.forEach((text, i) => (tasks[taskNames[i % 2]!] ??= []).push([i, text]));
  reference = runPython<PythonCurves>(REFERENCE, {
    model_dir: modelDir, index: join(dir, 'train.jsonl.index'), train_texts: trainTexts, tasks, embeddings, encodings,
    settings: {
      learning_rate: LEARNING_RATE, max_length: N_CTX, stride: N_CTX, val_portion: VAL_PORTION, ttt_neighbors: K.ttt, ttt_threshold: threshold,
      dynamic_neighbors: K.dynamic, context_neighbors: K.context, context_threshold: threshold, interpolation_neighbors: K.interpolation,
    },
  });
});

after(async () => {
  await fleet?.stop();
});

function compare(method: Method, ours: Map<number, DocumentResult>): void {
  const theirs = reference[method]!;
  assert.deepEqual([...ours.keys()].sort((a, b) => a - b), Object.keys(theirs).map(Number).sort((a, b) => a - b), `${method}: the same documents were selected`);
  for (const [id, line] of ours) {
    const curve = line.loglikelihoods ?? line.alpha_loglikelihoods!;
    assertClose(curve, theirs[String(id)]!.curve, 1e-4, `${method}, document ${id}`);
  }
}

test('ttt (through the CLI, default settings): the original\'s curves to 1e-4, one AdamW per task, plain-L2 threshold', () => {
  const resultsDir = join(dir, 'results-ttt');
  const run = spawnSync(process.execPath, [CLI, 'eval', '--method', 'ttt', '--model', modelDir, '--embedder', fleet.encoderDir, '--addresses', fleet.addresses, '--token-file', fleet.tokenFile,
    '--data', testData, '--results-dir', resultsDir, '--num-neighbors', String(K.ttt), '--distance-threshold', String(threshold), '--learning-rate', String(LEARNING_RATE),
    '--val-portion', String(VAL_PORTION)], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  const ours = results(resultsDir, 'ttt');
  compare('ttt', ours);
  const lines = [...ours.values()];
  for (const line of lines) {
    assert.equal(line.neighbor_ids.length, reference['ttt']![String(line.doc_id)]!.neighbors, `document ${line.doc_id}: neighbours kept`);
    assert.ok(line.neighbor_distances.every((d) => d < threshold));
  }
  assert.ok(lines.some((l) => l.neighbor_ids.length < K.ttt), 'the threshold dropped some neighbours');
  assert.ok(lines.some((l) => l.train_losses!.some((losses) => losses.includes(null))), 'a one-token window took its (NaN-loss) step');
  assert.ok(lines.some((l) => l.loglikelihoods!.length > 1), 'some document trained');
});

async function evaluate(method: Method, extra: Record<string, unknown>): Promise<Map<number, DocumentResult>> {
  const resultsDir = mkdtempSync(join(dir, `results-${method}-`));
  const model = loadCausalLM(modelDir);
  try {
    await runEvaluation({ method, model, tokenizer, retriever, data: testData, tasks: 'pile_all', resultsDir, learningRate: LEARNING_RATE, valPortion: VAL_PORTION, progress: () => undefined, ...extra });
  } finally {
    model.dispose();
  }
  return results(resultsDir, method);
}

test('dynamic evaluation (split text by default): the original\'s curves to 1e-4', async () => {
  compare('dynamic', await evaluate('dynamic', { numNeighbors: K.dynamic }));
});

test('in-context baseline (single window, nearest first, cut from the left): the original\'s scores to 1e-4', async () => {
  const ours = await evaluate('context', { numNeighbors: K.context, distanceThreshold: threshold });
  compare('context', ours);
  const lines = [...ours.values()];
  assert.ok(lines.some((l) => l.context_neighbors === 0 && tokenizer.encode(testDocs[l.doc_id]!).length > N_CTX), 'a document longer than one window was scored without neighbours');
  assert.ok(lines.some((l) => (l.context_neighbors ?? 0) > 0 && l.loglikelihoods![1] !== l.loglikelihoods![0]), 'a short document was scored with neighbours in its context');
});

test('interpolation (no threshold, softmax of minus plain L2): the original\'s 20 alphas to 1e-4', async () => {
  const ours = await evaluate('interpolation', { numNeighbors: K.interpolation });
  compare('interpolation', ours);
  for (const line of ours.values()) assert.equal(line.neighbor_ids.length, K.interpolation);
});
