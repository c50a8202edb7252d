// Benchmark: where a GPT-2-small TTT step goes, op by op. One training step
// on a 1024-token window (forward, backward, clipping, AdamW) and one
// evaluation of a 1024-token document, with libtorch's RecordFunction hooks
// on (native/src/op_profiler.cc): calls, self time and share per ATen op.
// GEMMs (mm, addmm, bmm) are the work; the rest is what fusion can win.
// Then the same for PyTorch 2.x (.venv-ref) with transformers'
// GPT2LMHeadModel (sdpa) through torch.profiler
// (bench/reference/profile_torch2.py), for a side-by-side reading.
//
//   npm run bench:profile          (BENCH_QUICK=1: 4 layers, d 512, 512 tokens; BENCH_PRECISION=bf16)
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { AdamW, clipGradNorm, getNumThreads, manualSeed, noGrad, profileOps, tensor, tidy, withPrecision } from '../src/engine/index.js';
import { causalLmLoss, createModel, type CausalLM } from '../src/models/index.js';
import { TORCH2_PYTHON, formatTable, printEngineHeader } from './helpers.js';

const QUICK = process.env['BENCH_QUICK'] === '1';
const SHAPE = QUICK ? { layers: 4, d: 512, heads: 8, seq: 512 } : { layers: 12, d: 768, heads: 12, seq: 1024 };
const PRECISION = process.env['BENCH_PRECISION'] === 'bf16' ? 'bf16' : 'fp32';
const TOP = Number(process.env['BENCH_TOP'] ?? 20);

manualSeed(0);
const model = createModel({ model_type: 'gpt2', vocab_size: 50257, n_positions: SHAPE.seq, n_embd: SHAPE.d, n_layer: SHAPE.layers, n_head: SHAPE.heads, resid_pdrop: 0, embd_pdrop: 0, attn_pdrop: 0 }) as CausalLM;
const optimizer = new AdamW(model.parameters.list(), { lr: 2e-5, eps: 1e-8, weightDecay: 0 });
const ids = tensor(Array.from({ length: SHAPE.seq }, (_, i) => (i * 7919) % 50257), { dtype: 'int64', shape: [1, SHAPE.seq] });

/** One neighbour of TTT: a training step, then an evaluation. */
function neighbour(): void {
  model.training = true;
  tidy(() => {
    optimizer.zeroGrad(false);
    causalLmLoss(model, ids).backward();
    clipGradNorm(model.parameters.list(), 1);
    optimizer.step();
  });
  model.training = false;
  tidy(() => noGrad(() => void causalLmLoss(model, ids).item()));
}

printEngineHeader();
withPrecision(PRECISION, neighbour); // warm-up: allocator cache, kernels
const started = performance.now();
const { ops } = withPrecision(PRECISION, () => profileOps(neighbour));
const wall = performance.now() - started;
const total = ops.reduce((sum, op) => sum + op.selfUs, 0);
console.log(`GPT-2 TTT step + evaluation, ${SHAPE.layers} layers, d ${SHAPE.d}, ${SHAPE.seq} tokens, ${PRECISION}${QUICK ? ' (BENCH_QUICK)' : ''}: ${(wall / 1000).toFixed(2)} s wall, ${(total / 1e6).toFixed(2)} s in ATen ops`);
console.log(formatTable(['op (self time)', 'calls', 'ms', '% of ops'], ops.slice(0, TOP).map((op) => [op.name, String(op.calls), op.selfUs / 1000, (100 * op.selfUs) / total])));
const gemm = ops.filter((op) => ['aten::mm', 'aten::addmm', 'aten::bmm'].includes(op.name)).reduce((sum, op) => sum + op.selfUs, 0);
console.log(`GEMMs (mm, addmm, bmm): ${((100 * gemm) / total).toFixed(1)} % of op time`);
ids.dispose();
model.dispose();

interface Torch2Profile {
  torch: string;
  wall: number;
  ops: { name: string; calls: number; selfUs: number }[];
}
if (TORCH2_PYTHON === null) {
  console.log('PyTorch 2.x: .venv-ref not built (scripts/setup.sh --bench)');
} else {
  const script = fileURLToPath(new URL('../../bench/reference/profile_torch2.py', import.meta.url));
  const child = spawnSync(TORCH2_PYTHON, [script, '--json', '--threads', String(getNumThreads()), ...(QUICK ? ['--quick'] : [])], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (child.status !== 0) throw new Error(`${script} failed: ${child.stderr}`);
  const torch2 = JSON.parse(child.stdout.trim().split('\n').at(-1)!) as Torch2Profile;
  const total2 = torch2.ops.reduce((sum, op) => sum + op.selfUs, 0);
  console.log(`\nPyTorch ${torch2.torch} + transformers GPT2LMHeadModel (sdpa), the same step and evaluation: ${torch2.wall.toFixed(2)} s wall (profiler on), ${(total2 / 1e6).toFixed(2)} s in ATen ops`);
  console.log(formatTable(['op (self time)', 'calls', 'ms', '% of ops'], torch2.ops.slice(0, TOP).map((op) => [op.name, String(op.calls), op.selfUs / 1000, (100 * op.selfUs) / total2])));
}
