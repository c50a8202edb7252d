// Scopes free what they should, and a long training loop has flat memory.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  AdamW,
  crossEntropy,
  gelu,
  keep,
  liveTensorCount,
  linear,
  manualSeed,
  ones,
  randint,
  randn,
  scopeDepth,
  tidy,
  type Tensor,
} from '../../src/engine/index.js';

test('tidy frees everything created inside except what it returns', () => {
  const before = liveTensorCount();
  let inner: Tensor | undefined;
  const result = tidy(() => {
    inner = ones([3]).add(1);
    const kept = inner.mul(2);
    return { kept, list: [kept.add(1)], label: 'x' };
  });
  assert.equal(inner!.isDisposed, true);
  assert.equal(result.kept.isDisposed, false);
  assert.deepEqual(result.list[0]!.toNumbers(), [5, 5, 5]);
  assert.equal(liveTensorCount(), before + 2);
  result.kept.dispose();
  result.list[0]!.dispose();
  assert.equal(liveTensorCount(), before);
});

test('nested scopes hand results to the enclosing scope', () => {
  const before = liveTensorCount();
  let fromInner: Tensor | undefined;
  tidy(() => {
    fromInner = tidy(() => ones([2]).mul(3));
    assert.equal(scopeDepth(), 1);
    assert.equal(fromInner.isDisposed, false);
  });
  assert.equal(fromInner!.isDisposed, true);
  assert.equal(liveTensorCount(), before);
});

test('keep() exempts a tensor from every scope; errors still free the scope', () => {
  const before = liveTensorCount();
  let kept: Tensor | undefined;
  let lost: Tensor | undefined;
  assert.throws(() =>
    tidy(() => {
      kept = keep(ones([2]));
      lost = ones([2]);
      throw new Error('boom');
    }),
  );
  assert.equal(lost!.isDisposed, true);
  assert.equal(kept!.isDisposed, false);
  kept!.dispose();
  assert.equal(liveTensorCount(), before);
  assert.throws(() => tidy(() => Promise.resolve(1)), /scopes are synchronous/);
  assert.equal(scopeDepth(), 0);
});

test('2,000 training steps of a small MLP keep RSS flat (growth < 4 MiB after 1,000 warm-up steps) and leak no tensor', (t) => {
  manualSeed(0);
  const params = tidy(() => [randn([256, 128]).mul(0.05), randn([256]).mul(0), randn([10, 256]).mul(0.05), randn([10])].map((p) => keep(p.requiresGrad_())));
  const [w1, b1, w2, b2] = params as [Tensor, Tensor, Tensor, Tensor];
  const optimizer = new AdamW(params, { lr: 1e-3 });
  const step = (): number =>
    tidy(() => {
      const x = randn([64, 128]);
      const y = randint(0, 10, [64]);
      optimizer.zeroGrad();
      const loss = crossEntropy(linear(gelu(linear(x, w1, b1), 'tanh'), w2, b2), y);
      loss.backward();
      optimizer.step();
      return loss.item();
    });

  for (let i = 0; i < 1000; i++) step(); // warm-up: allocator cache, optimizer state, JIT
  global.gc?.();
  const tensorsBefore = liveTensorCount();
  const rssBefore = process.memoryUsage().rss;
  let peakGrowth = 0;
  for (let i = 0; i < 2000; i++) {
    step();
    if (i % 100 === 99) peakGrowth = Math.max(peakGrowth, process.memoryUsage().rss - rssBefore);
  }
  const growthMiB = peakGrowth / 2 ** 20;
  t.diagnostic(`RSS growth over 2,000 steps: ${growthMiB.toFixed(2)} MiB`);
  assert.equal(liveTensorCount(), tensorsBefore, 'tensors leaked by the training loop');
  assert.ok(growthMiB < 4, `RSS grew by ${growthMiB.toFixed(1)} MiB over 2,000 steps`);
  for (const p of params) p.dispose();
});
