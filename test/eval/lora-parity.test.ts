// --trainable lora against PEFT itself (reference venv: transformers + peft
// + torch): on a tiny GPT-2 and a tiny GPT-Neo, starting from a PEFT adapter
// whose B is not zero, the TTT curves of 3 documents with 3 neighbours each
// (one AdamW per task, so the moments carry from document to document while
// the adapter is reset) equal a loop of PEFT + torch.optim.AdamW +
// clip_grad_norm_ (test/reference/peft_lora.py) to 1e-4, the base weights
// are bit-identical after the evaluation, and a rerun with PEFT's default
// initialisation gives the same curves. Retrieval runs on real shard
// servers; the reference trains on the neighbours tttnn's lines name
// (retrieval's own parity is test/eval/parity.test.ts).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { manualSeed, noGrad, randn, tidy } from '../../src/engine/index.js';
import { runEvaluation } from '../../src/eval/runner.js';
import type { FleetRetriever } from '../../src/eval/retriever.js';
import { createModel, loadCausalLM, LoraAdapter, LORA_TARGET_MODULES, saveModel, type CausalLM, type RawConfig } from '../../src/models/index.js';
import { gpt2Tokenizer, saveTokenizer } from '../../src/tokenizers/index.js';
import { assertClose } from '../helpers/assert-close.js';
import { startTinyFleet, type TinyFleet } from '../helpers/tiny-fleet.js';
import { runPython } from '../helpers/python.js';
import { refVenvPython } from '../helpers/ref-venv.js';
import { readResultLines } from '../helpers/results.js';

const CLI = new URL('../../../bin/tttnn.js', import.meta.url).pathname;
const REFERENCE = readFileSync(new URL('../../../test/reference/peft_lora.py', import.meta.url), 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'tttnn-lora-eval-'));
const tokenizer = gpt2Tokenizer();
const N_CTX = 32;
const LEARNING_RATE = 3e-3;
const TOPICS = ['The lighthouse keeper counted ships in the fog every night', 'def parse(tokens): return [t.strip() for t in tokens if t]', 'Solve 3*x + 7 = 22 for x. The answer is 5'];
const testDocs = TOPICS.map((t, i) => `${t}. ${t.split(' ').reverse().join(' ')} ${i}.`);
// Neighbour texts longer than one training window of 32 tokens: two steps each, the second on a short tail.
const trainTexts = Array.from({ length: 24 }, (_, i) => `${TOPICS[i % 3]} variant ${i} with more words ${i * 7}. ${TOPICS[(i + 1) % 3]} and then ${i}.`);
const trainData = join(dir, 'train.jsonl');
const testData = join(dir, 'test.jsonl');
const CONFIGS: Record<string, RawConfig> = {
  gpt2: { model_type: 'gpt2', vocab_size: 50257, n_positions: N_CTX, n_embd: 16, n_layer: 2, n_head: 2, embd_pdrop: 0, attn_pdrop: 0, resid_pdrop: 0 },
  gpt_neo: { model_type: 'gpt_neo', vocab_size: 50257, max_position_embeddings: N_CTX, hidden_size: 16, num_layers: 2, num_heads: 2, attention_types: [[['global', 'local'], 1]], window_size: 8 },
};

let fleet: TinyFleet;
let retriever: FleetRetriever;

before(async () => {
  writeFileSync(trainData, trainTexts.map((text) => JSON.stringify({ text, meta: { pile_set_name: 'Github' } })).join('\n') + '\n');
  writeFileSync(testData, testDocs.map((text) => JSON.stringify({ text, meta: { pile_set_name: 'Github' } })).join('\n') + '\n');
  fleet = await startTinyFleet(dir, trainData);
  ({ retriever } = fleet);
});

after(async () => {
  await fleet?.stop();
});

/** A tiny model of `type` and a PEFT adapter for it with B random (PEFT's own init has B zero), both saved. */
function modelAndAdapter(type: string): { modelDir: string; adapterDir: string } {
  manualSeed(17);
  const model = createModel(CONFIGS[type]!) as CausalLM;
  const modelDir = join(dir, `${type}-model`);
  const adapterDir = join(dir, `${type}-adapter`);
  try {
    saveModel(model, modelDir);
    saveTokenizer(tokenizer, modelDir);
    const adapter = LoraAdapter.attach(model, { rank: 4, alpha: 8, dropout: 0, targets: LORA_TARGET_MODULES[type]!.modules }, { from: 'peft-default' });
    noGrad(() => adapter.list().forEach((t, i) => i % 2 === 1 && tidy(() => t.copy_(randn(t.shape).mul(0.2)))));
    adapter.save(adapterDir);
  } finally {
    model.dispose();
  }
  return { modelDir, adapterDir };
}

interface Reference {
  curves: number[][][];
  base_change: number;
  adapted: number;
}

/** PEFT's curves for the documents and neighbours of our result lines. */
function peftCurves(modelDir: string, adapterDir: string, lines: ReturnType<typeof readResultLines>): Reference {
  // The lines are in evaluation order, which the reference keeps (AdamW's moments carry over).
  const ordered = lines.map((l) => ({ scored: tokenizer.encode(testDocs[l.doc_id]!), train: l.neighbor_ids.map((id) => tokenizer.encode(trainTexts[id]!)) }));
  return runPython<Reference>(REFERENCE, {
    model_dir: modelDir, adapter_dir: adapterDir, mode: 'ttt', tasks: [ordered],
    settings: { score_length: N_CTX, eos: tokenizer.eosTokenId, learning_rate: LEARNING_RATE, adam_epsilon: 1e-8, weight_decay: 0.01, max_length: N_CTX, stride: N_CTX, grad_clip: 1.0 },
  }, 600_000, {}, refVenvPython());
}

for (const type of ['gpt2', 'gpt_neo']) {
  test(`${type}: --trainable lora from a PEFT adapter: PEFT + AdamW + clip_grad_norm_'s curves to 1e-4; the base weights bit-identical afterwards`, async () => {
    const { modelDir, adapterDir } = modelAndAdapter(type);
    const resultsDir = mkdtempSync(join(dir, `results-${type}-`));
    const model = loadCausalLM(modelDir);
    const before = model.parameters.entries().map(([name, t]) => [name, t.toNumbers()] as const);
    try {
      await runEvaluation({
        method: 'ttt', model, tokenizer, retriever, data: testData, tasks: 'pile_all', resultsDir, numNeighbors: 3, distanceThreshold: Infinity, valPortion: 1,
        learningRate: LEARNING_RATE, trainable: 'lora', loraInit: adapterDir, progress: () => undefined,
      });
      for (const [name, values] of before) assert.deepEqual(model.parameters.get(name).toNumbers(), values, `${name} is bit-identical after the evaluation`);
      assert.ok(model.parameters.list().every((t) => t.requiresGrad), 'the adapter is gone and the base unfrozen after the run');
    } finally {
      model.dispose();
    }
    const lines = readResultLines(resultsDir, 'ttt+lora');
    assert.equal(lines.length, 3);
    assert.ok(lines.every((l) => l.neighbor_ids.length === 3 && l.loglikelihoods!.length === 4));
    assert.ok(lines.some((l) => l.train_losses!.some((losses) => losses.length === 2)), 'a neighbour took two training steps');
    const reference = peftCurves(modelDir, adapterDir, lines);
    assert.equal(reference.base_change, 0, "PEFT's base weights did not move either");
    assert.equal(reference.adapted, LORA_TARGET_MODULES[type]!.modules.length * 2, 'PEFT adapted the same number of layers');
    lines.forEach((line, i) => assertClose(line.loglikelihoods!, reference.curves[0]![i]!, 1e-4, `${type} document ${line.doc_id}`));
    assert.ok(lines.every((l) => l.loglikelihoods!.at(-1) !== l.loglikelihoods![0]), 'training moved every curve');
  });
}

test('tttnn eval --trainable lora with PEFT\'s default initialisation: a rerun gives the same curves; --lora-init with another rank is refused', () => {
  const modelDir = join(dir, 'gpt2-model');
  if (!existsSync(modelDir)) modelAndAdapter('gpt2');
  const run = (resultsDir: string, extra: string[] = []): ReturnType<typeof spawnSync> =>
    spawnSync(process.execPath, [CLI, 'eval', '--method', 'ttt', '--model', modelDir, '--embedder', fleet.encoderDir, '--addresses', fleet.addresses, '--token-file', fleet.tokenFile,
      '--data', testData, '--results-dir', resultsDir, '--num-neighbors', '2', '--distance-threshold', 'inf', '--learning-rate', String(LEARNING_RATE), '--val-portion', '1',
      '--trainable', 'lora', ...extra], { encoding: 'utf8' });
  const curves = (resultsDir: string): number[][] => readResultLines(resultsDir, 'ttt+lora').map((l) => l.loglikelihoods!);
  const [first, second] = [mkdtempSync(join(dir, 'rerun-')), mkdtempSync(join(dir, 'rerun-'))];
  for (const d of [first, second]) {
    const r = run(d, ['--lora-rank', '2', '--lora-alpha', '16']);
    assert.equal(r.status, 0, String(r.stderr));
  }
  assert.deepEqual(curves(first), curves(second));
  assert.ok(curves(first).every((c) => c.at(-1) !== c[0]), 'B starts at zero, yet training moves the curves');
  const refused = run(mkdtempSync(join(dir, 'refused-')), ['--lora-init', join(dir, 'gpt2-adapter'), '--lora-rank', '2']);
  assert.equal(refused.status, 1);
  assert.match(String(refused.stderr), /--lora-rank 2 differs from the starting adapter's \(4 in .*gpt2-adapter\/adapter_config.json\): drop the flag/);
});
