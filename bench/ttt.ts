// Benchmark: seconds per neighbour of test-time training — one training step
// on a 1024-token neighbour window plus one evaluation of a 1024-token
// document — on a GPT-2-small-shaped model (12 layers, d 768), ours (the
// eval loop's own functions) vs the same in python3-torch at its best on
// this CPU, in the same run; fp32, and bf16 where the CPU has it. Beside
// them, the original's figure: 5.5 s per neighbour on an A100 (REFERENCE.md).
//
// Then full fine-tuning vs LoRA (--trainable lora: PEFT's defaults r 8,
// alpha 8, c_attn; AdamW over the adapter only; clipping at 1.0), ours vs
// PyTorch 2.x with Hugging Face transformers' GPT2LMHeadModel (sdpa) and
// PEFT's get_peft_model, each in a process of its own so that its peak
// resident memory (VmHWM) is its own: seconds per neighbour, the peak, and
// the peak's increase over the process with the model loaded.
//
//   npm run bench:ttt              (BENCH_QUICK=1: 4 layers, 512 tokens; BENCH_BF16=1 forces bf16;
//                                   BENCH_DEVICE=cuda: ours and PyTorch 2.x on the GPU, as scripts/gpu-check.sh runs it)
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { AdamW, cpuInfo, getNumThreads, manualSeed, snapshotParameters } from '../src/engine/index.js';
import { resolveSettings } from '../src/eval/settings.js';
import { trainableWeights } from '../src/eval/trainable.js';
import { testTimeTrain } from '../src/eval/ttt.js';
import { createModel, type CausalLM } from '../src/models/index.js';
import { BENCH_DEVICE, REFERENCE_DIR, bf16CeilingGflops, formatTable, forwardFlopsPerToken, fp32CeilingGflops, measureBf16, printEngineHeader, runTorch2, timeEachPrecision } from './helpers.js';

const QUICK = process.env['BENCH_QUICK'] === '1';
const SHAPE = QUICK ? { layers: 4, d: 512, heads: 8, seq: 512 } : { layers: 12, d: 768, heads: 12, seq: 1024 };
const NEIGHBORS = Number(process.env['BENCH_NEIGHBORS'] ?? 3);
const VOCAB = 50257;
const ORIGINAL_A100_SECONDS = 5.5;

async function ours(): Promise<number> {
  manualSeed(0);
  const model = createModel({ model_type: 'gpt2', vocab_size: VOCAB, n_positions: SHAPE.seq, n_embd: SHAPE.d, n_layer: SHAPE.layers, n_head: SHAPE.heads }, { device: BENCH_DEVICE }) as CausalLM;
  const optimizer = new AdamW(model.parameters.list(), { lr: 2e-5, eps: 1e-8, weightDecay: 0 });
  const snapshot = snapshotParameters(model.parameters.list());
  const tokens = (seed: number): number[] => Array.from({ length: SHAPE.seq }, (_, i) => (i * 7919 + seed * 104729) % VOCAB);
  const settings = { maxLength: SHAPE.seq, stride: SHAPE.seq, scoreLength: SHAPE.seq, gradClip: 1, resetWeights: true, seed: 0 };
  const neighbors = Array.from({ length: NEIGHBORS }, (_, i) => tokens(i + 1));
  await testTimeTrain(model, optimizer, snapshot, tokens(0), 50256, neighbors.slice(0, 1), settings); // warm-up
  const start = process.hrtime.bigint();
  await testTimeTrain(model, optimizer, snapshot, tokens(0), 50256, neighbors, settings);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  for (const t of snapshot) t.dispose();
  model.dispose();
  // The first evaluation (before any neighbour) is part of the document, not of a neighbour.
  return seconds / NEIGHBORS;
}

const PYTORCH = String.raw`
import json, sys, time
d = json.load(sys.stdin)
sys.path.insert(0, d['reference'])
import torch, torch.nn.functional as F, torch_models
torch.set_num_threads(d['threads'])
torch.manual_seed(0)
s = d['shape']
bf16 = d['bf16']
dev = d['device']
kind = 'cuda' if dev.startswith('cuda') else 'cpu'
m = torch_models.Model(d['vocab'], s['seq'], s['d'], s['layers'], s['heads'], False, 0.1).to(dev)  # GPT-2's dropout 0.1, as ours trains with
opt = torch.optim.AdamW(m.parameters(), lr=2e-5, eps=1e-8, weight_decay=0)
saved = [p.detach().clone() for p in m.parameters()]
doc = torch.tensor([[(i * 7919) % d['vocab'] for i in range(s['seq'])]], device=dev)
def evaluate():
    m.eval()
    with torch.no_grad(), torch.autocast(kind, dtype=torch.bfloat16, enabled=bf16):
        inputs = torch.cat([torch.tensor([[50256]], device=dev), doc[:, :-1]], 1)
        return -F.cross_entropy(m(inputs)[0].float(), doc[0], reduction='sum').item()
def neighbour(seed):
    m.train(); opt.zero_grad()
    ids = torch.tensor([[(i * 7919 + seed * 104729) % d['vocab'] for i in range(s['seq'])]], device=dev)
    with torch.autocast(kind, dtype=torch.bfloat16, enabled=bf16):
        logits = m(ids)
        loss = F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1))
    loss.backward()
    torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0); opt.step()
    evaluate()
def restore():
    with torch.no_grad():
        for p, q in zip(m.parameters(), saved): p.copy_(q)
evaluate(); neighbour(1); restore()
t = time.perf_counter()
evaluate()
for i in range(d['neighbors']): neighbour(i + 1)
restore()
print(json.dumps({'seconds': (time.perf_counter() - t) / d['neighbors']}))
`;

type Trainable = 'full' | 'lora';
interface OneRun {
  seconds: number;
  /** Resident memory (MiB): the process's high-water mark, and its resident size with the model loaded (before the optimizer and the first step). */
  peakMiB: number;
  loadedMiB: number;
}

/** VmHWM / VmRSS of this process in MiB (/proc/self/status). */
function residentMiB(field: 'VmHWM' | 'VmRSS'): number {
  const line = readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith(`${field}:`));
  return line ? Number(line.split(/\s+/)[1]) / 1024 : NaN;
}

/** Ours with `trainable` as the eval loop sets it up (eval/trainable.ts), on the GPT-2 shape with its default dropout; run alone in a child process. */
async function oursTrainable(trainable: Trainable): Promise<OneRun> {
  manualSeed(0);
  const model = createModel({ model_type: 'gpt2', vocab_size: VOCAB, n_positions: SHAPE.seq, n_embd: SHAPE.d, n_layer: SHAPE.layers, n_head: SHAPE.heads }, { device: BENCH_DEVICE }) as CausalLM;
  const loadedMiB = residentMiB('VmRSS');
  const s = resolveSettings('ttt', model, { trainable, learningRate: 2e-5 });
  const weights = trainableWeights(model, s); // LoRA: PEFT's defaults (r 8, alpha 8, c_attn), the base frozen
  const optimizer = new AdamW(weights.list(), { lr: s.learningRate, eps: 1e-8, weightDecay: 0 });
  const tokens = (seed: number): number[] => Array.from({ length: SHAPE.seq }, (_, i) => (i * 7919 + seed * 104729) % VOCAB);
  const settings = { maxLength: SHAPE.seq, stride: SHAPE.seq, scoreLength: SHAPE.seq, gradClip: 1, resetWeights: true, seed: 0 };
  const neighbors = Array.from({ length: NEIGHBORS }, (_, i) => tokens(i + 1));
  await testTimeTrain(model, optimizer, weights.snapshot, tokens(0), 50256, neighbors.slice(0, 1), settings); // warm-up
  const start = process.hrtime.bigint();
  await testTimeTrain(model, optimizer, weights.snapshot, tokens(0), 50256, neighbors, settings);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9 / NEIGHBORS;
  const peakMiB = residentMiB('VmHWM');
  weights.dispose();
  model.dispose();
  return { seconds, peakMiB, loadedMiB };
}

// This file run as `node dist/bench/ttt.js --one <full|lora>`: one measurement, printed as JSON.
if (process.argv[2] === '--one') {
  console.log(JSON.stringify(await oursTrainable(process.argv[3] as Trainable)));
  process.exit(0);
}

/** Ours in a fresh process, so that the peak is this configuration's own. */
function oursInAProcess(trainable: Trainable): OneRun {
  const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--one', trainable], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (child.status !== 0) throw new Error(`ours (${trainable}) failed: ${child.stderr}`);
  return JSON.parse(child.stdout.trim().split('\n').at(-1)!) as OneRun;
}

// PyTorch 2.x as a user of transformers + PEFT writes it: GPT2LMHeadModel with
// sdpa attention (GPT-2's default dropout, as ours), get_peft_model with
// LoraConfig(r=8, lora_alpha=8, target_modules=['c_attn']), AdamW over what
// requires grad, clip_grad_norm_ 1.0; the same protocol as PYTORCH below.
const PYTORCH_TRAINABLE = String.raw`
import json, sys, time
d = json.load(sys.stdin)
def resident(field):
    for line in open('/proc/self/status'):
        if line.startswith(field + ':'): return int(line.split()[1]) / 1024
import torch, torch.nn.functional as F, transformers
torch.set_num_threads(d['threads'])
torch.manual_seed(0)
s = d['shape']
dev = d['device']
cfg = transformers.GPT2Config(vocab_size=d['vocab'], n_positions=s['seq'], n_embd=s['d'], n_layer=s['layers'], n_head=s['heads'])
m = transformers.GPT2LMHeadModel._from_config(cfg, attn_implementation='sdpa').to(dev)
loaded = resident('VmRSS')
if d['trainable'] == 'lora':
    import peft
    m = peft.get_peft_model(m, peft.LoraConfig(r=8, lora_alpha=8, target_modules=['c_attn'], fan_in_fan_out=True))  # GPT-2's Conv1D: PEFT sets it itself, with a warning
trained = [p for p in m.parameters() if p.requires_grad]
opt = torch.optim.AdamW(trained, lr=2e-5, eps=1e-8, weight_decay=0)
saved = [p.detach().clone() for p in trained]
doc = torch.tensor([[(i * 7919) % d['vocab'] for i in range(s['seq'])]], device=dev)
def evaluate():
    m.eval()
    with torch.no_grad():
        inputs = torch.cat([torch.tensor([[50256]], device=dev), doc[:, :-1]], 1)
        return -F.cross_entropy(m(input_ids=inputs).logits[0].float(), doc[0], reduction='sum').item()
def neighbour(seed):
    m.train(); opt.zero_grad()
    ids = torch.tensor([[(i * 7919 + seed * 104729) % d['vocab'] for i in range(s['seq'])]], device=dev)
    logits = m(input_ids=ids).logits
    loss = F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1))
    loss.backward()
    torch.nn.utils.clip_grad_norm_(trained, 1.0); opt.step()
    evaluate()
def restore():
    with torch.no_grad():
        for p, q in zip(trained, saved): p.copy_(q)
evaluate(); neighbour(1); restore()
t = time.perf_counter()
evaluate()
for i in range(d['neighbors']): neighbour(i + 1)
restore()
print(json.dumps({'seconds': (time.perf_counter() - t) / d['neighbors'], 'peakMiB': resident('VmHWM'), 'loadedMiB': loaded}))
`;

printEngineHeader();
console.log(`CPU: ${cpuModelName()}`);
console.log(`TTT seconds per neighbour (one ${SHAPE.seq}-token training step + one ${SHAPE.seq}-token evaluation), ${SHAPE.layers} layers, d ${SHAPE.d}${QUICK ? ' (BENCH_QUICK)' : ''}; bf16: ${measureBf16().why}`);
const input = { reference: REFERENCE_DIR, vocab: VOCAB, shape: SHAPE, neighbors: NEIGHBORS, threads: getNumThreads(), device: BENCH_DEVICE };
if (BENCH_DEVICE !== 'cpu') console.log(`device: ${BENCH_DEVICE} (tttnn and torch2 on the same GPU; python3-torch 1.13 is CPU-only: NaN)`);
const timings = await timeEachPrecision(ours, PYTORCH, input);
// MFU: a neighbour's matmul FLOPs (training step = 3 forward passes, evaluation = 1; the attention counted over the
// full T x T, as the usual 6N + attention formula) over seconds, against the GEMM ceiling measured now.
const ceiling = BENCH_DEVICE === 'cpu' ? fp32CeilingGflops() : { gflops: NaN, perBackend: {} };
const bf16Ceiling = BENCH_DEVICE === 'cpu' && timings.some((t) => t.precision === 'bf16') ? bf16CeilingGflops() : NaN;
const neighbourGflop = (4 * forwardFlopsPerToken(SHAPE.layers, SHAPE.d, SHAPE.seq, VOCAB) * SHAPE.seq) / 1e9;
console.log(`GEMM ceiling (raw sgemm 1024x768x3072, measured now): ${Object.entries(ceiling.perBackend).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ')} GFLOPS${Number.isNaN(bf16Ceiling) ? '' : `; bf16 matmul ${bf16Ceiling.toFixed(0)} GFLOPS`}; a neighbour is ${neighbourGflop.toFixed(0)} GFLOP, so the floor is ${(neighbourGflop / ceiling.gflops).toFixed(2)} s in fp32`);
const mfu = (precision: string, seconds: number): number => neighbourGflop / seconds / (precision === 'bf16' ? bf16Ceiling : ceiling.gflops);
const rows = timings.map((t) => [t.precision, t.ours, t.torch, t.torch / t.ours, t.torch2, t.torch2 / t.ours, mfu(t.precision, t.ours), mfu(t.precision, t.torch2), t.speedupVsOurFp32, QUICK ? NaN : t.ours / ORIGINAL_A100_SECONDS]);
console.log(formatTable(['precision', 'tttnn s', 'torch s', 'speedup vs torch', 'torch2 s', 'speedup vs torch2', 'tttnn MFU', 'torch2 MFU', 'speedup vs our fp32', `tttnn / original on an A100 (${ORIGINAL_A100_SECONDS} s)`], rows));
console.log('targets: speedup vs torch and vs torch2 >= 1.00 in each precision; on AMX hardware bf16 >= 3x our fp32');

/** lscpu's model name (the CPU named in every result). */
function cpuModelName(): string {
  const out = spawnSync('lscpu', { encoding: 'utf8' }).stdout ?? '';
  const name = /^Model name:\s*(.+)$/m.exec(out)?.[1];
  return `${name ?? 'unknown'} (${cpuInfo().avx512 ? 'AVX-512' : 'no AVX-512'}; ${getNumThreads()} threads)`;
}

if (BENCH_DEVICE === 'cpu') {
  console.log(`\nfull fine-tuning vs LoRA (r 8, alpha 8, c_attn), fp32, each in its own process; torch2 = PyTorch 2.x + transformers GPT2LMHeadModel (sdpa) + PEFT`);
  const NaNRun: OneRun = { seconds: NaN, peakMiB: NaN, loadedMiB: NaN };
  const measured = (['full', 'lora'] as const).map((trainable) => ({
    trainable,
    ours: oursInAProcess(trainable),
    torch2: runTorch2<OneRun>(PYTORCH_TRAINABLE, { ...input, trainable }) ?? NaNRun,
  }));
  const trainableRows = measured.map((m) => [m.trainable, m.ours.seconds, m.torch2.seconds, m.torch2.seconds / m.ours.seconds, m.ours.peakMiB, m.ours.peakMiB - m.ours.loadedMiB, m.torch2.peakMiB, m.torch2.peakMiB - m.torch2.loadedMiB]);
  console.log(formatTable(['trainable', 'tttnn s', 'torch2 s', 'speedup vs torch2', 'tttnn peak MiB', 'over loaded', 'torch2 peak MiB', 'over loaded'], trainableRows));
  const [full, lora] = measured as [(typeof measured)[0], (typeof measured)[0]];
  console.log(`LoRA / full: tttnn ${(lora.ours.seconds / full.ours.seconds).toFixed(2)}x the seconds, ${((lora.ours.peakMiB - lora.ours.loadedMiB) / (full.ours.peakMiB - full.ours.loadedMiB)).toFixed(2)}x the memory over the loaded model; torch2 ${(lora.torch2.seconds / full.torch2.seconds).toFixed(2)}x, ${((lora.torch2.peakMiB - lora.torch2.loadedMiB) / (full.torch2.peakMiB - full.torch2.loadedMiB)).toFixed(2)}x`);
}
