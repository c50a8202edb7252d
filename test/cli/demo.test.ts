// A reduced demo end to end (tiny corpus, a small tokenizer, a few training
// steps, one test document per domain, 2 neighbours): every stage runs for
// real, the quality gates and the verdict are printed before and after the
// tables, the report is written, one generation before and after TTT-NN is
// kept, printed last and shown in the report, the servers are gone
// afterwards; a rerun reuses every artifact (the example too); Ctrl-C during training or evaluation stops within
// seconds with exit 130, stops the servers, and a rerun resumes.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';

const cli = resolve('bin/tttnn.js');
const artifacts = mkdtempSync(join(tmpdir(), 'tttnn-demo-'));
after(() => rmSync(artifacts, { recursive: true, force: true }));
const FLAGS = ['--size', '2', '--vocab-size', '512', '--gpt-steps', '6', '--roberta-steps', '6', '--gpt-seconds', '60', '--roberta-seconds', '60', '--neighbors', '2', '--docs-per-task', '1'];
const demo = (dir: string, ...more: string[]): string[] => [cli, 'demo', '--artifacts', dir, ...FLAGS, ...more];
const run = join(artifacts, 'run-2mb-2000b-v512');
const STAGES = ['1/8 corpus', '2/8 tokenizer', '3/8 language model', '4/8 encoder', '5/8 index', '6/8 shard servers', '7/8 evaluation', '8/8 report'];

/** Whether anything still listens on host:port. */
function listening(address: string): Promise<boolean> {
  const [host, port] = address.split(':');
  return new Promise((done) => {
    const socket = connect({ host, port: Number(port) });
    socket.once('connect', () => (socket.destroy(), done(true)));
    socket.once('error', () => done(false));
  });
}

async function serversDown(): Promise<void> {
  const addresses = readFileSync(join(run, 'addresses.txt'), 'utf8').split('\n').filter((l) => l.trim()).map((l) => l.split(/\s+/)[0] as string);
  assert.equal(addresses.length, 4, '2 slices x 2 replicas');
  // SIGTERM is asynchronous: give the fleet a few seconds (bounded) to go.
  for (let i = 0; i < 50; i++) {
    const up = await Promise.all(addresses.map(listening));
    if (!up.some(Boolean)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`shard servers still listening: ${addresses.join(' ')}`);
}

test('the reduced demo runs every stage, prints its quality gates and verdict, writes the report and stops its servers', { timeout: 900_000 }, async () => {
  const first = spawnSync(process.execPath, demo(artifacts), { encoding: 'utf8', timeout: 800_000 });
  assert.equal(first.status, 0, first.stderr.slice(-3000));
  for (const stage of STAGES) assert.ok(first.stdout.includes(stage), stage);
  // Quality gates, printed before any TTT number: the model against unigram, retrieval against chance, leakage.
  const gates = first.stdout.indexOf('quality gates:');
  assert.ok(gates > 0 && gates < first.stdout.indexOf('7/8 evaluation'), 'the gates come before the evaluation');
  assert.match(first.stdout, /unigram baseline: \d+\.\d{3} nats\/token/);
  for (const gate of [/(pass|FAIL) {2}language model: validation loss \(nats\/token\): \d+\.\d{3} after 6 steps/, /(pass|FAIL) {2}retrieval: neighbours from the query's domain \(precision@2\): \d\.\d{3} \(18 held-out documents\) vs random 0\.\d{3}/, /(pass|FAIL) {2}leakage: neighbours identical to the test document: \d+ of 36/]) {
    assert.match(first.stdout, gate);
  }
  // The report repeats them above its tables, and says whether TTT-NN won.
  assert.ok(first.stdout.indexOf('### Quality gates') < first.stdout.indexOf('### Does TTT-NN win?'));
  assert.match(first.stdout, /\| TTT on random documents \(control\) \| 18 \| [-+]\d+\.\d% \| [-+]\d+\.\d% \| [-+]\d+\.\d% \[[-+]\d+\.\d%, [-+]\d+\.\d%\] \| (TTT-NN better|TTT-NN worse|no clear difference) \|/);
  assert.match(first.stdout, /interpolation, alpha [\d.]+ chosen on validation documents/);
  assert.match(first.stdout, /\nVerdict: /);
  assert.match(first.stdout, /stage times: corpus [\d.ms]+, tokenizer [\d.ms]+, language model .*; demo finished in/);
  // The pile_all table has every method with bootstrap intervals.
  for (const method of ['ttt', 'context', 'interpolation', 'dynamic', 'random']) assert.match(first.stdout, new RegExp(`\\| ${method} \\| \\d+ \\| \\d+\\.\\d{4} \\[\\d+\\.\\d{3}, \\d+\\.\\d{3}\\] \\|`));
  const html = /report: +(\S+report\.html)/.exec(first.stdout)?.[1];
  assert.ok(html && existsSync(html), 'the report path is printed and exists');
  assert.match(readFileSync(html, 'utf8'), /<svg/);
  const results = join(run, 'results');
  const [runDir, validationDir] = readdirSync(results).sort();
  assert.equal(validationDir, `${runDir}.validation`);
  assert.deepEqual(readdirSync(join(results, runDir!)).sort(), ['context', 'dynamic', 'generation-example.json', 'interpolation', 'quality-gates.json', 'random', 'ttt']);
  // The worked example: the first scored document's first sentence, continued before and after TTT on its 2 neighbours.
  const exampleFile = join(results, runDir!, 'generation-example.json');
  const example = JSON.parse(readFileSync(exampleFile, 'utf8')) as { document: { task: string; id: number }; prompt: string; before: string; after: string; neighbors: { id: number; distance: number }[]; train_losses: number[]; max_new_tokens: number; learning_rate: number };
  assert.ok(example.prompt.length > 0 && example.prompt.length <= 160, example.prompt);
  assert.equal(example.max_new_tokens, 40);
  assert.equal(example.learning_rate, 3e-4);
  assert.equal(example.neighbors.length, 2);
  assert.equal(example.train_losses.length, 2);
  assert.equal(typeof example.before, 'string');
  assert.equal(typeof example.after, 'string');
  const testLines = readFileSync(join(artifacts, 'corpus-2mb-2000b', 'test', '00.jsonl'), 'utf8').split('\n');
  assert.ok((JSON.parse(testLines[example.document.id]!) as { text: string }).text.includes(example.prompt), 'the prompt is taken from the test document named');
  // Printed last, after the verdict, and in the report.
  assert.ok(first.stdout.indexOf('### Generation before and after TTT-NN') > first.stdout.indexOf('\nVerdict: '), 'the example comes after the verdict');
  assert.ok(first.stdout.includes(`test document ${example.document.id} (${example.document.task})`));
  const page = readFileSync(html, 'utf8');
  assert.match(page, /<h2 id="generation-example">Generation before and after TTT-NN<\/h2>/);
  for (const n of example.neighbors) assert.ok(page.includes(`<td>${n.id}</td><td>${n.distance.toFixed(4)}</td>`), `neighbour ${n.id} in report.html`);
  assert.deepEqual(readdirSync(join(results, validationDir)), ['interpolation']);
  // One test document of every domain was evaluated by TTT-NN.
  const domains = Object.keys((JSON.parse(readFileSync(join(artifacts, 'corpus-2mb-2000b', 'manifest.json'), 'utf8')) as { weights: Record<string, number> }).weights);
  assert.equal(readdirSync(join(results, runDir!, 'ttt')).filter((f) => f.endsWith('.jsonl')).length, domains.length);
  await serversDown();

  // A rerun reuses the corpus, models, index and results.
  const second = spawnSync(process.execPath, demo(artifacts), { encoding: 'utf8', timeout: 300_000 });
  assert.equal(second.status, 0, second.stderr.slice(-3000));
  for (const reused of ['corpus reused', 'tokenizer reused', 'reusing']) assert.ok(second.stdout.includes(reused), reused);
  assert.match(second.stderr, /ttt: 0 documents evaluated, 18 reused/);
  assert.doesNotMatch(second.stderr, /tiny-gpt: \d+ steps/, 'no training on a rerun');
  assert.match(second.stdout, /generation example: test document \d+ \(\S+\), reused/);
  assert.deepEqual(JSON.parse(readFileSync(exampleFile, 'utf8')), example, 'the rerun keeps the example');
  assert.ok(second.stdout.includes('### Generation before and after TTT-NN'), 'the rerun prints it too');
  await serversDown();
});

/** Starts the demo, waits for `stage` on its stdout, sends SIGINT, and returns its exit code and the seconds it took to exit. */
/**
 * Starts the demo, waits for `stage` and then `into` (by default 1.5 s; a
 * condition is polled every 100 ms for at most 120 s, so a loaded machine
 * does not send the interrupt before the stage has done anything), and
 * sends SIGINT.
 */
async function interrupt(dir: string, stage: string, ...more: (string | (() => boolean))[]): Promise<{ code: number | null; seconds: number; out: string }> {
  const into = more.find((m): m is () => boolean => typeof m === 'function');
  const args = more.filter((m): m is string => typeof m === 'string');
  const child = spawn(process.execPath, demo(dir, ...args), { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stderr.on('data', (chunk: Buffer) => void (out += chunk.toString()));
  await new Promise<void>((started, failed) => {
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes(stage)) started();
    });
    child.once('exit', () => failed(new Error(`the demo exited before ${stage}: ${out.slice(-2000)}`)));
  });
  if (into === undefined) await new Promise((r) => setTimeout(r, 1500)); // into the stage's work
  else for (let waited = 0; !into() && waited < 120_000; waited += 100) await new Promise((r) => setTimeout(r, 100));
  const sent = performance.now();
  child.kill('SIGINT');
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  return { code, seconds: (performance.now() - sent) / 1000, out };
}

test('Ctrl-C while the language model trains stops within seconds with exit 130 and leaves the model unfinished', { timeout: 600_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tttnn-demo-int-'));
  try {
    cpSync(join(artifacts, 'corpus-2mb-2000b'), join(dir, 'corpus-2mb-2000b'), { recursive: true });
    // Many steps, and a checkpoint every 25: the interrupt lands mid-training.
    const stopped = await interrupt(dir, '3/8 language model', '--gpt-steps', '100000', '--gpt-seconds', '600');
    assert.equal(stopped.code, 130, stopped.out.slice(-2000));
    assert.ok(stopped.seconds < 10, `exited ${stopped.seconds.toFixed(1)} s after SIGINT`);
    assert.match(stopped.out, /SIGINT: demo stopped; run the same command again to resume/);
    assert.ok(!existsSync(join(dir, 'run-2mb-2000b-v512', 'models', 'tiny-gpt', 'done.json')), 'an interrupted model is not marked finished');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('Ctrl-C during the evaluation stops within seconds, stops the shard servers, and keeps finished documents', { timeout: 300_000 }, async () => {
  // Artifacts exist from the first test, so the demo reaches its evaluation at once; a new learning rate makes new result files to evaluate.
  // The demo's --precision auto is bf16 on a CPU with AVX512_BF16 or AMX, and its results label says so.
  const { resolvePrecision } = await import('../../src/engine/precision.js');
  const label = `tiny-k2-d3-lr0.0001${resolvePrecision('auto').effective === 'bf16' ? '-bf16' : ''}`;
  const interrupted = join(run, 'results', label, 'ttt');
  // The interrupt comes once a document is finished (a result file exists).
  const finished = (): boolean => existsSync(interrupted) && readdirSync(interrupted).some((f) => f.endsWith('.jsonl'));
  const stopped = await interrupt(artifacts, '7/8 evaluation', '--learning-rate', '1e-4', '--docs-per-task', '3', finished);
  assert.equal(stopped.code, 130, stopped.out.slice(-2000));
  assert.ok(stopped.seconds < 10, `exited ${stopped.seconds.toFixed(1)} s after SIGINT`);
  await serversDown();
  // What was written is whole: every result line of the interrupted run parses (a rerun resumes after them).
  const files = readdirSync(interrupted).filter((f) => f.endsWith('.jsonl')); // beside them: AdamW's saved moments
  const lines = files.flatMap((f) => readFileSync(join(interrupted, f), 'utf8').split('\n').filter(Boolean));
  assert.ok(lines.length > 0, 'documents finished before the interrupt');
  for (const line of lines) assert.equal((JSON.parse(line) as { method: string }).method, 'ttt');
});
