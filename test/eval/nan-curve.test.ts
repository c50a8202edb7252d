// tttnn eval refuses a NaN log-likelihood instead of recording it (issue 35,
// point 8): a NaN point would make every mean of its task NaN, and a rerun
// would reuse it as finished. A real tiny GPT-2 whose weights are NaN (as
// test/models/config-bounds.test.ts poisons one for `tttnn score`), evaluated
// by dynamic evaluation (no shard servers) on a real data file.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { manualSeed, noGrad } from '../../src/engine/index.js';
import { runEvaluation } from '../../src/eval/runner.js';
import { createModel, type CausalLM } from '../../src/models/index.js';
import { gpt2Tokenizer } from '../../src/tokenizers/index.js';

const dir = mkdtempSync(join(tmpdir(), 'tttnn-nan-curve-'));
const data = join(dir, 'test.jsonl');
writeFileSync(data, JSON.stringify({ text: 'The quick brown fox jumps over the lazy dog. It was not amused at all.', meta: { pile_set_name: 'ArXiv' } }) + '\n');

function tinyModel(poison: boolean): CausalLM {
  manualSeed(5);
  const model = createModel({ model_type: 'gpt2', vocab_size: 50257, n_positions: 32, n_embd: 8, n_layer: 1, n_head: 2 }) as CausalLM;
  if (poison) noGrad(() => model.parameters.list().forEach((p) => p.fill_(Number.NaN)));
  return model;
}

const evaluate = (model: CausalLM, resultsDir: string) =>
  runEvaluation({ method: 'dynamic', model, tokenizer: gpt2Tokenizer(), data, tasks: 'pile_all', resultsDir, numNeighbors: 1, learningRate: 1e-3, valPortion: 1, docsPerTask: 1, progress: () => undefined });

const resultLines = (resultsDir: string): string[] => {
  const out: string[] = [];
  const walk = (d: string): void => {
    if (!existsSync(d)) return;
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      if (entry.isDirectory()) walk(join(d, entry.name));
      else if (entry.name.endsWith('.jsonl')) out.push(...readFileSync(join(d, entry.name), 'utf8').split('\n').filter(Boolean));
    }
  };
  walk(resultsDir);
  return out;
};

test('a model whose log-likelihood is NaN is refused naming the document, and nothing is recorded for it; a sound model records a finite curve', async () => {
  const sound = tinyModel(false);
  try {
    const resultsDir = join(dir, 'sound');
    assert.deepEqual(await evaluate(sound, resultsDir), { evaluated: 1, skipped: 0 });
    const lines = resultLines(resultsDir);
    assert.equal(lines.length, 1);
    const ll = (JSON.parse(lines[0]!) as { loglikelihoods: number[] }).loglikelihoods;
    assert.ok(ll.length === 2 && ll.every(Number.isFinite), `finite curve ${ll.join(", ")}`);
  } finally {
    sound.dispose();
  }
  const poisoned = tinyModel(true);
  try {
    const resultsDir = join(dir, 'poisoned');
    await assert.rejects(evaluate(poisoned, resultsDir), new RegExp(`${data}:1 \\(pile_arxiv doc 0\\): loglikelihoods\\[0\\] is NaN, not a log-likelihood to record \\(nothing was written for this document\\); the model's weights or config\\.json`));
    assert.deepEqual(resultLines(resultsDir), []);
  } finally {
    poisoned.dispose();
  }
});
