// Tensor basics: creation, data round trips in every dtype, devices, errors
// that carry torch's message, autograd controls and optimizer state.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  AdamW,
  arange,
  cuda,
  engineInfo,
  embedding,
  full,
  getNumThreads,
  manualSeed,
  noGrad,
  isGradEnabled,
  ones,
  rand,
  randint,
  randn,
  restoreParameters,
  setNumThreads,
  snapshotParameters,
  tensor,
  tidy,
  zeros,
  disposeAll,
  keep,
  type Tensor,
} from '../../src/engine/index.js';
import { availableParallelism } from 'node:os';

test('creation ops produce the requested shape, dtype and values', () => {
  tidy(() => {
    assert.deepEqual(zeros([2, 3]).toNumbers(), [0, 0, 0, 0, 0, 0]);
    assert.deepEqual(ones([2], { dtype: 'int64' }).toNumbers(), [1, 1]);
    assert.equal(ones([2], { dtype: 'int64' }).dtype, 'int64');
    assert.deepEqual(full([3], 2.5).toNumbers(), [2.5, 2.5, 2.5]);
    assert.deepEqual(arange(0, 5).toNumbers(), [0, 1, 2, 3, 4]);
    assert.equal(arange(0, 5).dtype, 'int64');
    assert.deepEqual(arange(0, 1, 0.25, { dtype: 'float32' }).toNumbers(), [0, 0.25, 0.5, 0.75]);
    assert.deepEqual(tensor([[1, 2], [3, 4]]).shape, [2, 2]);
    assert.equal(tensor([true, false]).dtype, 'bool');
    assert.throws(() => tensor([[1, 2], [3]]), /ragged/);
    assert.throws(() => zeros([2, -1]), /invalid shape/);
    const r = rand([1000]).toNumbers();
    assert.ok(r.every((v) => v >= 0 && v < 1));
    const ri = randint(3, 7, [500]).toNumbers();
    assert.ok(ri.every((v) => Number.isInteger(v) && v >= 3 && v < 7));
    assert.deepEqual(new Set(ri), new Set([3, 4, 5, 6]));
    return null;
  });
});

test('manualSeed makes random ops reproducible', () => {
  tidy(() => {
    manualSeed(42);
    const a = randn([5]).toNumbers();
    manualSeed(42);
    const b = randn([5]).toNumbers();
    manualSeed(43);
    const c = randn([5]).toNumbers();
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
    return null;
  });
});

test('every dtype round-trips through typed arrays', () => {
  tidy(() => {
    const f32 = tensor(new Float32Array([1.5, -2.25]));
    assert.deepEqual(Array.from(f32.toTypedArray() as Float32Array), [1.5, -2.25]);
    const f64 = tensor(new Float64Array([1 / 3]));
    assert.equal((f64.toTypedArray() as Float64Array)[0], 1 / 3);
    const big = 2n ** 40n + 7n;
    const i64 = tensor(new BigInt64Array([big, -3n]));
    assert.deepEqual(Array.from(i64.toTypedArray() as BigInt64Array), [big, -3n]);
    assert.equal(tensor(new Int32Array([7])).dtype, 'int32');
    const b = tensor(new Uint8Array([1, 0, 1]), { dtype: 'bool' });
    assert.deepEqual(b.toNumbers(), [1, 0, 1]);
    // float16 / bfloat16: raw 16-bit patterns in, values out.
    const half = tensor(new Uint16Array([0x3c00, 0xc000]), { dtype: 'float16' }); // 1.0, -2.0
    assert.deepEqual(half.toNumbers(), [1, -2]);
    const brain = tensor(new Uint16Array([0x3f80, 0x4040]), { dtype: 'bfloat16' }); // 1.0, 3.0
    assert.deepEqual(brain.toNumbers(), [1, 3]);
    assert.deepEqual(Array.from(tensor([1, -2], { dtype: 'float16' }).toTypedArray() as Uint16Array), [0x3c00, 0xc000]);
    assert.equal(tensor([0.1]).to({ dtype: 'bfloat16' }).toNumbers()[0], 0.10009765625);
    return null;
  });
});

test('fromBuffer checks the byte length against the shape', () => {
  assert.throws(() => tensor(new Float32Array(5), { shape: [2, 3] }), /20 bytes given but shape \[2, 3\] of float32 needs 24/);
});

test('libtorch errors arrive as JS errors with torch’s message and the process survives', () => {
  tidy(() => {
    const a = ones([2, 3]);
    assert.throws(() => a.matmul(ones([2, 3])), /mat1 and mat2 shapes cannot be multiplied \(2x3 and 2x3\)/);
    assert.throws(() => a.view([4]), /shape '\[4\]' is invalid for input of size 6/);
    assert.throws(() => a.indexSelect(0, tensor([5], { dtype: 'int64' })), /out of range|index/i);
    assert.throws(() => embedding(ones([3, 2]), tensor([0.5])), /Expected tensor for argument #1 'indices' to have one of the following scalar types: Long, Int/);
    assert.throws(() => a.add(ones([4])), /size of tensor a \(3\) must match the size of tensor b \(4\)/);
    assert.throws(() => a.to({ dtype: 'complex' as never }), /unknown dtype 'complex'/);
    assert.throws(() => a.sum([7]), /Dimension out of range/);
    // Still healthy afterwards.
    assert.deepEqual(a.add(1).sum().item(), 12);
    return null;
  });
});

test('using a disposed tensor throws a clear error', () => {
  const t = ones([2]);
  t.dispose();
  t.dispose(); // idempotent
  assert.equal(t.isDisposed, true);
  assert.throws(() => t.shape, /tensor was disposed/);
  assert.throws(() => t.add(1), /tensor was disposed/);
  assert.throws(() => ones([2]).add(t), /tensor was disposed/);
});

test('bad argument types are TypeErrors naming the argument', () => {
  tidy(() => {
    const a = ones([1]);
    assert.throws(() => a.matmul({ handle: 'x' } as unknown as Tensor), /argument 1: expected a tensor id/);
    assert.throws(() => a.reshape(['2'] as unknown as number[]), /argument 1\[0\]: expected an integer/);
    assert.throws(() => a.narrow(0, 0.5, 1), /argument 2: expected an integer/);
  });
});

test('devices: cpu by default; cuda requests fail clearly when no GPU is present', () => {
  tidy(() => {
    const t = ones([2]);
    assert.equal(t.device, 'cpu');
    if (cuda.isAvailable()) {
      const g = t.to({ device: 'cuda' });
      assert.equal(g.device, 'cuda:0');
      assert.deepEqual(g.mul(2).to({ device: 'cpu' }).toNumbers(), [2, 2]);
    } else {
      assert.equal(cuda.deviceCount(), 0);
      // A CPU-only libtorch and a CUDA build on a machine without a GPU are told apart.
      const expected = engineInfo().cudaBuild ? /this CUDA build sees 0 CUDA devices/ : /built against a CPU-only libtorch/;
      assert.throws(() => t.to({ device: 'cuda' }), expected);
      assert.throws(() => ones([1], { device: 'gpu' }), /unknown device 'gpu'/);
    }
    return null;
  });
});

test('views share storage; contiguous copies', () => {
  tidy(() => {
    const a = arange(0, 6, 1, { dtype: 'float32' }).reshape([2, 3]);
    const t = a.transpose(0, 1);
    assert.equal(t.isContiguous, false);
    assert.deepEqual(t.contiguous().toNumbers(), [0, 3, 1, 4, 2, 5]);
    a.narrow(1, 0, 1).fill_(9);
    assert.deepEqual(a.toNumbers(), [9, 1, 2, 9, 4, 5]);
    assert.deepEqual(a.slice(1, 0, 3, 2).toNumbers(), [9, 2, 9, 5]);
    assert.deepEqual(a.split(1, 0).map((p) => p.shape), [[1, 3], [1, 3]]);
    return null;
  });
});

test('integer tensors stay integer with integral scalars (as Python)', () => {
  tidy(() => {
    const ids = tensor([1, 2], { dtype: 'int64' });
    assert.equal(ids.add(1).dtype, 'int64');
    assert.equal(ids.mul(0.5).dtype, 'float32');
    assert.equal(ids.div(2).dtype, 'float32');
    return null;
  });
});

test('autograd: requiresGrad, grad accumulation, setGrad, detach, noGrad', () => {
  tidy(() => {
    const w = tensor([1, 2, 3]).requiresGrad_();
    assert.equal(w.requiresGrad, true);
    assert.equal(w.isLeaf, true);
    assert.equal(w.grad, null);
    w.mul(w).sum().backward();
    assert.deepEqual(w.grad!.toNumbers(), [2, 4, 6]);
    w.mul(3).sum().backward(); // accumulates
    assert.deepEqual(w.grad!.toNumbers(), [5, 7, 9]);
    w.setGrad(null);
    assert.equal(w.grad, null);
    assert.equal(w.detach().requiresGrad, false);
    const y = noGrad(() => {
      assert.equal(isGradEnabled(), false);
      return w.mul(2);
    });
    assert.equal(isGradEnabled(), true);
    assert.equal(y.requiresGrad, false);
    assert.throws(() => y.sum().backward(), /does not require grad/);
    return null;
  });
});

test('embedding rows at paddingIdx get no gradient', () => {
  tidy(() => {
    const weight = ones([4, 2]).requiresGrad_();
    embedding(weight, tensor([0, 2, 2, 1], { dtype: 'int64' }), 2).sum().backward();
    assert.deepEqual(weight.grad!.toNumbers(), [1, 1, 1, 1, 0, 0, 0, 0]);
    return null;
  });
});

test('optimizer state can be saved, restored and reset', () => {
  manualSeed(1);
  const params = [keep(randn([4, 3]).requiresGrad_()), keep(randn([3]).requiresGrad_())];
  const optimizer = new AdamW(params, { lr: 0.1 });
  const step = (): void =>
    tidy(() => {
      optimizer.zeroGrad();
      params[0]!.matmul(params[1]!).pow(2).sum().backward();
      optimizer.step();
    });
  step();
  step();
  const savedParams = snapshotParameters(params);
  const savedState = optimizer.state();
  assert.deepEqual(savedState.steps, [2, 2]);
  step();
  const afterThird = params.map((p) => p.toNumbers());
  // Restore weights and moments: the third step is reproduced exactly.
  restoreParameters(params, savedParams);
  optimizer.loadState(savedState);
  step();
  assert.deepEqual(params.map((p) => p.toNumbers()), afterThird);
  // Reset: the next step is a fresh optimizer's first step.
  restoreParameters(params, savedParams);
  optimizer.reset();
  assert.deepEqual(optimizer.state().steps, [0, 0]);
  step();
  const afterReset = params.map((p) => p.toNumbers());
  restoreParameters(params, savedParams);
  const fresh = new AdamW(params, { lr: 0.1 });
  tidy(() => {
    fresh.zeroGrad();
    params[0]!.matmul(params[1]!).pow(2).sum().backward();
    fresh.step();
  });
  assert.deepEqual(params.map((p) => p.toNumbers()), afterReset);
  // AdamW's first step moves every weight by about lr (the update is normalised).
  const moved = afterReset[0]!.map((v, i) => Math.abs(v - savedParams[0]!.toNumbers()[i]!));
  assert.ok(moved.every((d) => d > 0.05 && d < 0.15), `first-step moves ${moved.join(', ')}`);
  optimizer.lr = 0.5;
  assert.equal(optimizer.lr, 0.5);
  assert.throws(() => (optimizer.lr = -1), /learning rate must be >= 0/);
  disposeAll([...params, ...savedParams, ...Object.values(savedState.slots).flat()]);
});

test('optimizer state with mismatched shapes is rejected', () => {
  const p = keep(zeros([2]).requiresGrad_());
  const q = keep(zeros([3]).requiresGrad_());
  const optimizer = new AdamW([p]);
  assert.throws(() => optimizer.loadState({ steps: [1], slots: { exp_avg: [q], exp_avg_sq: [q] } }), /has shape \[3\], parameter has \[2\]/);
  assert.throws(() => optimizer.loadState({ steps: [1, 2], slots: {} }), /state has 2 parameters, optimizer has 1/);
  disposeAll([p, q]);
});

test('threads default to all cores and can be changed', () => {
  assert.equal(getNumThreads(), Number(process.env['TTTNN_NUM_THREADS'] ?? availableParallelism()));
  setNumThreads(1);
  assert.equal(getNumThreads(), 1);
  setNumThreads(availableParallelism());
  assert.throws(() => setNumThreads(0), /at least 1 thread/);
});
