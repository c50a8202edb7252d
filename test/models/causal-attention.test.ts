// The fused causal attention kernel (native/src/causal_attention.cc, through
// engine causalAttention and models/attention.ts's attend) on sequences of
// several query blocks (64) and a partial one: outputs and the gradients of
// q, k and v against (1) our T x T path (matmul, masked softmax, matmul),
// (2) python3-torch's masked_fill + softmax attention and (3) PyTorch 2.x's
// F.scaled_dot_product_attention (.venv-ref), for full causal attention and
// windows (GPT-Neo's local layers, sliding windows) shorter and longer than a
// block; the kernel itself and, on a libtorch 2.x addon, sdpa. bf16 inputs
// (autocast's projections) through attend: computed in fp32, returned in bf16,
// against both references on the same bf16-rounded inputs. With dropout:
// the same seed gives the same output, another seed another, and the
// gradients match finite differences of the same dropout mask.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { causalAttention, manualSeed, randn, tidy, type Tensor } from '../../src/engine/index.js';
import { attend, causalMask, localCausalMask } from '../../src/models/attention.js';
import { assertClose } from '../helpers/assert-close.js';
import { runPython } from '../helpers/python.js';
import { runRefVenvPython } from '../helpers/ref-venv.js';

const [B, H, T, D] = [2, 3, 2 * 64 + 37, 8];
const SCALE = 1 / Math.sqrt(D);

interface Case {
  name: string;
  window?: number;
}

/** How `ours` computes: the fused kernel, PyTorch's sdpa where the addon has it, or our T x T rows. */
type Path = 'kernel' | 'sdpa' | 'rows';

const CASES: Case[] = [
  { name: 'causal' },
  { name: 'local window 3 (GPT-Neo)', window: 3 },
  { name: 'sliding window longer than a block', window: 64 + 20 },
];

interface Result {
  y: number[];
  dq: number[];
  dk: number[];
  dv: number[];
}

/** Our attention by `path`, and the gradients of sum(y * g). */
function ours(c: Case, q0: Tensor, k0: Tensor, v0: Tensor, g: Tensor, path: Path): Result {
  return tidy(() => {
    const [q, k, v] = [q0, k0, v0].map((t) => t.detach().requiresGrad_()) as [Tensor, Tensor, Tensor];
    const mask = c.window === undefined ? causalMask(T, 'cpu') : localCausalMask(T, c.window, 'cpu');
    const y =
      path === 'rows'
        ? attend(q, k, v, { scale: SCALE, blocked: mask, dropoutP: 0, training: false })
        : causalAttention(q, k, v, { scale: SCALE, window: c.window ?? 0, dropoutP: 0, useSdpa: path === 'sdpa' });
    y.mul(g).sum().backward();
    return { y: y.toNumbers(), dq: q.grad!.toNumbers(), dk: k.grad!.toNumbers(), dv: v.grad!.toNumbers() };
  });
}

const REFERENCE = `
import json, sys, torch, torch.nn.functional as F
d = json.load(sys.stdin)
B, H, T, D = d['shape']
out = []
for c in d['cases']:
    q, k, v, g = (torch.tensor(d[n], dtype=torch.float32).reshape(B, H, T, D) for n in ('q', 'k', 'v', 'g'))
    for t in (q, k, v): t.requires_grad_()
    i = torch.arange(T)
    blocked = i[None, :] > i[:, None]
    if c.get('window') is not None: blocked = blocked | (i[:, None] - i[None, :] >= c['window'])
    if d['sdpa']:
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=~blocked, scale=d['scale'])
    else:
        y = torch.softmax(((q * d['scale']) @ k.transpose(-1, -2)).masked_fill(blocked, float('-inf')), -1) @ v
    (y * g).sum().backward()
    out.append({'y': y.flatten().tolist(), 'dq': q.grad.flatten().tolist(), 'dk': k.grad.flatten().tolist(), 'dv': v.grad.flatten().tolist()})
print(json.dumps(out))
`;

function check(actual: Result, expected: Result, what: string): void {
  for (const key of ['y', 'dq', 'dk', 'dv'] as const) assertClose(actual[key], expected[key], 2e-5, `${what}: ${key}`, 1e-4);
}

test('fused causal attention matches the T x T form, python3-torch and PyTorch 2.x sdpa: forward and gradients', () => {
  tidy(() => {
    manualSeed(3);
    const [q, k, v, g] = Array.from({ length: 4 }, () => randn([B, H, T, D])) as [Tensor, Tensor, Tensor, Tensor];
    const full = CASES.map((c) => ours(c, q, k, v, g, 'rows'));
    const input = { shape: [B, H, T, D], scale: SCALE, cases: CASES, q: q.toNumbers(), k: k.toNumbers(), v: v.toNumbers(), g: g.toNumbers() };
    const torch = runPython<Result[]>(REFERENCE, { ...input, sdpa: false });
    const torch2 = runRefVenvPython<Result[]>(REFERENCE, { ...input, sdpa: true });
    for (const path of ['kernel', 'sdpa'] as const) {
      CASES.forEach((c, i) => {
        const fused = ours(c, q, k, v, g, path);
        check(full[i]!, torch[i]!, `${c.name}, our T x T rows vs python3-torch`);
        check(fused, full[i]!, `${c.name}, ${path} vs our T x T rows`);
        check(fused, torch[i]!, `${c.name}, ${path} vs python3-torch`);
        check(fused, torch2[i]!, `${c.name}, ${path} vs PyTorch 2.x sdpa`);
      });
    }
    // attend() takes the fused path when told the mask is causal: same numbers as the kernel (or sdpa) itself.
    const viaAttend = tidy(() => attend(q, k, v, { scale: SCALE, blocked: causalMask(T, 'cpu'), causal: {}, dropoutP: 0.5, training: false }).toNumbers());
    assertClose(viaAttend, full[0]!.y, 2e-5, 'attend with causal (evaluation: no dropout)', 1e-4);
  });
});

test('fused causal attention through attend with bf16 inputs: fp32 compute, bf16 result, gradients match both references on the rounded inputs', () => {
  tidy(() => {
    manualSeed(6);
    const cases = CASES.slice(0, 2); // causal and GPT-Neo's local window
    const [q, k, v] = Array.from({ length: 3 }, () => randn([B, H, T, D]).to({ dtype: 'bfloat16' })) as [Tensor, Tensor, Tensor];
    const g = randn([B, H, T, D]);
    const fp32 = (t: Tensor): number[] => t.to({ dtype: 'float32' }).toNumbers();
    const input = { shape: [B, H, T, D], scale: SCALE, cases, q: fp32(q), k: fp32(k), v: fp32(v), g: g.toNumbers() };
    const torch = runPython<Result[]>(REFERENCE, { ...input, sdpa: false });
    const torch2 = runRefVenvPython<Result[]>(REFERENCE, { ...input, sdpa: true });
    cases.forEach((c, i) => {
      const ours = tidy((): Result => {
        const [qq, kk, vv] = [q, k, v].map((t) => t.detach().requiresGrad_()) as [Tensor, Tensor, Tensor];
        const mask = c.window === undefined ? causalMask(T, 'cpu') : localCausalMask(T, c.window, 'cpu');
        const y = attend(qq, kk, vv, { scale: SCALE, blocked: mask, causal: { window: c.window }, dropoutP: 0, training: false });
        assert.equal(y.dtype, 'bfloat16', `${c.name}: the result keeps the inputs' dtype`);
        y.mul(g).sum().backward();
        return { y: fp32(y), dq: fp32(qq.grad!), dk: fp32(kk.grad!), dv: fp32(vv.grad!) };
      });
      // bf16 rounding of the result and of the gradients: 2^-8 relative.
      for (const key of ['y', 'dq', 'dk', 'dv'] as const) {
        assertClose(ours[key], torch[i]![key], 1e-2, `${c.name}, bf16: ${key} vs python3-torch`, 1e-2);
        assertClose(ours[key], torch2[i]![key], 1e-2, `${c.name}, bf16: ${key} vs PyTorch 2.x sdpa`, 1e-2);
      }
    });
  });
});

test('fused causal attention with dropout: reproducible by seed, and its gradients match finite differences of the same mask', () => {
  tidy(() => {
    manualSeed(5);
    const [t, p, window] = [100, 0.3, 40];
    const [q, k, v, g, dq, dk, dv] = Array.from({ length: 7 }, (): Tensor => randn([1, 2, t, D])) as [Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor];
    const f = (seed: number, eps: number): { value: number; grads?: number[][] } =>
      tidy(() => {
        const [qq, kk, vv] = [[q, dq], [k, dk], [v, dv]].map(([x, d]) => x!.add(d!.mul(eps)).detach().requiresGrad_()) as [Tensor, Tensor, Tensor];
        manualSeed(seed);
        const y = causalAttention(qq, kk, vv, { scale: SCALE, window, dropoutP: p, useSdpa: true }); // sdpa never takes dropout
        const loss = y.mul(g).sum();
        loss.backward();
        return { value: loss.item(), grads: [qq.grad!.toNumbers(), kk.grad!.toNumbers(), vv.grad!.toNumbers()] };
      });
    const base = f(7, 0);
    assert.equal(f(7, 0).value, base.value, 'the same seed gives the same dropout mask');
    assert.notEqual(f(8, 0).value, base.value, 'another seed another mask');
    const noDropout = tidy(() => causalAttention(q, k, v, { scale: SCALE, window, dropoutP: 0, useSdpa: false }).mul(g).sum().item());
    assert.notEqual(base.value, noDropout, 'dropout changes the output');
    // The drop rate is p and kept probabilities are scaled by 1 / (1 - p): with
    // v all ones every output is sum_j P_ij m_ij / (1 - p), whose mean over
    // 2 x 100 rows x D is 1 (within ~6 standard errors at window 40).
    const ones = tidy(() => causalAttention(q, k, v.mul(0).add(1), { scale: SCALE, window, dropoutP: p, useSdpa: false }).mean().item());
    assert.ok(Math.abs(ones - 1) < 0.05, `mean of dropped-out rows over ones is ${ones}, expected about 1`);
    const eps = 1e-2;
    const numeric = (f(7, eps).value - f(7, -eps).value) / (2 * eps);
    const directions = [dq, dk, dv].map((d) => d.toNumbers());
    const analytic = base.grads!.reduce((sum, grad, i) => sum + grad.reduce((s2, x, j) => s2 + x * directions[i]![j]!, 0), 0);
    assertClose([analytic], [numeric], 2e-2, 'directional derivative with dropout', 2e-3);
  });
});
