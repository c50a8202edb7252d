// The engine against python3-torch on the same weights and inputs: op
// outputs, a full MLP training step (forward, backward, grad clipping,
// AdamW) and SGD with momentum.
import { test } from 'node:test';
import {
  AdamW,
  SGD,
  clipGradNorm,
  crossEntropy,
  embedding,
  gelu,
  keep,
  layerNorm,
  linear,
  logSoftmax,
  manualSeed,
  randn,
  softmax,
  tensor,
  tidy,
  type Optimizer,
  type Tensor,
} from '../../src/engine/index.js';
import { assertClose } from '../helpers/assert-close.js';
import { runPython } from '../helpers/python.js';

const F32_TOL = 1e-5;

test('op outputs match python3-torch', () => {
  tidy(() => {
    manualSeed(3);
    const x = randn([3, 5]);
    const w = randn([5]);
    const b = randn([5]);
    const table = randn([7, 5]);
    const ids = [6, 0, 3, 3];
    const targets = [4, -100, 0];
    const ours: Record<string, number[]> = {
      gelu: gelu(x, 'none').toNumbers(),
      gelu_tanh: gelu(x, 'tanh').toNumbers(),
      layer_norm: layerNorm(x, [5], w, b, 1e-5).toNumbers(),
      softmax: softmax(x, 1).toNumbers(),
      log_softmax: logSoftmax(x, 0).toNumbers(),
      cross_entropy: [crossEntropy(x, tensor(targets, { dtype: 'int64' })).item()],
      cross_entropy_smooth: [crossEntropy(x, tensor(targets, { dtype: 'int64' }), { labelSmoothing: 0.1 }).item()],
      embedding: embedding(table, tensor(ids, { dtype: 'int64' })).toNumbers(),
      matmul: x.matmul(table.transpose(0, 1)).toNumbers(),
      causal_fill: x.matmul(x.transpose(0, 1)).maskedFill(x.matmul(x.transpose(0, 1)).tril().eq(0), -1e4).toNumbers(),
      bf16: x.to({ dtype: 'bfloat16' }).toNumbers(),
      f16: x.to({ dtype: 'float16' }).toNumbers(),
    };
    const input = { x: x.toNumbers(), w: w.toNumbers(), b: b.toNumbers(), table: table.toNumbers(), ids, targets };
    const theirs = runPython<Record<string, number[]>>(
      `
import json, sys, torch
import torch.nn.functional as F
d = json.load(sys.stdin)
x = torch.tensor(d['x']).reshape(3, 5); w = torch.tensor(d['w']); b = torch.tensor(d['b'])
table = torch.tensor(d['table']).reshape(7, 5); ids = torch.tensor(d['ids']); t = torch.tensor(d['targets'])
s = x @ x.T
out = {
  'gelu': F.gelu(x), 'gelu_tanh': F.gelu(x, approximate='tanh'),
  'layer_norm': F.layer_norm(x, [5], w, b, 1e-5), 'softmax': F.softmax(x, 1), 'log_softmax': F.log_softmax(x, 0),
  'cross_entropy': F.cross_entropy(x, t).reshape(1), 'cross_entropy_smooth': F.cross_entropy(x, t, label_smoothing=0.1).reshape(1),
  'embedding': F.embedding(ids, table), 'matmul': x @ table.T,
  'causal_fill': s.masked_fill(s.tril() == 0, -1e4),
  'bf16': x.bfloat16().float(), 'f16': x.half().float(),
}
print(json.dumps({k: v.flatten().tolist() for k, v in out.items()}))
`,
      input,
    );
    for (const [name, values] of Object.entries(ours)) {
      assertClose(values, theirs[name] as number[], F32_TOL, name, 1e-6);
    }
  });
});

// A two-layer MLP with the ops a transformer block uses.
interface Mlp {
  params: Tensor[];
  loss(x: Tensor, targets: Tensor): Tensor;
}

function makeMlp(): Mlp {
  manualSeed(11);
  const params = tidy(() =>
    [
      randn([32, 16]).mul(0.25),
      randn([32]).mul(0.1),
      randn([32]).mul(0.1).add(1),
      randn([32]).mul(0.1),
      randn([10, 32]).mul(0.25),
      randn([10]).mul(0.1),
    ].map((p) => keep(p.requiresGrad_())),
  );
  const [w1, b1, lnw, lnb, w2, b2] = params as [Tensor, Tensor, Tensor, Tensor, Tensor, Tensor];
  return {
    params,
    loss: (x, targets) => {
      const h = layerNorm(gelu(linear(x, w1, b1), 'tanh'), [32], lnw, lnb, 1e-5);
      return crossEntropy(linear(h, w2, b2), targets);
    },
  };
}

const MLP_REFERENCE = `
import json, sys, torch
import torch.nn.functional as F
torch.set_num_threads(1)
d = json.load(sys.stdin)
shapes = [[32, 16], [32], [32], [32], [10, 32], [10]]
params = [torch.tensor(v).reshape(s).requires_grad_() for v, s in zip(d['params'], shapes)]
w1, b1, lnw, lnb, w2, b2 = params
x = torch.tensor(d['x']).reshape(8, 16); t = torch.tensor(d['targets'])
if d['kind'] == 'adamw':
    opt = torch.optim.AdamW(params, lr=1e-2, betas=(0.9, 0.98), eps=1e-8, weight_decay=0.01)
else:
    opt = torch.optim.SGD(params, lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.001)
out = {'losses': [], 'norms': []}
for step in range(3):
    opt.zero_grad()
    h = F.layer_norm(F.gelu(F.linear(x, w1, b1), approximate='tanh'), [32], lnw, lnb, 1e-5)
    loss = F.cross_entropy(F.linear(h, w2, b2), t)
    loss.backward()
    if step == 0:
        out['grads'] = [p.grad.flatten().tolist() for p in params]
    out['norms'].append(float(torch.nn.utils.clip_grad_norm_(params, 1.0)))
    out['losses'].append(float(loss))
    opt.step()
out['params'] = [p.detach().flatten().tolist() for p in params]
if d['kind'] == 'adamw':
    out['exp_avg'] = [opt.state[p]['exp_avg'].flatten().tolist() for p in params]
    out['exp_avg_sq'] = [opt.state[p]['exp_avg_sq'].flatten().tolist() for p in params]
    out['steps'] = [float(opt.state[p]['step']) for p in params]
else:
    out['momentum_buffer'] = [opt.state[p]['momentum_buffer'].flatten().tolist() for p in params]
print(json.dumps(out))
`;

interface MlpResult {
  losses: number[];
  norms: number[];
  grads: number[][];
  params: number[][];
  exp_avg?: number[][];
  exp_avg_sq?: number[][];
  momentum_buffer?: number[][];
  steps?: number[];
}

function trainMlpBothWays(kind: 'adamw' | 'sgd'): void {
  const mlp = makeMlp();
  const x = keep(randn([8, 16]));
  const targetValues = [0, 3, -100, 9, 1, 1, -100, 5];
  const targets = keep(tensor(targetValues, { dtype: 'int64' }));
  const input = { kind, params: mlp.params.map((p) => p.toNumbers()), x: x.toNumbers(), targets: targetValues };

  const optimizer: Optimizer =
    kind === 'adamw'
      ? new AdamW(mlp.params, { lr: 1e-2, betas: [0.9, 0.98], eps: 1e-8, weightDecay: 0.01 })
      : new SGD(mlp.params, { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.001 });
  const ours: MlpResult = { losses: [], norms: [], grads: [], params: [] };
  for (let step = 0; step < 3; step++) {
    tidy(() => {
      optimizer.zeroGrad();
      const loss = mlp.loss(x, targets);
      loss.backward();
      if (step === 0) ours.grads = mlp.params.map((p) => p.grad!.toNumbers());
      ours.norms.push(clipGradNorm(mlp.params, 1.0).item());
      ours.losses.push(loss.item());
      optimizer.step();
    });
  }
  ours.params = mlp.params.map((p) => p.toNumbers());
  const theirs = runPython<MlpResult>(MLP_REFERENCE, input);

  assertClose(ours.losses, theirs.losses, F32_TOL, `${kind} losses`);
  assertClose(ours.norms, theirs.norms, F32_TOL, `${kind} grad norms`, 1e-5);
  ours.grads.forEach((g, i) => assertClose(g, theirs.grads[i]!, F32_TOL, `${kind} grad of param ${i}`));
  ours.params.forEach((p, i) => assertClose(p, theirs.params[i]!, F32_TOL, `${kind} param ${i} after 3 steps`, 1e-5));
  tidy(() => {
    const state = optimizer.state();
    for (const slot of Object.keys(state.slots)) {
      const expected = theirs[slot as 'exp_avg'] as number[][];
      state.slots[slot]!.forEach((t, i) => assertClose(t!.toNumbers(), expected[i]!, F32_TOL, `${kind} ${slot}[${i}]`, 1e-5));
    }
    if (theirs.steps) assertClose(state.steps, theirs.steps, 0, 'adamw step counts');
    return null;
  });
  for (const p of [...mlp.params, x, targets]) p.dispose();
}

test('MLP training step with AdamW and grad clipping matches torch.optim.AdamW', () => trainMlpBothWays('adamw'));

test('SGD with nesterov momentum and weight decay matches torch.optim.SGD', () => trainMlpBothWays('sgd'));
