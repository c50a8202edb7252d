// Benchmark: matmul throughput of the engine vs python3-torch vs raw sgemm.
//
//   npm run bench:engine
//
// Shapes are GPT-2-small's MLP and attention projections over 1024 tokens.
// Raw sgemm (cblas_sgemm of the BLAS libtorch loads, no framework around
// it) is the ceiling. PyTorch is measured twice: as a user gets it by
// default, and with the same thread count as ours. All in the same run,
// because this machine's speed drifts.
import { availableParallelism } from 'node:os';
import { getNumThreads, randn, rawSgemmSeconds, tidy } from '../src/engine/index.js';
import { formatTable, runPython, timeIt } from './helpers.js';

const SHAPES: [number, number, number][] = [
  [1024, 768, 3072],
  [1024, 768, 768],
];
const ITERATIONS = Number(process.env['BENCH_ITERATIONS'] ?? 30);

const gflops = ([m, k, n]: [number, number, number], seconds: number): number => (2 * m * k * n) / seconds / 1e9;

function ours([m, k, n]: [number, number, number]): number {
  const a = randn([m, k]);
  const b = randn([k, n]);
  const seconds = timeIt(() => tidy(() => void a.matmul(b)), ITERATIONS);
  a.dispose();
  b.dispose();
  return seconds;
}

const PYTORCH = `
import json, sys, time, torch
d = json.load(sys.stdin)
if d['threads']:
    torch.set_num_threads(d['threads'])
out = []
for m, k, n in d['shapes']:
    a = torch.randn(m, k); b = torch.randn(k, n)
    for _ in range(3): a @ b
    t = time.perf_counter()
    for _ in range(d['iterations']): a @ b
    out.append((time.perf_counter() - t) / d['iterations'])
print(json.dumps({'seconds': out, 'threads': torch.get_num_threads()}))
`;

interface TorchResult {
  seconds: number[];
  threads: number;
}

const torchDefault = runPython<TorchResult>(PYTORCH, { shapes: SHAPES, iterations: ITERATIONS, threads: 0 });
const torchTuned = runPython<TorchResult>(PYTORCH, { shapes: SHAPES, iterations: ITERATIONS, threads: availableParallelism() });

const rows = SHAPES.map((shape, i) => {
  const [m, k, n] = shape;
  const sgemm = gflops(shape, rawSgemmSeconds(m, n, k, ITERATIONS));
  const engine = gflops(shape, ours(shape));
  const pyDefault = gflops(shape, torchDefault.seconds[i] as number);
  const pyTuned = gflops(shape, torchTuned.seconds[i] as number);
  return { shape: `[${m}x${k}]@[${k}x${n}]`, sgemm, engine, pyDefault, pyTuned };
});

console.log(`engine threads ${getNumThreads()}; python3-torch default threads ${torchDefault.threads}, tuned ${torchTuned.threads}`);
console.log(
  formatTable(
    ['shape', 'raw sgemm GFLOPS', 'tttnn GFLOPS', 'torch default', 'torch same threads', 'tttnn/sgemm', 'tttnn/torch default', 'tttnn/torch same'],
    rows.map((r) => [r.shape, r.sgemm, r.engine, r.pyDefault, r.pyTuned, r.engine / r.sgemm, r.engine / r.pyDefault, r.engine / r.pyTuned]),
  ),
);
console.log('targets: tttnn/sgemm >= 0.90, tttnn/torch >= 1.00');
