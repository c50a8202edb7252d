// Every differentiable op's backward against finite differences (float64).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  cat,
  crossEntropy,
  dropout,
  embedding,
  gelu,
  layerNorm,
  linear,
  logSoftmax,
  manualSeed,
  softmax,
  stack,
  tensor,
  where,
} from '../../src/engine/index.js';
import { gradcheck } from '../helpers/gradcheck.js';

const ids = (values: number[], shape?: number[]) => tensor(values, { dtype: 'int64', shape: shape ?? [values.length] });
const mask = (values: boolean[], shape: number[]) => tensor(values, { dtype: 'bool', shape });

const cases: [string, () => void][] = [
  ['add (broadcast)', () => gradcheck('add', [{ shape: [2, 3] }, { shape: [3] }], ([a, b]) => a!.add(b!))],
  ['sub (broadcast both)', () => gradcheck('sub', [{ shape: [2, 1] }, { shape: [1, 3] }], ([a, b]) => a!.sub(b!))],
  ['mul (broadcast)', () => gradcheck('mul', [{ shape: [2, 3] }, { shape: [2, 1] }], ([a, b]) => a!.mul(b!))],
  ['div', () => gradcheck('div', [{ shape: [2, 3] }, { shape: [2, 3], positive: true }], ([a, b]) => a!.div(b!))],
  ['scalar ops', () => gradcheck('scalar', [{ shape: [4] }], ([a]) => a!.mul(3).add(2).sub(1).div(4))],
  ['pow (scalar exponent)', () => gradcheck('pow', [{ shape: [5] }], ([a]) => a!.pow(3))],
  ['pow (tensor exponent)', () =>
    gradcheck('pow2', [{ shape: [4], positive: true }, { shape: [4] }], ([a, b]) => a!.pow(b!))],
  ['matmul', () => gradcheck('matmul', [{ shape: [2, 3] }, { shape: [3, 4] }], ([a, b]) => a!.matmul(b!))],
  ['matmul (batched, broadcast)', () =>
    gradcheck('bmm', [{ shape: [2, 2, 3] }, { shape: [3, 2] }], ([a, b]) => a!.matmul(b!))],
  ['linear', () =>
    gradcheck('linear', [{ shape: [2, 3] }, { shape: [4, 3] }, { shape: [4] }], ([x, w, b]) => linear(x!, w!, b))],
  ['linear (no bias)', () => gradcheck('linear0', [{ shape: [2, 3] }, { shape: [4, 3] }], ([x, w]) => linear(x!, w!))],
  ['reshape / view', () => gradcheck('reshape', [{ shape: [2, 6] }], ([a]) => a!.reshape([3, -1]).view([4, 3]))],
  ['permute / transpose / contiguous', () =>
    gradcheck('permute', [{ shape: [2, 3, 4] }], ([a]) => a!.permute([2, 0, 1]).transpose(0, 1).contiguous())],
  ['unsqueeze / squeeze / expand / flatten', () =>
    gradcheck('expand', [{ shape: [3, 1] }], ([a]) => a!.unsqueeze(0).expand([2, 3, 4]).squeeze(1 - 1).flatten(0, 1))],
  ['slice (step) / narrow / select', () =>
    gradcheck('slice', [{ shape: [4, 6] }], ([a]) => a!.slice(1, 1, 6, 2).narrow(0, 1, 2).select(0, 1))],
  ['indexSelect', () => gradcheck('indexSelect', [{ shape: [4, 3] }], ([a]) => a!.indexSelect(0, ids([3, 0, 3])))],
  ['gather', () => gradcheck('gather', [{ shape: [2, 4] }], ([a]) => a!.gather(1, ids([0, 3, 3, 1, 2, 0], [2, 3])))],
  ['cat / stack', () =>
    gradcheck('cat', [{ shape: [2, 3] }, { shape: [1, 3] }], ([a, b]) => stack([cat([a!, b!], 0), cat([b!, a!], 0)], 1))],
  ['split / chunk', () =>
    gradcheck('split', [{ shape: [5, 2] }], ([a]) => {
      const [p, q] = a!.split([2, 3], 0);
      const [r] = a!.chunk(5, 0);
      return cat([p!.mul(2), q!.pow(2), r!], 0);
    })],
  // (the padding row's zero gradient is a deliberate non-derivative: see ops.test.ts)
  ['embedding', () => gradcheck('embedding', [{ shape: [5, 3] }], ([w]) => embedding(w!, ids([1, 4, 1, 0], [2, 2])))],
  ['layerNorm', () =>
    gradcheck('layerNorm', [{ shape: [2, 3, 4] }, { shape: [4] }, { shape: [4] }], ([x, w, b]) =>
      layerNorm(x!, [4], w!, b!, 1e-5))],
  ['gelu (exact)', () => gradcheck('gelu', [{ shape: [6] }], ([a]) => gelu(a!, 'none'))],
  ['gelu (tanh)', () => gradcheck('gelu_tanh', [{ shape: [6] }], ([a]) => gelu(a!, 'tanh'))],
  ['softmax', () => gradcheck('softmax', [{ shape: [2, 5] }], ([a]) => softmax(a!, -1))],
  ['logSoftmax', () => gradcheck('logSoftmax', [{ shape: [3, 4] }], ([a]) => logSoftmax(a!, 0))],
  ['maskedFill', () =>
    gradcheck('maskedFill', [{ shape: [2, 3] }], ([a]) => a!.maskedFill(mask([true, false, false, true, true, false], [2, 3]), -2))],
  ['tril / triu', () => gradcheck('tril', [{ shape: [3, 3] }], ([a]) => a!.tril().add(a!.triu(1).mul(3)))],
  ['where', () =>
    gradcheck('where', [{ shape: [2, 3] }, { shape: [2, 3] }], ([a, b]) =>
      where(mask([true, false, true, false, true, true], [2, 3]), a!, b!))],
  ['where (scalar branch)', () =>
    gradcheck('where1', [{ shape: [4] }], ([a]) => where(mask([true, false, true, false], [4]), a!, -1))],
  ['sum / mean over dims', () =>
    gradcheck('sum', [{ shape: [2, 3, 4] }], ([a]) => a!.sum([1], true).add(a!.mean([0, 2]).reshape([1, 3, 1])))],
  ['max (all) / maxAlong / topk', () =>
    gradcheck('max', [{ shape: [3, 4] }], ([a]) =>
      cat([a!.max().reshape([1]), a!.maxAlong(1).values, a!.topk(2, 1).values.flatten()], 0))],
  ['logsumexp', () => gradcheck('logsumexp', [{ shape: [2, 4] }], ([a]) => a!.logsumexp([1]))],
  ['exp / log / sqrt / rsqrt', () =>
    gradcheck('explog', [{ shape: [5], positive: true }], ([a]) => cat([a!.exp(), a!.log(), a!.sqrt(), a!.rsqrt()]))],
  ['tanh / sigmoid / neg / abs / relu', () =>
    gradcheck('unary', [{ shape: [5], values: [-1.3, -0.4, 0.3, 0.9, 2.1] }], ([a]) =>
      cat([a!.tanh(), a!.sigmoid(), a!.neg(), a!.abs(), a!.relu()]))],
  ['sin / cos / clamp', () =>
    gradcheck('trig', [{ shape: [4], values: [-1.3, -0.4, 0.3, 0.9] }], ([a]) => cat([a!.sin(), a!.cos(), a!.clamp(-0.5, 0.5)]))],
  ['norm / cumsum', () =>
    gradcheck('norm', [{ shape: [2, 3] }], ([a]) => cat([a!.norm(2).reshape([1]), a!.norm(2, [1]), a!.cumsum(1).flatten()]))],
  ['dropout (seeded)', () =>
    gradcheck('dropout', [{ shape: [8] }], ([a]) => {
      manualSeed(5);
      return dropout(a!, 0.5, true);
    })],
  ['crossEntropy (mean, ignore_index)', () =>
    gradcheck('ce', [{ shape: [4, 5] }], ([logits]) => crossEntropy(logits!, ids([1, -100, 4, 0])))],
  ['crossEntropy (sum / none)', () =>
    gradcheck('ce2', [{ shape: [3, 4] }], ([logits]) =>
      cat([
        crossEntropy(logits!, ids([3, 0, 2]), { reduction: 'sum' }).reshape([1]),
        crossEntropy(logits!, ids([1, 1, -100]), { reduction: 'none' }),
      ]))],
];

for (const [name, check] of cases) test(`gradient: ${name}`, check);

test('gradcheck detects a wrong gradient', () => {
  // x.detach() * x has true derivative 2x, but autograd sees only x.
  assert.throws(() => gradcheck('broken', [{ shape: [3] }], ([a]) => a!.detach().mul(a!)), /d\/d input 0/);
});
