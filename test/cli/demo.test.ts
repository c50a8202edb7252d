// A reduced demo end to end (tiny corpus, a few training steps, one test
// document per domain, 2 neighbours): every stage runs for real, the report
// is written, the servers are gone afterwards; a rerun reuses every
// artifact; Ctrl-C during the evaluation stops the servers too.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';

const cli = resolve('bin/tttnn.js');
const artifacts = mkdtempSync(join(tmpdir(), 'tttnn-demo-'));
after(() => rmSync(artifacts, { recursive: true, force: true }));
const FLAGS = ['demo', '--artifacts', artifacts, '--size', '2', '--gpt-steps', '6', '--roberta-steps', '6', '--train-seconds', '60', '--neighbors', '2', '--docs-per-task', '1'];
const run = join(artifacts, 'run-2mb');

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

test('the reduced demo runs every stage, writes the report and stops its servers', { timeout: 900_000 }, async () => {
  const first = spawnSync(process.execPath, [cli, ...FLAGS], { encoding: 'utf8', timeout: 800_000 });
  assert.equal(first.status, 0, first.stderr.slice(-3000));
  for (const stage of ['1/6 corpus', '2/6 models', '3/6 index', '4/6 shard servers', '5/6 evaluation', '6/6 report']) assert.ok(first.stdout.includes(stage), stage);
  // The pile_all table has every method with bootstrap intervals.
  for (const method of ['ttt', 'context', 'interpolation', 'dynamic', 'random']) assert.match(first.stdout, new RegExp(`\\| ${method} \\| \\d+ \\| \\d+\\.\\d{4} \\[\\d+\\.\\d{3}, \\d+\\.\\d{3}\\] \\|`));
  const html = /report: +(\S+report\.html)/.exec(first.stdout)?.[1];
  assert.ok(html && existsSync(html), 'the report path is printed and exists');
  assert.match(readFileSync(html, 'utf8'), /<svg/);
  const results = join(run, 'results');
  const [runDir] = readdirSync(results);
  assert.deepEqual(readdirSync(join(results, runDir!)).sort(), ['context', 'dynamic', 'interpolation', 'random', 'ttt']);
  // One test document of every domain was evaluated by TTT-NN.
  const domains = Object.keys((JSON.parse(readFileSync(join(artifacts, 'corpus-2mb', 'manifest.json'), 'utf8')) as { weights: Record<string, number> }).weights);
  assert.equal(readdirSync(join(results, runDir!, 'ttt')).filter((f) => f.endsWith('.jsonl')).length, domains.length);
  await serversDown();

  // A rerun reuses the corpus, models, index and results.
  const second = spawnSync(process.execPath, [cli, ...FLAGS], { encoding: 'utf8', timeout: 300_000 });
  assert.equal(second.status, 0, second.stderr.slice(-3000));
  for (const reused of ['reusing the corpus', 'reusing', '0 documents evaluated']) assert.ok(second.stdout.includes(reused), reused);
  await serversDown();
});

test('Ctrl-C during the demo stops the shard servers', { timeout: 300_000 }, async () => {
  // Artifacts exist from the test above, so the demo reaches its servers at once; a new learning rate makes new result files to evaluate.
  const child = spawn(process.execPath, [cli, ...FLAGS, '--learning-rate', '1e-4'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  await new Promise<void>((started, failed) => {
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('5/6 evaluation')) started();
    });
    child.once('exit', () => failed(new Error(`the demo exited before its evaluation: ${out.slice(-2000)}`)));
  });
  child.kill('SIGINT');
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  assert.equal(code, 130);
  await serversDown();
});
