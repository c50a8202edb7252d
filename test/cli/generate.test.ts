// `tttnn generate` on a tiny GPT-2, a tiny RoBERTa embedder and a real fleet
// on 127.0.0.1: the neighbours it prints are the fleet's nearest, the same
// seed gives the same output, the continuation before training is plain
// generation, training changes the continuation, the weights (or the LoRA
// adapter) are gone afterwards, and the streamed text is the JSON's.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import { tidy } from '../../src/engine/index.js';
import { generateWithTtt } from '../../src/eval/ttt-generate.js';
import { resolveSettings } from '../../src/eval/settings.js';
import { generate } from '../../src/models/index.js';
import { gpt2Tokenizer } from '../../src/tokenizers/index.js';
import type { GenerateResult } from '../../src/cli/generate.js';
import { DOCS, startTinyTtt, type TinyTtt } from '../helpers/tiny-ttt.js';

const CLI = new URL('../../../bin/tttnn.js', import.meta.url).pathname;
const tokenizer = gpt2Tokenizer();
const PROMPT = DOCS[0]!;
let tiny: TinyTtt;
let modelDir = '';
let FLEET: string[] = [];

before(async () => {
  tiny = await startTinyTtt('generate');
  modelDir = tiny.modelDir;
  FLEET = ['--embedder', tiny.embedderDir, '--addresses', tiny.addresses, '--token-file', tiny.tokenFile];
});

after(async () => {
  await tiny?.stop();
});

const run = (args: string[]): string => execFileSync(process.execPath, [CLI, 'generate', '--model', modelDir, '--prompt', PROMPT, '--max-new-tokens', '12', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const runJson = (args: string[]): GenerateResult => JSON.parse(run([...args, '--json'])) as GenerateResult;

test('tttnn generate: the fleet\'s nearest neighbours, reproducible under a seed, before = plain generation, training changes the continuation', async () => {
  const args = [...FLEET, '--num-neighbors', '3', '--learning-rate', '1e-2', '--seed', '7'];
  const first = runJson(args);
  const second = runJson(args);
  const without = (r: GenerateResult): unknown => ({ ...r, seconds: undefined });
  assert.deepEqual(without(second), without(first), 'the same seed gives the same output');
  // The neighbours are the fleet's three nearest to the prompt, nearest first, with plain L2 distances.
  const nearest = await (await tiny.retriever()).retrieve(PROMPT, 3);
  assert.deepEqual(first.neighbors.map((n) => n.id), nearest.neighbors.map((n) => n.id));
  first.neighbors.forEach((n, i) => assert.ok(Math.abs(n.distance - nearest.neighbors[i]!.distance) < 1e-5));
  assert.equal(first.neighbors[0]!.id, 0, 'the prompt is training document 0');
  assert.equal(first.neighbors[0]!.first_words, `${PROMPT.split(' ').slice(0, 12).join(' ')} …`);
  assert.equal(first.train_losses.length, 3);
  assert.ok(first.seconds.retrieval > 0 && first.seconds.training > 0 && first.seconds.generation_before > 0 && first.seconds.generation_after > 0, JSON.stringify(first.seconds));
  assert.notEqual(first.after, first.before, 'training on the neighbours changed the sampled continuation');
  // Before training is plain generation: --num-neighbors 0 with the same seed samples the same text, without a fleet.
  const plain = runJson(['--num-neighbors', '0', '--seed', '7']);
  assert.equal(plain.after, first.before);
  assert.equal(plain.before, undefined);
  assert.deepEqual(plain.neighbors, []);
  // A different seed samples something else; greedy needs no seed to repeat itself.
  assert.notEqual(runJson(['--num-neighbors', '0', '--seed', '8']).after, plain.after);
  assert.equal(runJson(['--num-neighbors', '0', '--temperature', '0']).after, runJson(['--num-neighbors', '0', '--temperature', '0', '--no-cache']).after);
  // The streamed text is the prompt and the continuations, then the neighbours and the seconds.
  const streamed = run(args);
  const before = streamed.indexOf('--- before TTT-NN ---\n');
  const neighbours = streamed.indexOf('--- 3 neighbours ---\n');
  const afterAt = streamed.indexOf('--- after TTT-NN ---\n');
  assert.ok(before > 0 && neighbours > before && afterAt > neighbours, streamed);
  assert.equal(streamed.slice(before + 22, neighbours).trim(), (PROMPT + first.before).trim());
  assert.ok(streamed.slice(neighbours).includes(`  1  id 0  distance`));
  assert.ok(streamed.includes(PROMPT + first.after), streamed);
  assert.match(streamed, /seconds: retrieval \d+\.\d+, training \d+\.\d+, generation \d+\.\d+ before \+ \d+\.\d+ after/);
  // Bad input names the flag.
  assert.throws(() => run(['--num-neighbors', '2']), /--num-neighbors > 0 needs --embedder, --addresses and --token-file/);
  assert.throws(() => run(['--num-neighbors', '0', '--top-p', '0']), /--top-p must be in \(0, 1\]/);
});

for (const trainable of ['full', 'lora'] as const) {
  test(`generateWithTtt (--trainable ${trainable}) leaves the model as it found it`, async () => {
    const retriever = await tiny.retriever();
    const model = tiny.tinyGpt();
    try {
      const sums = (): number[] => tidy(() => model.parameters.list().map((t) => t.sum().item()));
      const start = sums();
      const settings = resolveSettings('ttt', { modelType: 'gpt2', contextLength: 64 }, { numNeighbors: 2, learningRate: trainable === 'lora' ? 1e-1 : 1e-2, trainable }); // a LoRA B starts at zero: a larger step to move the greedy path
      const result = await generateWithTtt(model, tokenizer, retriever, { prompt: PROMPT, maxNewTokens: 8, sampling: { temperature: 0 }, seed: 1, settings });
      assert.equal(result.neighbors.length, 2);
      assert.equal(result.trainLosses.length, 2);
      assert.notDeepEqual(result.after, result.before, 'greedy continuation changed by training');
      assert.deepEqual(sums(), start, 'weights restored');
      assert.ok([...model.parameters.denseLayers().values()].every((l) => l.adapter === undefined), 'no adapter left attached');
      assert.deepEqual(result.before, generate(model, result.promptTokens, { maxNewTokens: 8, eosTokenId: 50256 }).slice(result.promptTokens.length), 'the model generates as before');
      // A signal already aborted stops before retrieval: nothing trained, nothing left behind.
      const controller = new AbortController();
      controller.abort();
      const stopped = await generateWithTtt(model, tokenizer, retriever, { prompt: PROMPT, maxNewTokens: 8, sampling: { temperature: 0 }, seed: 1, settings }, { signal: controller.signal });
      assert.equal(stopped.aborted, true);
      assert.deepEqual(stopped.neighbors, []);
      assert.deepEqual(sums(), start);
    } finally {
      model.dispose();
    }
  });
}
