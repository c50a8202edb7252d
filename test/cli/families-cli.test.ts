// Every command that takes a model, on today's families (issue 30, point 4):
// tiny random Llama-3 and Qwen2 directories written by transformers'
// save_pretrained (test/reference/hf_decoders.py) and a sentence-transformers
// BERT embedder (st_encoders.py), through the CLI as a user runs it —
// `info --model` names the architecture it recognised, `score` gives HFLM's
// number, `index build` + `serve` + `eval` run the retrieving methods (ttt,
// context, interpolation) and dynamic evaluation, `eval` without a learning
// rate says what to pass, and `train --init` fine-tunes Qwen2 into a
// checkpoint that transformers loads and scores as tttnn does.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { ScoreResult } from '../../src/cli/score.js';
import { assertClose } from '../helpers/assert-close.js';
import { startFleetProcess, type FleetProcess } from '../helpers/fleet.js';
import { trainingTexts } from '../helpers/hf-tokenizers.js';
import { runRefVenvPython } from '../helpers/ref-venv.js';
import { readResultLines } from '../helpers/results.js';

const CLI = new URL('../../../bin/tttnn.js', import.meta.url).pathname;
const run = (args: string[]): string => execFileSync(process.execPath, [CLI, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

const SMALL = { hidden_size: 32, intermediate_size: 64, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 32, rms_norm_eps: 1e-5 };
const FAMILIES = {
  llama: {
    config: { ...SMALL, vocab_size: 400, tie_word_embeddings: true, bos_token_id: 0, eos_token_id: 1, rope_parameters: { rope_type: 'llama3', rope_theta: 500000, factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8 } },
    tokenizer: 'llama3',
  },
  qwen2: {
    config: { ...SMALL, vocab_size: 400, tie_word_embeddings: true, use_sliding_window: true, sliding_window: 6, max_window_layers: 1, rope_parameters: { rope_type: 'default', rope_theta: 1000000 } },
    tokenizer: 'qwen2',
  },
} as const;
type Family = keyof typeof FAMILIES;

const root = mkdtempSync(join(tmpdir(), 'tttnn-families-cli-'));
const texts = trainingTexts();
// The first test document fits one 32-token window (the context baseline puts neighbours only there), the second spans several.
const TEST_DOCS = ['Shard servers answer nearest neighbour queries.', texts[2]!.slice(0, 260)];
const DOC_FILE = join(root, 'doc.txt');
const dirs = { llama: join(root, 'llama'), qwen2: join(root, 'qwen2'), embedder: join(root, 'st-embedder') };
const rolling: Record<Family, number> = { llama: 0, qwen2: 0 };
const data = { train: join(root, 'train.jsonl'), test: join(root, 'test.jsonl') };
const tokenFile = join(root, 'token');
const addresses = join(root, 'addresses.txt');
let fleet: FleetProcess | undefined;

before(async () => {
  for (const family of Object.keys(FAMILIES) as Family[]) {
    const f = FAMILIES[family];
    const reference = runRefVenvPython<{ rolling: number[] }>('import hf_decoders; hf_decoders.main()', {
      family, dir: dirs[family], seed: 2, dtype: 'float32', layout: '5', config: f.config,
      tokenizer: { kind: f.tokenizer, vocab_size: 400, texts }, ids: [[1, 2, 3]], docs: [TEST_DOCS[1]],
    });
    rolling[family] = reference.rolling[0]!;
  }
  runRefVenvPython('import st_encoders; st_encoders.main()', {
    train_texts: texts, vocab_size: 300, texts: ['x'],
    cases: [{ dir: dirs.embedder, seed: 1, config: { hidden_size: 32, intermediate_size: 48, num_hidden_layers: 1, num_attention_heads: 4, max_position_embeddings: 64 }, pooling: 'mean', normalize: true, max_seq_length: 48 }],
  });
  writeFileSync(DOC_FILE, TEST_DOCS[1]!);
  const line = (text: string): string => JSON.stringify({ text, meta: { pile_set_name: 'Github' } });
  writeFileSync(data.train, texts.slice(3, 11).map((t) => line(t.slice(0, 240))).join('\n') + '\n');
  writeFileSync(data.test, TEST_DOCS.map(line).join('\n') + '\n');
  mkdirSync(join(root, 'index'));
  run(['index', 'build', '--data', data.train, '--embedder', dirs.embedder, '--out', join(root, 'index')]);
  writeFileSync(tokenFile, 'c'.repeat(32), { mode: 0o600 });
  fleet = await startFleetProcess({ data: data.train, index: join(root, 'index', 'train.jsonl.index'), slices: 1, replicas: 1, addresses, tokenFile });
});

after(async () => {
  await fleet?.stop();
});

test('`tttnn info --model` prints the architecture it recognised: Llama-3 (GQA, llama3 rope, tied), Qwen2 (biases, a sliding-window layer), the sentence-transformers embedder (BERT, pooling)', () => {
  const info = (dir: string): Record<string, unknown> => JSON.parse(run(['info', '--model', dir, '--json'])) as Record<string, unknown>;
  const llama = info(dirs.llama);
  assert.deepEqual([llama['modelType'], llama['kind'], llama['heads'], llama['kvHeads'], llama['tiedEmbeddings'], llama['contextLength'], llama['tokenizer'], llama['scoringPrefixTokenId']], ['llama', 'causal', 4, 2, true, 32, 'byte-level BPE', 0]);
  assert.match(String(llama['rope']), /^llama3, theta 500000/);
  const qwen2 = info(dirs.qwen2);
  assert.deepEqual([qwen2['modelType'], qwen2['biases'], qwen2['attention'], qwen2['bosTokenId']], ['qwen2', 'qkv', 'full, 6', null]);
  const embedder = info(dirs.embedder);
  assert.deepEqual([embedder['modelType'], embedder['kind'], embedder['pooling'], embedder['maxSeqLength'], embedder['tokenizer']], ['bert', 'encoder', 'mean, normalised', 48, 'WordPiece']);
  const text = run(['info', '--model', dirs.llama]);
  assert.match(text, /^modelType\s+llama$/m);
});

for (const family of Object.keys(FAMILIES) as Family[]) {
  test(`${family}: \`tttnn score\` equals HFLM.loglikelihood_rolling; \`tttnn eval --method ttt\` with the sentence-transformers index`, () => {
    const scored = JSON.parse(run(['score', '--model', dirs[family], '--text-file', DOC_FILE, '--json'])) as ScoreResult;
    assert.equal(scored.model_type, family);
    assertClose([scored.loglikelihood], [rolling[family]], 0, `${family} score`, 1e-4);
    const results = join(root, `results-${family}`);
    run(['eval', '--method', 'ttt', '--model', dirs[family], '--data', data.test, '--results-dir', results, '--val-portion', '1', '--learning-rate', '1e-3', '--num-neighbors', '2', '--embedder', dirs.embedder, '--addresses', addresses, '--token-file', tokenFile]);
    const lines = readResultLines(results, 'ttt');
    assert.equal(lines.length, TEST_DOCS.length);
    for (const l of lines) {
      assert.equal(l.neighbor_ids.length, 2, 'normalised vectors are within the 4.0 threshold');
      assert.equal(l.loglikelihoods?.length, 3, 'before and after each neighbour');
      assert.ok(l.loglikelihoods.every(Number.isFinite) && l.loglikelihoods[2] !== l.loglikelihoods[0], 'training moved the score');
    }
    const long = lines.find((l) => l.tokens > 32)!;
    assertClose([long.loglikelihoods![0]!], [rolling[family]], 0, `${family} eval before training`, 1e-4);
  });
}

test('llama: `tttnn eval` runs context, interpolation and dynamic; without --learning-rate it says what to pass', () => {
  const results = join(root, 'results-llama-baselines');
  const common = ['--model', dirs.llama, '--data', data.test, '--results-dir', results, '--val-portion', '1'];
  const fleetFlags = ['--embedder', dirs.embedder, '--addresses', addresses, '--token-file', tokenFile];
  run(['eval', '--method', 'context', ...common, ...fleetFlags, '--num-neighbors', '3', '--distance-threshold', 'inf']);
  const context = readResultLines(results, 'context');
  assert.deepEqual(context.map((l) => (l.tokens <= 32 ? l.context_neighbors! > 0 : l.context_neighbors === 0)), [true, true], 'neighbours in the context of the one-window document only');
  run(['eval', '--method', 'interpolation', ...common, ...fleetFlags, '--num-neighbors', '3']);
  const interpolation = readResultLines(results, 'interpolation');
  assert.ok(interpolation.every((l) => l.alpha_loglikelihoods!.length === 20 && l.alpha_loglikelihoods!.every(Number.isFinite)));
  run(['eval', '--method', 'dynamic', ...common, '--learning-rate', '1e-3', '--num-neighbors', '2']);
  assert.equal(readResultLines(results, 'dynamic').length, TEST_DOCS.length);
  const refused = spawnSync(process.execPath, [CLI, 'eval', '--method', 'ttt', ...common, ...fleetFlags], { encoding: 'utf8' });
  assert.notEqual(refused.status, 0);
  assert.match(refused.stderr, /no default learning rate for model type llama: pass --learning-rate <lr> \(the original's, for its models: gpt2 2e-5 .*none is published for llama\)/);
});

test('qwen2: `tttnn train --init` fine-tunes the directory; transformers loads the checkpoint and HFLM scores it as `tttnn score` does', () => {
  const out = join(root, 'qwen2-trained');
  run(['train', '--init', dirs.qwen2, '--data', data.train, '--out', out, '--max-steps', '2', '--batch-size', '2', '--seq-len', '32', '--lr', '1e-3']);
  const checkpoint = join(out, 'checkpoint-2');
  const scored = JSON.parse(run(['score', '--model', checkpoint, '--text-file', DOC_FILE, '--json'])) as ScoreResult;
  assert.notEqual(scored.loglikelihood, rolling.qwen2, 'training changed the weights');
  const reference = runRefVenvPython<{ rolling: number; model_type: string }>(
    `
import json, sys
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer
from lm_eval.api.instance import Instance
from lm_eval.models.huggingface import HFLM
spec = json.load(sys.stdin)
model = AutoModelForCausalLM.from_pretrained(spec["dir"], dtype=torch.float32)
tok = AutoTokenizer.from_pretrained(spec["dir"])
lm = HFLM(pretrained=model, tokenizer=tok, batch_size=1, add_bos_token=False)
[ll] = lm.loglikelihood_rolling([Instance(request_type="loglikelihood_rolling", doc={}, arguments=(spec["doc"],), idx=0)], disable_tqdm=True)
json.dump({"rolling": ll, "model_type": model.config.model_type}, sys.stdout)
`,
    { dir: checkpoint, doc: TEST_DOCS[1] },
  );
  assert.equal(reference.model_type, 'qwen2');
  assertClose([scored.loglikelihood], [reference.rolling], 0, 'the trained checkpoint, tttnn vs HFLM', 1e-4);
});
