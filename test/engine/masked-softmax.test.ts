// The fused masked softmax (native/src/masked_softmax.cc) against
// python3-torch's softmax of the scores with blocked positions at -inf,
// forward and backward: causal, padding and random masks, fully blocked
// rows (zeros), non-contiguous scores, bf16, and the non-last-dim fallback.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { manualSeed, maskedSoftmax, rand, randn, tensor, tidy, type Tensor } from '../../src/engine/index.js';
import { assertClose } from '../helpers/assert-close.js';
import { runPython } from '../helpers/python.js';

interface Case {
  name: string;
  x: Tensor;
  blocked: Tensor;
  dim: number;
}

const REFERENCE = `
import json, sys, torch
cases = json.load(sys.stdin)
out = []
for c in cases:
    x = torch.tensor(c['x'], dtype=torch.float32).reshape(c['shape'])
    if c['bf16']: x = x.bfloat16()
    x.requires_grad_()
    blocked = torch.tensor(c['blocked'], dtype=torch.bool).reshape(c['blocked_shape'])
    filled = x.float().masked_fill(blocked, float('-inf'))
    y = torch.softmax(filled, c['dim']).nan_to_num(0.0)  # a fully blocked row: 0, as _masked_softmax
    g = torch.tensor(c['g'], dtype=torch.float32).reshape(y.shape)
    (y * g).sum().backward()
    out.append({'y': y.flatten().tolist(), 'dx': x.grad.float().flatten().tolist()})
print(json.dumps(out))
`;

function mask(shape: number[], blockedAt: (index: number[]) => boolean): Tensor {
  const values: number[] = [];
  const walk = (prefix: number[]): void => {
    if (prefix.length === shape.length) {
      values.push(blockedAt(prefix) ? 1 : 0);
      return;
    }
    for (let i = 0; i < (shape[prefix.length] as number); i++) walk([...prefix, i]);
  };
  walk([]);
  return tensor(values, { shape }).to({ dtype: 'bool' });
}

test('masked softmax and its gradient match torch: causal, padding, random, fully blocked, strided, bf16, other dims', () => {
  tidy(() => {
    manualSeed(11);
    const T = 37; // not a multiple of any vector width
    const cases: Case[] = [
      { name: 'causal [T, T] over [B, H, T, T]', x: randn([2, 3, T, T]).mul(3), blocked: mask([T, T], ([i, j]) => j! > i!), dim: -1 },
      { name: 'padding [B, 1, 1, T] (a fully padded sequence gives zero rows)', x: randn([2, 2, 5, T]), blocked: mask([2, 1, 1, T], ([b, , , j]) => b === 1 || j! >= 30), dim: -1 },
      { name: 'random mask, same shape', x: randn([4, 70]).mul(10), blocked: rand([4, 70]).lt(0.4), dim: -1 },
      { name: 'non-contiguous scores', x: randn([3, 40, 6]).transpose(1, 2), blocked: mask([40], (j) => j[0]! % 3 === 0), dim: -1 },
      { name: 'bf16 scores (autocast)', x: randn([2, 4, T, T]).to({ dtype: 'bfloat16' }), blocked: mask([T, T], ([i, j]) => j! > i!), dim: -1 },
      { name: 'softmax over another dim (ATen fallback)', x: randn([5, 6, 7]), blocked: rand([5, 6, 7]).lt(0.3), dim: 1 },
    ];
    const ours = cases.map((c) => {
      const x = c.x.detach().requiresGrad_(true);
      const y = maskedSoftmax(x, c.blocked, c.dim);
      assert.equal(y.dtype, c.x.dtype, `${c.name}: dtype`);
      const g = randn(y.shape);
      y.to({ dtype: 'float32' }).mul(g).sum().backward();
      return { y: y.to({ dtype: 'float32' }).toNumbers(), dx: x.grad!.to({ dtype: 'float32' }).toNumbers(), g: g.toNumbers() };
    });
    const theirs = runPython<{ y: number[]; dx: number[] }[]>(
      REFERENCE,
      cases.map((c, i) => ({
        x: c.x.to({ dtype: 'float32' }).toNumbers(), shape: c.x.shape, bf16: c.x.dtype === 'bfloat16',
        blocked: c.blocked.to({ dtype: 'float32' }).toNumbers().map((v) => v !== 0), blocked_shape: c.blocked.shape, dim: c.dim, g: ours[i]!.g,
      })),
    );
    cases.forEach((c, i) => {
      const bf16 = c.x.dtype === 'bfloat16';
      // bf16: torch computes in fp32 here and rounds once; we round y and dx to bf16 once too.
      assertClose(ours[i]!.y, theirs[i]!.y, bf16 ? 4e-3 : 1e-6, `${c.name}: probabilities`, bf16 ? 8e-3 : 1e-5);
      assertClose(ours[i]!.dx, theirs[i]!.dx, bf16 ? 2e-2 : 1e-5, `${c.name}: gradient`, bf16 ? 2e-2 : 1e-4);
    });
    // Blocked positions get exactly 0, and a fully blocked row is all zeros (not NaN).
    const padded = ours[1]!.y.slice(2 * 5 * T, 4 * 5 * T);
    assert.ok(padded.every((v) => v === 0), 'the fully padded sequence');
  });
});
