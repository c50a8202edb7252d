// Benchmark: a Llama-3.2-1B-shaped model with random weights (its config
// only: bench/llama-3.2-1b.ts; nothing downloaded), written as a safetensors
// directory by transformers into a temporary directory and loaded from it by
// both sides: tttnn, and PyTorch 2.x with transformers' LlamaForCausalLM
// (sdpa attention) from .venv-ref, on the same CPU in the same run, fp32 and
// bf16 (autocast on both sides; bf16 only where the CPU has AVX512_BF16 or
// AMX, or BENCH_BF16=1).
//
//   forward: tokens per second of a no-grad forward pass (logits) over SEQ tokens, all 16 layers;
//   TTT step: one training step on a SEQ-token neighbour window (forward, backward, clipping at
//             1.0, AdamW) plus one evaluation of a SEQ-token document — what a neighbour costs in
//             `tttnn eval --method ttt` (ours: eval/ttt.ts's own loop, its train + eval seconds).
//
// A TTT step on all 16 layers holds the float32 weights, their gradients, AdamW's two moments and
// the reset snapshot: 20 bytes per parameter, ~25 GB for 1.24 B — more than a 24 GB machine. So
// the TTT step runs on the 1B's widths (vocabulary, d 2048, GQA 32/8 heads, MLP 8192) with
// BENCH_TTT_LAYERS layers (default 2); set 16 where memory allows.
//
//   npm run bench:llama    BENCH_SEQ (default 128 tokens), BENCH_REPEATS (forward passes timed,
//                          default 2), BENCH_TTT_LAYERS (default 2). Default run: about 10 minutes
//                          on 2 cores.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AdamW, getNumThreads, inference, snapshotParameters, tensor, withPrecision, withPrecisionAsync } from '../src/engine/index.js';
import { testTimeTrain } from '../src/eval/ttt.js';
import { loadCausalLM } from '../src/models/index.js';
import { refVenvPython } from '../test/helpers/ref-venv.js';
import { formatTable, measureBf16, precisionsToMeasure, printEngineHeader } from './helpers.js';
import { LLAMA_3_2_1B } from './llama-3.2-1b.js';

const SEQ = Number(process.env['BENCH_SEQ'] ?? 128);
const REPEATS = Number(process.env['BENCH_REPEATS'] ?? 2);
const TTT_LAYERS = Number(process.env['BENCH_TTT_LAYERS'] ?? 2);
const VOCAB = LLAMA_3_2_1B.vocab_size;
const tokens = (seed: number): number[] => Array.from({ length: SEQ }, (_, i) => (i * 7919 + seed * 104729 + 17) % VOCAB);

const WRITE = String.raw`
import json, sys, torch
from transformers import AutoConfig, AutoModelForCausalLM
d = json.load(sys.stdin)
for i, (directory, config) in enumerate(d['dirs']):
    torch.manual_seed(i)
    model = AutoModelForCausalLM.from_config(AutoConfig.for_model('llama', **config), dtype=torch.bfloat16)
    model.save_pretrained(directory, max_shard_size='1GB')
    del model
print(json.dumps(None))
`;

// PyTorch 2.x as a transformers user runs it; the same protocol as ours below.
const PYTORCH = String.raw`
import json, sys, time
import torch, torch.nn.functional as F
from transformers import AutoModelForCausalLM
d = json.load(sys.stdin)
torch.set_num_threads(d['threads'])
torch.manual_seed(0)
bf16 = d['bf16']
model = AutoModelForCausalLM.from_pretrained(d['dir'], dtype=torch.float32, attn_implementation='sdpa')
seq, vocab = d['seq'], d['vocab']
def ids(seed):
    return torch.tensor([[(i * 7919 + seed * 104729 + 17) % vocab for i in range(seq)]])
doc = ids(0)
def forward():
    model.eval()
    with torch.no_grad(), torch.autocast('cpu', dtype=torch.bfloat16, enabled=bf16):
        return model(doc).logits
if d['what'] == 'forward':
    forward()
    t = time.perf_counter()
    for _ in range(d['repeats']): forward()
    print(json.dumps({'seconds': (time.perf_counter() - t) / d['repeats']}))
    sys.exit(0)
opt = torch.optim.AdamW(model.parameters(), lr=1e-5, eps=1e-8)
saved = [p.detach().clone() for p in model.parameters()]
def evaluate():
    model.eval()
    with torch.no_grad(), torch.autocast('cpu', dtype=torch.bfloat16, enabled=bf16):
        inputs = torch.cat([torch.tensor([[d['prefix']]]), doc[:, :-1]], 1)
        return -F.cross_entropy(model(inputs).logits[0].float(), doc[0], reduction='sum').item()
def train(seed):
    model.train(); opt.zero_grad()
    x = ids(seed)
    with torch.autocast('cpu', dtype=torch.bfloat16, enabled=bf16):
        logits = model(x).logits
    loss = F.cross_entropy(logits[:, :-1].float().reshape(-1, vocab), x[:, 1:].reshape(-1))
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0); opt.step()
def restore():
    with torch.no_grad():
        for p, q in zip(model.parameters(), saved): p.copy_(q)
evaluate(); train(1); evaluate(); restore()  # warm-up
t = time.perf_counter(); train(2); t_train = time.perf_counter() - t
t = time.perf_counter(); evaluate(); t_eval = time.perf_counter() - t
restore()
print(json.dumps({'seconds': t_train + t_eval}))
`;

function torch2(input: Record<string, unknown>): number {
  const out = execFileSync(refVenvPython(), ['-c', PYTORCH], { input: JSON.stringify({ ...input, threads: getNumThreads(), seq: SEQ, vocab: VOCAB, repeats: REPEATS }), encoding: 'utf8', maxBuffer: 1 << 26, stdio: ['pipe', 'pipe', 'ignore'] });
  return (JSON.parse(out.trim().split('\n').at(-1)!) as { seconds: number }).seconds;
}

/** Seconds of one no-grad forward over SEQ tokens, after one warm-up pass. */
function oursForward(dir: string): number {
  const model = loadCausalLM(dir);
  try {
    const ids = tensor(tokens(0), { dtype: 'int64', shape: [1, SEQ] });
    const once = (): void => inference(() => void model.logits(ids));
    once();
    const start = performance.now();
    for (let i = 0; i < REPEATS; i++) once();
    ids.dispose();
    return (performance.now() - start) / 1000 / REPEATS;
  } finally {
    model.dispose();
  }
}

/** Seconds of one training step plus one evaluation, as `tttnn eval --method ttt` runs them (after a warm-up neighbour). */
async function oursTttStep(dir: string, prefix: number): Promise<number> {
  const model = loadCausalLM(dir);
  const optimizer = new AdamW(model.parameters.list(), { lr: 1e-5, eps: 1e-8, weightDecay: 0.01 });
  const snapshot = snapshotParameters(model.parameters.list());
  try {
    const settings = { maxLength: SEQ, stride: SEQ, scoreLength: SEQ, gradClip: 1, resetWeights: true, seed: 0 };
    await testTimeTrain(model, optimizer, snapshot, tokens(0), prefix, [tokens(1)], settings); // warm-up
    const curve = await testTimeTrain(model, optimizer, snapshot, tokens(0), prefix, [tokens(2)], settings);
    return curve.trainSeconds[0]! + curve.evalSeconds[0]!;
  } finally {
    for (const t of snapshot) t.dispose();
    model.dispose();
  }
}

// This file run as `node dist/bench/llama.js --one forward|ttt DIR fp32|bf16`: one measurement of ours, in a process of
// its own, so that no model (nor the caching allocator's freed blocks) is held while PyTorch measures.
if (process.argv[2] === '--one') {
  const [what, dir, precision] = process.argv.slice(3) as ['forward' | 'ttt', string, 'fp32' | 'bf16'];
  const seconds = what === 'forward' ? withPrecision(precision, () => oursForward(dir)) : await withPrecisionAsync(precision, () => oursTttStep(dir, LLAMA_3_2_1B.bos_token_id));
  console.log(JSON.stringify({ seconds }));
  process.exit(0);
}

function ours(what: 'forward' | 'ttt', dir: string, precision: 'fp32' | 'bf16'): number {
  const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--one', what, dir, precision], { encoding: 'utf8', maxBuffer: 1 << 24, stdio: ['ignore', 'pipe', 'inherit'] });
  if (child.status !== 0) throw new Error(`ours (${what}, ${precision}) failed (exit ${child.status}, signal ${child.signal})`);
  return (JSON.parse(child.stdout.trim().split('\n').at(-1)!) as { seconds: number }).seconds;
}

const uptime = (): string => execFileSync('uptime', { encoding: 'utf8' }).trim();
console.log(`CPU: ${cpus()[0]?.model ?? 'unknown'} (${cpus().length} cores); load at start: ${uptime()}`);
printEngineHeader();
console.log(`bf16: ${measureBf16().why}`);
const root = mkdtempSync(join(tmpdir(), 'tttnn-bench-llama-'));
const full = join(root, 'llama-3.2-1b');
const shallow = join(root, `llama-3.2-1b-${TTT_LAYERS}-layers`);
try {
  console.log(`writing Llama-3.2-1B-shaped random checkpoints (bf16 safetensors, 1 GB shards) with transformers into ${root}: all 16 layers, and ${TTT_LAYERS} for the TTT step`);
  const written = spawnSync(refVenvPython(), ['-c', WRITE], { input: JSON.stringify({ dirs: [[full, LLAMA_3_2_1B], [shallow, { ...LLAMA_3_2_1B, num_hidden_layers: TTT_LAYERS }]] }), encoding: 'utf8', stdio: ['pipe', 'ignore', 'inherit'] });
  if (written.status !== 0) throw new Error('writing the checkpoints failed');
  const rows: (string | number)[][] = [];
  for (const precision of precisionsToMeasure()) {
    const bf16 = precision === 'bf16';
    // One side at a time, each in a process of its own holding the model alone (the machine's memory is shared).
    const forwardOurs = ours('forward', full, precision);
    const forwardTorch = torch2({ dir: full, what: 'forward', bf16 });
    const stepOurs = ours('ttt', shallow, precision);
    const stepTorch = torch2({ dir: shallow, what: 'ttt', bf16, prefix: LLAMA_3_2_1B.bos_token_id });
    rows.push([precision, SEQ / forwardOurs, SEQ / forwardTorch, forwardTorch / forwardOurs, stepOurs, stepTorch, stepTorch / stepOurs]);
    console.log(`${precision} done (${uptime()})`);
  }
  console.log(`\nLlama-3.2-1B shape, ${SEQ} tokens; forward: 16 layers, mean of ${REPEATS}; TTT step (train + eval): ${TTT_LAYERS} layers of the 1B's widths`);
  console.log(formatTable(['precision', 'fwd tok/s ours', 'fwd tok/s torch2', 'ours x', 'TTT step s ours', 'TTT step s torch2', 'ours x'], rows));
  console.log(`load at the end: ${uptime()}`);
} finally {
  rmSync(root, { recursive: true, force: true });
}
