// The fused output layer + cross entropy (native/src/linear_cross_entropy.cc,
// engine linearCrossEntropy) over several row chunks (128) and a partial one:
// loss and the gradients of h, W and b against (1) our plain form
// (linear, then crossEntropy), (2) python3-torch's and (3) PyTorch 2.x's
// F.cross_entropy(h @ W.T + b), with ignored targets (-100), 'mean' and
// 'sum'; per-row losses ('none') against -log_softmax; no counted target
// (NaN mean, zero gradients); and a gradient asked of 'none' refused.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { crossEntropy, linear, linearCrossEntropy, manualSeed, noGrad, randint, randn, tensor, tidy, type Tensor } from '../../src/engine/index.js';
import { assertClose } from '../helpers/assert-close.js';
import { runPython } from '../helpers/python.js';
import { runRefVenvPython } from '../helpers/ref-venv.js';

const [N, C, V] = [300, 16, 1000];

interface Result {
  loss: number;
  dh: number[];
  dw: number[];
  db: number[];
  rows: number[];
}

const REFERENCE = `
import json, sys, torch, torch.nn.functional as F
d = json.load(sys.stdin)
out = {}
for reduction in ('mean', 'sum'):
    h = torch.tensor(d['h']).reshape(d['N'], d['C']).requires_grad_()
    w = torch.tensor(d['w']).reshape(d['V'], d['C']).requires_grad_()
    b = torch.tensor(d['b']).requires_grad_()
    t = torch.tensor(d['t'])
    loss = F.cross_entropy(h @ w.T + b, t, ignore_index=-100, reduction=reduction)
    loss.backward()
    with torch.no_grad():
        rows = F.cross_entropy(h @ w.T + b, t, ignore_index=-100, reduction='none')
    out[reduction] = {'loss': loss.item(), 'dh': h.grad.flatten().tolist(), 'dw': w.grad.flatten().tolist(), 'db': b.grad.tolist(), 'rows': rows.tolist()}
print(json.dumps(out))
`;

function ours(h0: Tensor, w0: Tensor, b0: Tensor, t: Tensor, reduction: 'mean' | 'sum', fused: boolean): Result {
  return tidy(() => {
    const [h, w, b] = [h0, w0, b0].map((x) => x.detach().requiresGrad_()) as [Tensor, Tensor, Tensor];
    const loss = fused ? linearCrossEntropy(h, w, b, t, { reduction }) : crossEntropy(linear(h, w, b), t, { reduction });
    loss.backward();
    const rows = noGrad(() => (fused ? linearCrossEntropy(h, w, b, t, { reduction: 'none' }) : crossEntropy(linear(h, w, b), t, { reduction: 'none' })).toNumbers());
    return { loss: loss.item(), dh: h.grad!.toNumbers(), dw: w.grad!.toNumbers(), db: b.grad!.toNumbers(), rows };
  });
}

function check(actual: Result, expected: Result, what: string): void {
  assertClose([actual.loss], [expected.loss], 1e-5, `${what}: loss`, 1e-5);
  assertClose(actual.dh, expected.dh, 1e-6, `${what}: dh`, 1e-4);
  assertClose(actual.dw, expected.dw, 1e-6, `${what}: dW`, 1e-4);
  assertClose(actual.db, expected.db, 1e-6, `${what}: db`, 1e-4);
  assertClose(actual.rows, expected.rows, 1e-5, `${what}: per-row losses`, 1e-5);
}

test('fused output-layer cross entropy matches the plain form, python3-torch and PyTorch 2.x: loss, per-row losses, gradients', () => {
  tidy(() => {
    manualSeed(2);
    const h = randn([N, C]);
    const w = randn([V, C]).mul(0.5);
    const b = randn([V]);
    const targets = randint(0, V, [N]).toNumbers().map((x, i) => (i % 7 === 3 ? -100 : x));
    const t = tensor(targets, { dtype: 'int64' });
    const input = { N, C, V, h: h.toNumbers(), w: w.toNumbers(), b: b.toNumbers(), t: targets };
    const torch = runPython<Record<string, Result>>(REFERENCE, input);
    const torch2 = runRefVenvPython<Record<string, Result>>(REFERENCE, input);
    for (const reduction of ['mean', 'sum'] as const) {
      const fused = ours(h, w, b, t, reduction, true);
      check(fused, ours(h, w, b, t, reduction, false), `${reduction}, fused vs plain`);
      check(fused, torch[reduction]!, `${reduction}, fused vs python3-torch`);
      check(fused, torch2[reduction]!, `${reduction}, fused vs PyTorch 2.x`);
    }
  });
});

test('fused output-layer cross entropy: no counted target gives NaN and zero gradients; no bias; a gradient of per-row losses is refused', () => {
  tidy(() => {
    manualSeed(4);
    const h = randn([5, C]).requiresGrad_();
    const w = randn([V, C]).requiresGrad_();
    const loss = linearCrossEntropy(h, w, null, tensor([-100, -100, -100, -100, -100], { dtype: 'int64' }));
    assert.ok(Number.isNaN(loss.item()));
    loss.backward();
    assert.ok(h.grad!.toNumbers().every((x) => x === 0) && w.grad!.toNumbers().every((x) => x === 0));
    const t = tensor([1, 2, 3, 4, 5], { dtype: 'int64' });
    const plain = noGrad(() => crossEntropy(linear(h, w), t).item());
    assertClose([noGrad(() => linearCrossEntropy(h, w, null, t).item())], [plain], 1e-5, 'no bias', 1e-5);
    assert.throws(() => linearCrossEntropy(h, w, null, t, { reduction: 'none' }), /no gradient; compute it under no_grad/);
    assert.throws(() => noGrad(() => linearCrossEntropy(h, w, null, tensor([0, 1, V, 2, 3], { dtype: 'int64' }))), /target 1000 is out of bounds for 1000 classes/);
  });
});
