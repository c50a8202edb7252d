// TTT-NN on a downstream task (issue 32), on a tiny GPT-2, real shard
// servers on 127.0.0.1 and the shipped boolq YAML: the query is the
// document's few-shot context, its nearest neighbours are retrieved and
// trained on, and the task's metric is recorded after 0..k neighbours;
// point 0 is the model's own answer (the harness's number, tasks-parity
// test), the weights are restored after every document, an interrupted run
// resumes to the same lines, and the CLI runs it and refuses the methods
// that do not apply.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { manualSeed } from '../../src/engine/index.js';
import { buildIndex } from '../../src/index/index.js';
import { Gpt2LMHeadModel, RobertaModel, saveModel, type CausalLM } from '../../src/models/index.js';
import { readToken, writeNewToken } from '../../src/retrieval/auth.js';
import { RetrievalClient } from '../../src/retrieval/client.js';
import { FleetRetriever } from '../../src/eval/retriever.js';
import { HarnessTask } from '../../src/eval/tasks/task.js';
import { scoreRequests } from '../../src/eval/tasks/request-scoring.js';
import { runTaskEvaluation, taskResultsDir, type TaskResult } from '../../src/eval/tasks/task-runner.js';
import { gpt2Tokenizer, robertaTokenizerFromGpt2, saveTokenizer } from '../../src/tokenizers/index.js';
import { startFleetProcess, type FleetProcess } from '../helpers/fleet.js';
import { writeTaskData } from '../helpers/task-data.js';

const CLI = new URL('../../../bin/tttnn.js', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'tttnn-task-ttt-'));
const taskData = join(dir, 'data');
const tokenizer = gpt2Tokenizer();
const modelDir = join(dir, 'gpt');
let fleet: FleetProcess;
let retriever: FleetRetriever;
let encoder: RobertaModel;

function tinyGpt(): CausalLM {
  manualSeed(21);
  return Gpt2LMHeadModel.random({ model_type: 'gpt2', vocab_size: 50257, n_positions: 128, n_embd: 32, n_layer: 2, n_head: 2, embd_pdrop: 0, attn_pdrop: 0, resid_pdrop: 0 });
}

function readLines(resultsDir: string, label: string): TaskResult[] {
  const d = join(taskResultsDir(resultsDir), label);
  return readdirSync(d).filter((f) => f.endsWith('.jsonl')).flatMap((f) => readFileSync(join(d, f), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as TaskResult));
}

before(async () => {
  writeTaskData(taskData, 12);
  // The index holds every boolq question with its right answer after it, among other texts.
  const task = HarnessTask.load('boolq', taskData);
  const answered = task.documents(0).map((d) => `${d.context} ${task.docToChoice(d.doc)[d.doc['label'] as number]!}`);
  const trainData = join(dir, 'train.jsonl');
  writeFileSync(trainData, [...answered, ...Array.from({ length: 20 }, (_, i) => `unrelated text ${i} about rivers and stones`)].map((text) => JSON.stringify({ text, meta: { pile_set_name: 'Pile-CC' } })).join('\n') + '\n');
  manualSeed(4);
  encoder = RobertaModel.random({ model_type: 'roberta', vocab_size: 50261, hidden_size: 16, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 32, max_position_embeddings: 130 }, false);
  const embedder = { model: encoder, tokenizer: robertaTokenizerFromGpt2() };
  await buildIndex({ data: trainData, embedder, embedderDir: join(dir, 'enc'), out: dir, progress: () => undefined });
  const tokenFile = join(dir, 'token');
  writeNewToken(tokenFile);
  fleet = await startFleetProcess({ data: trainData, index: join(dir, 'train.jsonl.index'), slices: 2, replicas: 1, addresses: join(dir, 'addresses'), tokenFile });
  retriever = new FleetRetriever(await RetrievalClient.connect({ addresses: fleet.addresses, token: readToken(tokenFile) }), embedder);
  const model = tinyGpt();
  saveModel(model, modelDir);
  saveTokenizer(tokenizer, modelDir);
  model.dispose();
});

after(async () => {
  await fleet?.stop();
  encoder?.dispose();
});

async function evaluate(resultsDir: string, extra: Partial<Parameters<typeof runTaskEvaluation>[0]> = {}): Promise<{ evaluated: number; skipped: number }> {
  const model = tinyGpt();
  try {
    return await runTaskEvaluation({ method: 'ttt', model, tokenizer, retriever, tasks: ['boolq'], numFewshot: 0, taskData, resultsDir, numNeighbors: 2, learningRate: 1e-2, valPortion: 1, distanceThreshold: Infinity, progress: () => undefined, ...extra });
  } finally {
    model.dispose();
  }
}

test('TTT-NN on boolq: the context\'s nearest neighbours, accuracy after 0..k of them, point 0 the untrained answer, training on the answered question raises its answer\'s log-likelihood', async () => {
  const resultsDir = mkdtempSync(join(dir, 'results-'));
  assert.deepEqual(await evaluate(resultsDir), { evaluated: 12, skipped: 0 });
  const lines = readLines(resultsDir, 'ttt');
  assert.equal(lines.length, 12);
  const task = HarnessTask.load('boolq', taskData);
  const docs = task.documents(0);
  const model = tinyGpt();
  let raised = 0;
  try {
    for (const line of lines) {
      const doc = docs[line.doc_id]!;
      assert.equal(line.kind, 'task');
      assert.equal(line.metrics.length, 3, 'accuracy after 0, 1 and 2 neighbours');
      for (const m of line.metrics) assert.ok(m['acc,none'] === 0 || m['acc,none'] === 1);
      // The neighbours are the query's (the few-shot context's) nearest, nearest first.
      const nearest = await retriever.retrieve(doc.context, 2);
      assert.deepEqual(line.neighbor_ids, nearest.neighbors.map((n) => n.id), `doc ${line.doc_id}: the context's neighbours`);
      // Point 0 is the untrained model's answer; the weights were restored after the previous documents.
      const untrained = scoreRequests(model, tokenizer, doc.requests);
      line.responses[0]!.forEach((r, j) => assert.ok(r.type === 'loglikelihood' && untrained[j]!.type === 'loglikelihood' && Math.abs(r.loglikelihood - untrained[j]!.loglikelihood) < 1e-4, `doc ${line.doc_id} request ${j} before training`));
      const gold = doc.doc['label'] as number;
      const ll = (step: number): number => (line.responses[step]![gold] as { loglikelihood: number }).loglikelihood;
      if (ll(1) > ll(0)) raised++;
    }
  } finally {
    model.dispose();
  }
  assert.ok(raised >= 10, `training on the answered question (the nearest neighbour) raised the right answer's log-likelihood for ${raised} of 12 documents`);
});

test('an interrupted task run resumes to the lines of an uninterrupted one (AdamW moments per task carried over)', async () => {
  const whole = mkdtempSync(join(dir, 'results-'));
  await evaluate(whole, { docsPerTask: 5 });
  const split = mkdtempSync(join(dir, 'results-'));
  let finished = 0;
  await assert.rejects(evaluate(split, { docsPerTask: 5, onDocument: () => finished++, shouldStop: () => finished >= 2 }), /interrupted/);
  assert.deepEqual(await evaluate(split, { docsPerTask: 5 }), { evaluated: 3, skipped: 2 });
  const strip = (ls: TaskResult[]): unknown[] => ls.map((l) => ({ id: l.doc_id, m: l.metrics, n: l.neighbor_ids, r: l.responses.map((rs) => rs.map((r) => (r.type === 'loglikelihood' ? Math.round(r.loglikelihood * 1e3) : r))) }));
  assert.deepEqual(strip(readLines(split, 'ttt')), strip(readLines(whole, 'ttt')));
});

test('tttnn eval --tasks boolq --num-fewshot 2 runs dynamic evaluation on the few-shot context; context and interpolation are refused, saying why', () => {
  const resultsDir = mkdtempSync(join(dir, 'results-'));
  const run = spawnSync(process.execPath, [CLI, 'eval', '--method', 'dynamic', '--model', modelDir, '--tasks', 'boolq', '--num-fewshot', '2', '--task-data', taskData, '--results-dir', resultsDir, '--val-portion', '1', '--num-neighbors', '2', '--learning-rate', '1e-3', '--docs-per-task', '3'], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  assert.deepEqual(JSON.parse(run.stdout.trim().split('\n').at(-1)!), { evaluated: 3, skipped: 0 });
  const lines = readLines(resultsDir, 'dynamic');
  assert.equal(lines.length, 3);
  for (const l of lines) {
    assert.equal(l.num_fewshot, 2);
    assert.equal(l.metrics.length, 3);
    assert.equal(l.train_losses!.length, 2);
  }
  const again = spawnSync(process.execPath, [CLI, 'eval', '--method', 'dynamic', '--model', modelDir, '--tasks', 'boolq', '--num-fewshot', '2', '--task-data', taskData, '--results-dir', resultsDir, '--val-portion', '1', '--num-neighbors', '2', '--learning-rate', '1e-3', '--docs-per-task', '3'], { encoding: 'utf8' });
  assert.deepEqual(JSON.parse(again.stdout.trim().split('\n').at(-1)!), { evaluated: 0, skipped: 3 }, 'a rerun resumes');
  for (const method of ['context', 'interpolation']) {
    const refused = spawnSync(process.execPath, [CLI, 'eval', '--method', method, '--model', modelDir, '--tasks', 'boolq', '--task-data', taskData, '--results-dir', resultsDir], { encoding: 'utf8' });
    assert.notEqual(refused.status, 0);
    assert.match(refused.stderr, new RegExp(`--method ${method} does not apply to downstream tasks: .*; use ttt, random, dynamic`));
  }
  const other = spawnSync(process.execPath, [CLI, 'eval', '--method', 'dynamic', '--model', modelDir, '--tasks', 'boolq', '--num-fewshot', '1', '--task-data', taskData, '--results-dir', resultsDir, '--val-portion', '1', '--num-neighbors', '2', '--learning-rate', '1e-3', '--docs-per-task', '3'], { encoding: 'utf8' });
  assert.notEqual(other.status, 0, 'another --num-fewshot into the same directory is refused');
  assert.match(other.stderr, /holds results of another configuration \(tasks: was \{"boolq":\{"num_fewshot":2,.*now \{"boolq":\{"num_fewshot":1,/);
  const unknown = spawnSync(process.execPath, [CLI, 'eval', '--method', 'dynamic', '--model', modelDir, '--tasks', 'nosuch', '--results-dir', resultsDir], { encoding: 'utf8' });
  assert.match(unknown.stderr, /unknown task "nosuch"/);
});

test('tttnn report on task results: accuracy at 0 and after k neighbours with intervals, the curve, and TTT-NN paired against random documents', async () => {
  const resultsDir = mkdtempSync(join(dir, 'results-'));
  await evaluate(resultsDir, { docsPerTask: 8 });
  await evaluate(resultsDir, { docsPerTask: 8, method: 'random' });
  const out = join(dir, 'report');
  const run = spawnSync(process.execPath, [CLI, 'report', '--results-dir', resultsDir, '--out', out, '--resamples', '200'], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  const md = readFileSync(join(out, 'tasks.md'), 'utf8');
  const ttt = readLines(resultsDir, 'ttt');
  const mean = (step: number): number => ttt.reduce((s, l) => s + (l.metrics[step]!['acc,none'] as number), 0) / ttt.length;
  const row = md.split('\n').find((l) => l.startsWith('| boolq | ttt | acc,none | 8 | 0 |'));
  assert.ok(row, md);
  assert.ok(row.includes(`| ${mean(0).toFixed(4)} [`) && row.includes(`| 2 | ${mean(2).toFixed(4)} [`), `${row}: the means of the lines at 0 and 2 neighbours`);
  assert.match(md, /\| boolq \| acc,none \| random \| 8 \| -?\d\.\d{4} \[-?\d\.\d{4}, -?\d\.\d{4}\] \| (TTT-NN better|TTT-NN worse|no clear difference) \|/);
  assert.match(md, /\| average of 1 task\(s\) \| ttt \| acc,none \|/);
  const json = JSON.parse(readFileSync(join(out, 'tasks.json'), 'utf8')) as Record<string, Record<string, { curves: Record<string, number[]> }>>;
  assert.deepEqual(json['ttt']!['boolq']!.curves['acc,none'], [0, 1, 2].map(mean));
});
