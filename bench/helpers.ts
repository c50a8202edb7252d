// Shared by the benchmarks: timing loops and the Python reference runner.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { AdamW, clipGradNorm, cpuInfo, describeEngine, engineInfo, gemmInfo, rawSgemmSeconds, randint, randn, tidy, withPrecision, withPrecisionAsync } from '../src/engine/index.js';
import { causalLmLoss, type CausalLM } from '../src/models/index.js';
import { runPython } from '../test/helpers/python.js';
export { runPython, referencePython } from '../test/helpers/python.js';

/** test/reference/ in the source tree: the one directory of Python references, shared by tests and benchmarks (the compiled benchmarks run from dist/bench/). */
export const REFERENCE_DIR = fileURLToPath(new URL('../../test/reference/', import.meta.url));

/**
 * The second reference: PyTorch 2.x (2.13, CPU wheel) from .venv-ref/, built
 * by `scripts/setup.sh --bench`; at its best it uses its own BLAS (MKL) and
 * oneDNN, F.scaled_dot_product_attention (test/reference/torch_models.py) and
 * bf16 autocast. null where the venv is not built (the columns say NaN).
 */
// TTTNN_TORCH2_PYTHON names another interpreter (scripts/gpu-check.sh: the CUDA wheel's venv).
const TORCH2_VENV_PYTHON = process.env['TTTNN_TORCH2_PYTHON'] ?? fileURLToPath(new URL('../../.venv-ref/bin/python', import.meta.url));
export const TORCH2_PYTHON: string | null = existsSync(TORCH2_VENV_PYTHON) ? TORCH2_VENV_PYTHON : null;

/** The device a benchmark that supports one runs on (BENCH_DEVICE: cpu, cuda); Debian's python3-torch is CPU-only, so off the CPU only PyTorch 2.x is compared. */
export const BENCH_DEVICE = process.env['BENCH_DEVICE'] ?? 'cpu';

/** Runs a reference script under PyTorch 2.x (.venv-ref), or returns null where that venv is absent. */
export function runTorch2<T>(script: string, input: unknown, timeoutMs = 3_600_000): T | null {
  return TORCH2_PYTHON === null ? null : runPython<T>(script, input, timeoutMs, {}, TORCH2_PYTHON);
}

/** Mean seconds per call of `fn` over `iterations`, after `warmup` calls. */
export function timeIt(fn: () => void, iterations: number, warmup = 3): number {
  for (let i = 0; i < warmup; i++) fn();
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) fn();
  return Number(process.hrtime.bigint() - start) / 1e9 / iterations;
}

export function formatTable(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map((c) => (typeof c === 'number' ? c.toFixed(2) : c)))];
  const widths = header.map((_, i) => cells.reduce((most, r) => Math.max(most, String(r[i]).length), 0));
  return cells.map((r) => r.map((c, i) => String(c).padStart(widths[i] as number)).join('  ')).join('\n');
}

/** Mean seconds of one causal-LM training step (forward, backward, clipping, AdamW) on random batches, after one warm-up step; disposes the model. */
export function causalTrainStepSeconds(model: CausalLM, batch: number, seq: number, steps: number): number {
  model.training = true;
  const optimizer = new AdamW(model.parameters.list(), { lr: 1e-4 });
  const step = (): void =>
    tidy(() => {
      optimizer.zeroGrad();
      const loss = causalLmLoss(model, randint(0, model.vocabSize, [batch, seq]));
      loss.backward();
      clipGradNorm(model.parameters.list(), 1.0);
      optimizer.step();
    });
  step();
  const seconds = timeIt(step, steps, 0);
  model.dispose();
  return seconds;
}

/**
 * Environment for the python3-torch reference process "at its best" on this
 * CPU: where OpenBLAS 0.3.21 does not know the CPU model and runs generic
 * kernels, the reference (only) is given the kernels matching the CPU's ISA.
 * The product never sets OPENBLAS_CORETYPE; it routes GEMMs to oneDNN instead.
 */
export function referenceEnvAtBest(): Record<string, string> {
  const gemm = gemmInfo();
  if (process.env['OPENBLAS_CORETYPE'] !== undefined || !gemm.reason.startsWith('OpenBLAS runs')) return {};
  return { OPENBLAS_CORETYPE: cpuInfo().avx512 ? 'SkylakeX' : 'Haswell' };
}

/** Whether to measure bf16: where the CPU has it in hardware, or BENCH_BF16=1 (emulated: slow, for checking the path). */
export function measureBf16(): { run: boolean; why: string } {
  const cpu = cpuInfo();
  if (cpu.nativeBf16) return { run: true, why: cpu.amxBf16 ? 'AMX' : 'AVX512_BF16' };
  if (process.env['BENCH_BF16'] === '1') return { run: true, why: 'emulated (BENCH_BF16=1; no AMX or AVX512_BF16)' };
  return { run: false, why: 'skipped: this CPU has no AMX or AVX512_BF16 (bf16 would be emulated, slower than fp32; BENCH_BF16=1 measures it anyway)' };
}

/** fp32, and bf16 where measureBf16() says so. */
export function precisionsToMeasure(): ('fp32' | 'bf16')[] {
  return measureBf16().run ? ['fp32', 'bf16'] : ['fp32'];
}

export interface PrecisionTiming {
  precision: 'fp32' | 'bf16';
  /** Seconds of one unit of work: ours, the python3-torch 1.13 reference's, and PyTorch 2.x's (NaN without .venv-ref). */
  ours: number;
  torch: number;
  torch2: number;
  /** Our fp32 seconds over ours in this precision (1 for fp32). */
  speedupVsOurFp32: number;
}

/**
 * Times `ours` under each precision to measure and the reference script (its
 * input plus `bf16`, printing {"seconds"}) at its best, in the same run.
 */
export async function timeEachPrecision(ours: () => number | Promise<number>, referenceScript: string, input: Record<string, unknown>): Promise<PrecisionTiming[]> {
  const timings: PrecisionTiming[] = [];
  for (const precision of precisionsToMeasure()) {
    const torch = BENCH_DEVICE === 'cpu' ? runPython<{ seconds: number }>(referenceScript, { ...input, bf16: precision === 'bf16' }, 3_600_000, referenceEnvAtBest()).seconds : NaN;
    const torch2 = runTorch2<{ seconds: number }>(referenceScript, { ...input, bf16: precision === 'bf16' })?.seconds ?? NaN;
    const seconds = await withPrecisionAsync(precision, async () => ours());
    const fp32 = timings[0]?.ours ?? seconds;
    timings.push({ precision, ours: seconds, torch, torch2, speedupVsOurFp32: fp32 / seconds });
  }
  return timings;
}

/** Mean seconds of our A[m,k] @ B[k,n] under `precision` (bf16: libtorch autocast). */
export function matmulSeconds([m, k, n]: [number, number, number], precision: 'fp32' | 'bf16', iterations: number): number {
  const a = randn([m, k]);
  const b = randn([k, n]);
  try {
    return withPrecision(precision, () => timeIt(() => tidy(() => void a.matmul(b)), iterations));
  } finally {
    a.dispose();
    b.dispose();
  }
}

/** Matmul FLOPs of one forward pass per token: projections, MLP, attention scores and mixing, output layer. */
export function forwardFlopsPerToken(layers: number, d: number, seq: number, vocab: number): number {
  return 2 * 12 * layers * d * d + 4 * layers * seq * d + 2 * d * vocab;
}

/** Our bf16 matmul (autocast) on GPT-2's MLP shape in GFLOPS: the bf16 ceiling MFU is measured against. */
export function bf16CeilingGflops(iterations = 10): number {
  return (2 * 1024 * 768 * 3072) / matmulSeconds([1024, 768, 3072], 'bf16', iterations) / 1e9;
}

/** The fp32 GEMM ceiling in GFLOPS: the faster raw sgemm of the two backends on GPT-2's MLP shape, [1024x768]@[768x3072]. */
export function fp32CeilingGflops(iterations = 20): { gflops: number; perBackend: Record<string, number> } {
  const perBackend: Record<string, number> = {};
  for (const backend of ['openblas', 'onednn'] as const) {
    if (backend === 'onednn' && !gemmInfo().onednnAvailable) continue;
    perBackend[backend] = (2 * 1024 * 768 * 3072) / rawSgemmSeconds(1024, 3072, 768, iterations, backend) / 1e9;
  }
  return { gflops: Object.values(perBackend).reduce((a, b) => Math.max(a, b), -Infinity), perBackend };
}

/** The benchmark's first lines: what runs, and what the reference process is given. */
export function printEngineHeader(): void {
  const { torchVersion, torchLibrary } = engineInfo();
  console.log(`engine: ${describeEngine()}`);
  console.log(`tttnn's libtorch: ${torchVersion} (${torchLibrary}); TTTNN_ADDON=native/variants/torch2-cpu/build/Release/tttnn_native.node runs tttnn on libtorch 2.x`);
  const torch2 = TORCH2_PYTHON === null ? 'not built (scripts/setup.sh --bench builds .venv-ref)' : `${runPython<string>('import json, torch; print(json.dumps(torch.__version__))', null, 60_000, {}, TORCH2_PYTHON)} from ${TORCH2_PYTHON}`;
  console.log(`references: "torch" = python3-torch ${runPython<string>('import json, torch; print(json.dumps(torch.__version__))', null, 60_000)} (Debian); "torch2" = PyTorch ${torch2}`);
  const env = referenceEnvAtBest();
  if (Object.keys(env).length > 0) console.log(`python3-torch reference at its best: ${Object.entries(env).map(([k, v]) => `${k}=${v}`).join(' ')} (reference process only)`);
}
