// The GEMM dispatch (native/src/gemm_dispatch.cc): every fp32 GEMM of
// libtorch and FAISS goes through our `sgemm_` to the chosen backend, and
// oneDNN and OpenBLAS compute the same products (checked against float64,
// whose dgemm_ does not pass through the dispatch).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  AdamW,
  engineInfo,
  full,
  gemmInfo,
  linear,
  manualSeed,
  randn,
  setGemmBackend,
  tidy,
  type GemmBackend,
  type Tensor,
} from '../../src/engine/index.js';
import { FaissIndex } from '../../src/index/faiss-index.js';
import { assertClose } from '../helpers/assert-close.js';

const BACKENDS: GemmBackend[] = ['openblas', 'onednn'];
const initial = gemmInfo().backend;
after(() => setGemmBackend(initial));

/** Calls each backend served while `fn` ran. */
function callsDuring(fn: () => void): { openblas: number; onednn: number } {
  const before = gemmInfo();
  fn();
  const now = gemmInfo();
  return { openblas: now.openblasCalls - before.openblasCalls, onednn: now.onednnCalls - before.onednnCalls };
}

/** Largest |x - reference| over the largest |reference|. */
function relativeError(x: Tensor, reference: Tensor): number {
  const scale = reference.abs().max().item();
  return x.to({ dtype: 'float64' }).sub(reference).abs().max().item() / scale;
}

test('both GEMM backends are available here and auto says why it chose', () => {
  const info = engineInfo();
  assert.ok(info.gemm.onednnAvailable, 'libdnnl.so.2 (a dependency of libtorch-dev) should be loadable');
  assert.notEqual(info.gemm.openblasCore, '', 'setup.sh installs OpenBLAS as libblas.so.3');
  assert.match(info.gemm.onednnIsa, /^(avx2|avx2_vnni|avx512_core.*)$/);
  // The rule: OpenBLAS when its kernel set uses the CPU's widest ISA.
  const core = info.gemm.openblasCore.toLowerCase();
  const fits = info.cpu.avx512 ? ['skylakex', 'cooperlake', 'sapphirerapids'].includes(core) : ['haswell', 'zen', 'skylakex', 'cooperlake', 'sapphirerapids'].includes(core) || !info.cpu.avx2;
  if (process.env['TTTNN_GEMM'] === undefined) {
    assert.equal(initial, fits ? 'openblas' : 'onednn', `auto chose ${initial}: ${info.gemm.reason}`);
  }
  assert.ok(info.gemm.reason.length > 0);
});

test("libtorch's matmuls, forward and backward, go to the chosen backend and agree with float64", () => {
  manualSeed(1);
  // Shapes that exercise every transpose combination libtorch passes to sgemm_
  // (linear's forward is x W^T, its backward dX = dY W and dW = dY^T X), odd
  // sizes, and a batched matmul.
  const results = new Map<GemmBackend, number[][]>();
  for (const backend of BACKENDS) {
    setGemmBackend(backend);
    const outputs: number[][] = [];
    const calls = callsDuring(() =>
      tidy(() => {
        manualSeed(2);
        const x = randn([37, 65]).requiresGrad_(true);
        const w = randn([129, 65]).requiresGrad_(true);
        const b = randn([129]).requiresGrad_(true);
        const y = linear(x, w, b); // addmm, beta = 1
        y.pow(2).sum().backward();
        const a = randn([3, 17, 33]);
        const c = randn([3, 33, 9]);
        const batched = a.matmul(c);
        const x64 = x.detach().to({ dtype: 'float64' });
        const w64 = w.detach().to({ dtype: 'float64' });
        const y64 = linear(x64, w64, b.detach().to({ dtype: 'float64' }));
        const dy64 = y64.mul(2);
        assert.ok(relativeError(y, y64) < 1e-5, `${backend}: linear forward`);
        assert.ok(relativeError(x.grad!, dy64.matmul(w64)) < 1e-5, `${backend}: linear dX`);
        assert.ok(relativeError(w.grad!, dy64.transpose(0, 1).matmul(x64)) < 1e-5, `${backend}: linear dW`);
        assert.ok(relativeError(batched, a.to({ dtype: 'float64' }).matmul(c.to({ dtype: 'float64' }))) < 1e-5, `${backend}: bmm`);
        outputs.push(y.toNumbers(), x.grad!.toNumbers(), w.grad!.toNumbers(), batched.toNumbers());
      }),
    );
    results.set(backend, outputs);
    const other = backend === 'openblas' ? 'onednn' : 'openblas';
    assert.ok(calls[backend] >= 3, `${backend} served ${calls[backend]} GEMMs (forward + two backward)`);
    assert.equal(calls[other], 0, `${other} served ${calls[other]} GEMMs while ${backend} was chosen`);
  }
  const [openblas, onednn] = [results.get('openblas')!, results.get('onednn')!];
  for (let i = 0; i < openblas.length; i++) assertClose(onednn[i]!, openblas[i]!, 1e-3, `output ${i}, onednn vs openblas`, 1e-4);
});

test('an output block that held NaNs is overwritten, not accumulated into (beta = 0)', () => {
  for (const backend of BACKENDS) {
    setGemmBackend(backend);
    tidy(() => {
      // The caching allocator hands a freed block of the same size to the next result.
      full([64, 48], Number.NaN).dispose();
      const product = randn([64, 32]).matmul(randn([32, 48]));
      assert.ok(product.toNumbers().every(Number.isFinite), `${backend}: NaN leaked into a fresh product`);
    });
  }
});

test('a training step gives the same parameters under both backends', () => {
  const finals: number[][] = [];
  for (const backend of BACKENDS) {
    setGemmBackend(backend);
    tidy(() => {
      manualSeed(3);
      const w = randn([40, 24]).mul(0.1).requiresGrad_(true);
      const optimizer = new AdamW([w], { lr: 1e-2 });
      const x = randn([16, 24]);
      for (let step = 0; step < 3; step++) {
        optimizer.zeroGrad();
        linear(x, w).tanh().pow(2).mean().backward();
        optimizer.step();
      }
      finals.push(w.toNumbers());
    });
  }
  assertClose(finals[1]!, finals[0]!, 1e-5, 'weights after 3 AdamW steps, onednn vs openblas', 1e-4);
});

test("FAISS's batched exact search goes through the dispatch too and finds the same neighbours", async () => {
  manualSeed(4);
  const d = 32;
  const base = randn([500, d]).toTypedArray() as Float32Array;
  const queries = randn([64, d]).toTypedArray() as Float32Array; // >= 20 queries: FAISS uses sgemm_
  const index = FaissIndex.create(d, 'Flat');
  try {
    index.add(base);
    const ids: bigint[][] = [];
    for (const backend of BACKENDS) {
      setGemmBackend(backend);
      const before = gemmInfo();
      const result = await index.search(queries, 10);
      const served = backend === 'onednn' ? gemmInfo().onednnCalls - before.onednnCalls : gemmInfo().openblasCalls - before.openblasCalls;
      assert.ok(served >= 1, `FAISS's search did not reach ${backend}`);
      ids.push([...result.ids]);
    }
    assert.deepEqual(ids[1], ids[0]);
  } finally {
    index.dispose();
  }
});

test('an unknown backend is refused; TTTNN_GEMM picks one at load and a bad value falls back to auto, saying so', () => {
  assert.throws(() => setGemmBackend('mkl' as GemmBackend), /unknown GEMM backend 'mkl' \(expected auto, openblas or onednn\)/);
  const engine = fileURLToPath(new URL('../../src/engine/index.js', import.meta.url));
  const probe = `import(${JSON.stringify(engine)}).then((e) => { const { backend, reason } = e.gemmInfo(); console.log(JSON.stringify({ backend, reason })); })`;
  const run = (value: string): { backend: string; reason: string } => {
    const child = spawnSync(process.execPath, ['-e', probe], { env: { ...process.env, TTTNN_GEMM: value }, encoding: 'utf8' });
    assert.equal(child.status, 0, child.stderr);
    return JSON.parse(child.stdout) as { backend: string; reason: string };
  };
  assert.deepEqual(run('onednn'), { backend: 'onednn', reason: 'requested' });
  assert.equal(run('openblas').backend, 'openblas');
  assert.match(run('fast').reason, /^TTTNN_GEMM ignored \(unknown GEMM backend 'fast'/);
});
