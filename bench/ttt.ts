// Benchmark: seconds per neighbour of test-time training — one training step
// on a 1024-token neighbour window plus one evaluation of a 1024-token
// document — on a GPT-2-small-shaped model (12 layers, d 768), ours (the
// eval loop's own functions) vs the same in python3-torch at its best on
// this CPU, in the same run; fp32, and bf16 where the CPU has it. Beside
// them, the original's figure: 5.5 s per neighbour on an A100 (REFERENCE.md).
//
//   npm run bench:ttt              (BENCH_QUICK=1: 4 layers, 512 tokens; BENCH_BF16=1 forces bf16;
//                                   BENCH_DEVICE=cuda: ours and PyTorch 2.x on the GPU, as scripts/gpu-check.sh runs it)
import { AdamW, getNumThreads, manualSeed, snapshotParameters } from '../src/engine/index.js';
import { testTimeTrain } from '../src/eval/ttt.js';
import { createModel, type CausalLM } from '../src/models/index.js';
import { BENCH_DEVICE, REFERENCE_DIR, formatTable, measureBf16, printEngineHeader, timeEachPrecision } from './helpers.js';

const QUICK = process.env['BENCH_QUICK'] === '1';
const SHAPE = QUICK ? { layers: 4, d: 512, heads: 8, seq: 512 } : { layers: 12, d: 768, heads: 12, seq: 1024 };
const NEIGHBORS = Number(process.env['BENCH_NEIGHBORS'] ?? 3);
const VOCAB = 50257;
const ORIGINAL_A100_SECONDS = 5.5;

async function ours(): Promise<number> {
  manualSeed(0);
  const model = createModel({ model_type: 'gpt2', vocab_size: VOCAB, n_positions: SHAPE.seq, n_embd: SHAPE.d, n_layer: SHAPE.layers, n_head: SHAPE.heads }, { device: BENCH_DEVICE }) as CausalLM;
  const optimizer = new AdamW(model.parameters.list(), { lr: 2e-5, eps: 1e-8, weightDecay: 0 });
  const snapshot = snapshotParameters(model.parameters.list());
  const tokens = (seed: number): number[] => Array.from({ length: SHAPE.seq }, (_, i) => (i * 7919 + seed * 104729) % VOCAB);
  const settings = { maxLength: SHAPE.seq, stride: SHAPE.seq, scoreLength: SHAPE.seq, gradClip: 1, resetWeights: true, seed: 0 };
  const neighbors = Array.from({ length: NEIGHBORS }, (_, i) => tokens(i + 1));
  await testTimeTrain(model, optimizer, snapshot, tokens(0), 50256, neighbors.slice(0, 1), settings); // warm-up
  const start = process.hrtime.bigint();
  await testTimeTrain(model, optimizer, snapshot, tokens(0), 50256, neighbors, settings);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  for (const t of snapshot) t.dispose();
  model.dispose();
  // The first evaluation (before any neighbour) is part of the document, not of a neighbour.
  return seconds / NEIGHBORS;
}

const PYTORCH = String.raw`
import json, sys, time
d = json.load(sys.stdin)
sys.path.insert(0, d['reference'])
import torch, torch.nn.functional as F, torch_models
torch.set_num_threads(d['threads'])
torch.manual_seed(0)
s = d['shape']
bf16 = d['bf16']
dev = d['device']
kind = 'cuda' if dev.startswith('cuda') else 'cpu'
m = torch_models.Model(d['vocab'], s['seq'], s['d'], s['layers'], s['heads'], False).to(dev)
opt = torch.optim.AdamW(m.parameters(), lr=2e-5, eps=1e-8, weight_decay=0)
saved = [p.detach().clone() for p in m.parameters()]
doc = torch.tensor([[(i * 7919) % d['vocab'] for i in range(s['seq'])]], device=dev)
def evaluate():
    m.eval()
    with torch.no_grad(), torch.autocast(kind, dtype=torch.bfloat16, enabled=bf16):
        inputs = torch.cat([torch.tensor([[50256]], device=dev), doc[:, :-1]], 1)
        return -F.cross_entropy(m(inputs)[0].float(), doc[0], reduction='sum').item()
def neighbour(seed):
    m.train(); opt.zero_grad()
    ids = torch.tensor([[(i * 7919 + seed * 104729) % d['vocab'] for i in range(s['seq'])]], device=dev)
    with torch.autocast(kind, dtype=torch.bfloat16, enabled=bf16):
        logits = m(ids)
        loss = F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1))
    loss.backward()
    torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0); opt.step()
    evaluate()
def restore():
    with torch.no_grad():
        for p, q in zip(m.parameters(), saved): p.copy_(q)
evaluate(); neighbour(1); restore()
t = time.perf_counter()
evaluate()
for i in range(d['neighbors']): neighbour(i + 1)
restore()
print(json.dumps({'seconds': (time.perf_counter() - t) / d['neighbors']}))
`;

printEngineHeader();
console.log(`TTT seconds per neighbour (one ${SHAPE.seq}-token training step + one ${SHAPE.seq}-token evaluation), ${SHAPE.layers} layers, d ${SHAPE.d}${QUICK ? ' (BENCH_QUICK)' : ''}; bf16: ${measureBf16().why}`);
const input = { reference: REFERENCE_DIR, vocab: VOCAB, shape: SHAPE, neighbors: NEIGHBORS, threads: getNumThreads(), device: BENCH_DEVICE };
if (BENCH_DEVICE !== 'cpu') console.log(`device: ${BENCH_DEVICE} (tttnn and torch2 on the same GPU; python3-torch 1.13 is CPU-only: NaN)`);
const rows = (await timeEachPrecision(ours, PYTORCH, input)).map((t) => [t.precision, t.ours, t.torch, t.torch / t.ours, t.torch2, t.torch2 / t.ours, t.speedupVsOurFp32, QUICK ? NaN : t.ours / ORIGINAL_A100_SECONDS]);
console.log(formatTable(['precision', 'tttnn s', 'torch s', 'speedup vs torch', 'torch2 s', 'speedup vs torch2', 'speedup vs our fp32', `tttnn / original on an A100 (${ORIGINAL_A100_SECONDS} s)`], rows));
console.log('targets: speedup vs torch and vs torch2 >= 1.00 in each precision; on AMX hardware bf16 >= 3x our fp32');
