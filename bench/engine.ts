// Benchmark: matmul throughput of the engine vs python3-torch, fp32 and bf16,
// against the raw GEMM ceiling of both backends, all in the same run.
//
//   npm run bench:engine        (BENCH_ITERATIONS=30; BENCH_BF16=1 measures emulated bf16 too)
//
// Shapes are GPT-2-small's MLP and attention projections over 1024 tokens.
// Raw sgemm (OpenBLAS's and oneDNN's, no framework around them) is the
// ceiling. PyTorch runs with our thread count and, where OpenBLAS does not
// know this CPU, with the right OpenBLAS kernels (its best); its bf16 is
// torch.autocast('cpu', bfloat16), ours the same autocast through libtorch.
import { getNumThreads, rawSgemmSeconds } from '../src/engine/index.js';
import { formatTable, matmulSeconds, measureBf16, printEngineHeader, referenceEnvAtBest, runPython, runTorch2 } from './helpers.js';

type Shape = [number, number, number];
const SHAPES: Shape[] = [
  [1024, 768, 3072],
  [1024, 3072, 768],
  [1024, 768, 768],
];
const ITERATIONS = Number(process.env['BENCH_ITERATIONS'] ?? 30);
const bf16 = measureBf16();

const gflops = ([m, k, n]: Shape, seconds: number): number => (2 * m * k * n) / seconds / 1e9;

const PYTORCH = `
import json, sys, time, torch
d = json.load(sys.stdin)
torch.set_num_threads(d['threads'])
def seconds(a, b, bf16):
    with torch.autocast('cpu', dtype=torch.bfloat16, enabled=bf16):
        for _ in range(3): a @ b
        t = time.perf_counter()
        for _ in range(d['iterations']): a @ b
        return (time.perf_counter() - t) / d['iterations']
out = {'fp32': [], 'bf16': []}
for m, k, n in d['shapes']:
    a = torch.randn(m, k); b = torch.randn(k, n)
    out['fp32'].append(seconds(a, b, False))
    out['bf16'].append(seconds(a, b, True) if d['bf16'] else None)
print(json.dumps(out))
`;

printEngineHeader();
console.log(`bf16: ${bf16.why}`);
const torch = runPython<{ fp32: number[]; bf16: (number | null)[] }>(
  PYTORCH,
  { shapes: SHAPES, iterations: ITERATIONS, threads: getNumThreads(), bf16: bf16.run },
  1_800_000,
  referenceEnvAtBest(),
);

const torch2 = runTorch2<{ fp32: number[]; bf16: (number | null)[] }>(PYTORCH, { shapes: SHAPES, iterations: ITERATIONS, threads: getNumThreads(), bf16: bf16.run }, 1_800_000);

const rows = SHAPES.map((shape, i) => {
  const [m, k, n] = shape;
  const openblas = gflops(shape, rawSgemmSeconds(m, n, k, ITERATIONS, 'openblas'));
  const onednn = gflops(shape, rawSgemmSeconds(m, n, k, ITERATIONS, 'onednn'));
  const fp32 = gflops(shape, matmulSeconds(shape, 'fp32', ITERATIONS));
  const torchFp32 = gflops(shape, torch.fp32[i] as number);
  const oursBf16 = bf16.run ? gflops(shape, matmulSeconds(shape, 'bf16', ITERATIONS)) : NaN;
  const torchBf16 = bf16.run ? gflops(shape, torch.bf16[i] as number) : NaN;
  const torch2Fp32 = torch2 ? gflops(shape, torch2.fp32[i] as number) : NaN;
  const torch2Bf16 = torch2 && bf16.run ? gflops(shape, torch2.bf16[i] as number) : NaN;
  return [`[${m}x${k}]@[${k}x${n}]`, openblas, onednn, fp32, torchFp32, fp32 / torchFp32, torch2Fp32, fp32 / torch2Fp32, fp32 / Math.max(openblas, onednn), oursBf16, torchBf16, oursBf16 / torchBf16, torch2Bf16, oursBf16 / torch2Bf16, oursBf16 / fp32];
});

console.log(
  formatTable(
    ['shape', 'raw OpenBLAS', 'raw oneDNN', 'tttnn fp32', 'torch fp32', 'fp32 vs torch', 'torch2 fp32', 'fp32 vs torch2', 'fp32 / ceiling', 'tttnn bf16', 'torch bf16', 'bf16 vs torch', 'torch2 bf16', 'bf16 vs torch2', 'bf16 / fp32'],
    rows,
  ),
);
console.log('GFLOPS; targets: fp32 vs torch and vs torch2 >= 1.00 and fp32 / ceiling >= 0.90; bf16 vs torch and vs torch2 >= 1.00 (NaN: not measured)');
