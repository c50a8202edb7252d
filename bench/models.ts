// Benchmark: model training and inference speed against python3-torch.
//
//   npm run bench:models            (BENCH_QUICK=1 for smaller shapes)
//
// 1. A GPT-2-small-shaped training step (12 layers, d 768, seq 1024, batch 1:
//    forward, backward, AdamW) with our model vs the same model written in
//    PyTorch, run once as a user gets PyTorch by default and once with the
//    same thread count as ours.
// 2. Forward tokens/s of a RoBERTa-large-shaped encoder (24 layers, d 1024,
//    seq 512, batch 8) vs PyTorch.
// Model FLOPs utilisation is reported against raw sgemm measured in the same
// run (the ceiling). All in one run, because this machine's speed drifts.
import { availableParallelism } from 'node:os';
import { AdamW, getNumThreads, manualSeed, noGrad, randint, rawSgemmSeconds, tidy } from '../src/engine/index.js';
import { causalLmLoss, createModel, type CausalLM, type EncoderModel } from '../src/models/index.js';
import { formatTable, runPython } from './helpers.js';

const QUICK = process.env['BENCH_QUICK'] === '1';
const GPT = QUICK ? { layers: 4, d: 512, heads: 8, seq: 512 } : { layers: 12, d: 768, heads: 12, seq: 1024 };
const ENC = QUICK ? { layers: 6, d: 512, heads: 8, seq: 256, batch: 4 } : { layers: 24, d: 1024, heads: 16, seq: 512, batch: 8 };
const VOCAB = 50257;
const STEPS = Number(process.env['BENCH_STEPS'] ?? 3);

/** Matmul FLOPs of one forward pass per token: projections, MLP, attention scores and mixing, output layer. */
function forwardFlopsPerToken(layers: number, d: number, seq: number, vocab: number): number {
  return 2 * 12 * layers * d * d + 4 * layers * seq * d + 2 * d * vocab;
}

function ourGptStep(): number {
  manualSeed(0);
  const model = createModel({
    model_type: 'gpt2', vocab_size: VOCAB, n_positions: GPT.seq, n_embd: GPT.d, n_layer: GPT.layers, n_head: GPT.heads,
    embd_pdrop: 0, attn_pdrop: 0, resid_pdrop: 0,
  }) as CausalLM;
  model.training = true;
  const optimizer = new AdamW(model.parameters.list(), { lr: 1e-4 });
  const step = (): void =>
    tidy(() => {
      optimizer.zeroGrad();
      const loss = causalLmLoss(model, randint(0, VOCAB, [1, GPT.seq]));
      loss.backward();
      optimizer.step();
    });
  step(); // warm-up: allocator cache, optimizer state
  const start = process.hrtime.bigint();
  for (let i = 0; i < STEPS; i++) step();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9 / STEPS;
  model.dispose();
  return seconds;
}

function ourEncoderForward(): number {
  manualSeed(0);
  const model = createModel({
    model_type: 'roberta', vocab_size: 50265, max_position_embeddings: ENC.seq + 2, hidden_size: ENC.d,
    num_hidden_layers: ENC.layers, num_attention_heads: ENC.heads, intermediate_size: 4 * ENC.d,
  }) as EncoderModel;
  const forward = (): void => tidy(() => noGrad(() => void model.hiddenStates(randint(3, 50265, [ENC.batch, ENC.seq]))));
  forward();
  const start = process.hrtime.bigint();
  for (let i = 0; i < Math.max(1, STEPS - 1); i++) forward();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9 / Math.max(1, STEPS - 1);
  model.dispose();
  return seconds;
}

// The same two models in plain PyTorch (pre-LN GPT-2 with tied lm_head; post-LN RoBERTa encoder).
const PYTORCH = String.raw`
import json, math, sys, time, torch
import torch.nn as nn, torch.nn.functional as F
d = json.load(sys.stdin)
if d['threads']: torch.set_num_threads(d['threads'])
torch.manual_seed(0)
class Block(nn.Module):
    def __init__(s, C, H, post):
        super().__init__(); s.H, s.post = H, post
        s.ln1, s.ln2 = nn.LayerNorm(C), nn.LayerNorm(C)
        s.proj, s.fc, s.out = nn.Linear(C, C), nn.Linear(C, 4 * C), nn.Linear(4 * C, C)
        # GPT-2 has one fused q/k/v projection (c_attn); RoBERTa has three (query, key, value).
        if post: s.q, s.k, s.v = nn.Linear(C, C), nn.Linear(C, C), nn.Linear(C, C)
        else: s.qkv = nn.Linear(C, 3 * C)
    def attn(s, x, causal):
        B, T, C = x.shape
        qkv = (s.q(x), s.k(x), s.v(x)) if s.post else s.qkv(x).split(C, dim=2)
        q, k, v = [t.view(B, T, s.H, C // s.H).transpose(1, 2) for t in qkv]
        a = (q @ k.transpose(-1, -2)) / math.sqrt(C // s.H)
        if causal is not None: a = a.masked_fill(causal, torch.finfo(a.dtype).min)
        return s.proj((a.softmax(-1) @ v).transpose(1, 2).reshape(B, T, C))
    def forward(s, x, causal):
        if s.post:
            x = s.ln1(x + s.attn(x, causal)); return s.ln2(x + s.out(F.gelu(s.fc(x))))
        x = x + s.attn(s.ln1(x), causal); return x + s.out(F.gelu(s.fc(s.ln2(x)), approximate='tanh'))
class Model(nn.Module):
    def __init__(s, V, T, C, L, H, post):
        super().__init__(); s.post = post
        s.wte, s.wpe = nn.Embedding(V, C), nn.Embedding(T + 2, C)
        s.blocks = nn.ModuleList([Block(C, H, post) for _ in range(L)]); s.lnf = nn.LayerNorm(C)
    def forward(s, ids):
        T = ids.shape[1]
        x = s.wte(ids) + s.wpe(torch.arange(T))
        causal = None if s.post else torch.ones(T, T, dtype=torch.bool).triu(1)
        for b in s.blocks: x = b(x, causal)
        return x if s.post else s.lnf(x) @ s.wte.weight.T
g, e, steps = d['gpt'], d['enc'], d['steps']
m = Model(d['vocab'], g['seq'], g['d'], g['layers'], g['heads'], False)
opt = torch.optim.AdamW(m.parameters(), lr=1e-4)
def step():
    opt.zero_grad()
    ids = torch.randint(0, d['vocab'], (1, g['seq']))
    logits = m(ids)
    F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1)).backward()
    opt.step()
step()
t = time.perf_counter()
for _ in range(steps): step()
gpt_seconds = (time.perf_counter() - t) / steps
del m, opt
enc = Model(50265, e['seq'], e['d'], e['layers'], e['heads'], True)
def fwd():
    with torch.no_grad(): enc(torch.randint(3, 50265, (e['batch'], e['seq'])))
fwd()
n = max(1, steps - 1)
t = time.perf_counter()
for _ in range(n): fwd()
print(json.dumps({'gpt': gpt_seconds, 'enc': (time.perf_counter() - t) / n, 'threads': torch.get_num_threads()}))
`;

interface TorchTimes {
  gpt: number;
  enc: number;
  threads: number;
}

const input = { gpt: GPT, enc: ENC, vocab: VOCAB, steps: STEPS };
const sgemmGflops = (2 * 1024 * 768 * 3072) / rawSgemmSeconds(1024, 3072, 768, 20) / 1e9;
const torchDefault = runPython<TorchTimes>(PYTORCH, { ...input, threads: 0 }, 1_800_000);
const oursGpt = ourGptStep();
const oursEnc = ourEncoderForward();
const torchTuned = runPython<TorchTimes>(PYTORCH, { ...input, threads: availableParallelism() }, 1_800_000);

const gptFlops = 3 * forwardFlopsPerToken(GPT.layers, GPT.d, GPT.seq, VOCAB) * GPT.seq; // forward + backward
const encFlops = forwardFlopsPerToken(ENC.layers, ENC.d, ENC.seq, 0) * ENC.seq * ENC.batch;
const mfu = (flops: number, seconds: number): number => flops / seconds / 1e9 / sgemmGflops;
const encTokens = ENC.seq * ENC.batch;

console.log(`shapes: GPT ${JSON.stringify(GPT)}, encoder ${JSON.stringify(ENC)}${QUICK ? ' (BENCH_QUICK)' : ''}`);
console.log(`threads: tttnn ${getNumThreads()}, torch default ${torchDefault.threads}, torch tuned ${torchTuned.threads}; raw sgemm ${sgemmGflops.toFixed(1)} GFLOPS`);
console.log(
  formatTable(
    ['workload', 'tttnn', 'torch default', 'torch same threads', 'speedup vs default', 'speedup vs same', 'tttnn MFU'],
    [
      ['GPT-2 train step (s)', oursGpt, torchDefault.gpt, torchTuned.gpt, torchDefault.gpt / oursGpt, torchTuned.gpt / oursGpt, mfu(gptFlops, oursGpt)],
      ['encoder forward (tokens/s)', encTokens / oursEnc, encTokens / torchDefault.enc, encTokens / torchTuned.enc, torchDefault.enc / oursEnc, torchTuned.enc / oursEnc, mfu(encFlops, oursEnc)],
    ],
  ),
);
console.log('targets: speedup vs default >= 2.00, vs same threads >= 1.00, MFU >= 0.50');
