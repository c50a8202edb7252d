// Benchmark: model training and inference speed against python3-torch.
//
//   npm run bench:models            (BENCH_QUICK=1 for smaller shapes)
//
// 1. A GPT-2-small-shaped training step (12 layers, d 768, seq 1024, batch 1:
//    forward, backward, gradient clipping, AdamW) with our model vs the same model written in
//    PyTorch, run once as a user gets PyTorch by default and once with the
//    same thread count as ours.
// 2. Forward tokens/s of a RoBERTa-large-shaped encoder (24 layers, d 1024,
//    seq 512, batch 8) vs PyTorch.
// Model FLOPs utilisation is reported against raw sgemm measured in the same
// run (the ceiling). All in one run, because this machine's speed drifts.
import { availableParallelism } from 'node:os';
import { getNumThreads, manualSeed, noGrad, randint, rawSgemmSeconds, tidy } from '../src/engine/index.js';
import { createModel, type CausalLM, type EncoderModel } from '../src/models/index.js';
import { REFERENCE_DIR, causalTrainStepSeconds, formatTable, runPython } from './helpers.js';

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
  return causalTrainStepSeconds(model, 1, GPT.seq, STEPS);
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

// The same two models in plain PyTorch: bench/reference/torch_models.py.
const PYTORCH = String.raw`
import json, sys
d = json.load(sys.stdin)
sys.path.insert(0, d['reference'])
import torch, torch_models
if d['threads']: torch.set_num_threads(d['threads'])
torch.manual_seed(0)
g, e, steps = d['gpt'], d['enc'], d['steps']
gpt = torch_models.gpt_train_seconds(d['vocab'], g['seq'], g['d'], g['layers'], g['heads'], 1, steps)
enc = torch_models.encoder_forward_seconds(50265, e['seq'], e['d'], e['layers'], e['heads'], e['batch'], max(1, steps - 1))
print(json.dumps({'gpt': gpt, 'enc': enc, 'threads': torch.get_num_threads()}))
`;

interface TorchTimes {
  gpt: number;
  enc: number;
  threads: number;
}

const input = { gpt: GPT, enc: ENC, vocab: VOCAB, steps: STEPS, reference: REFERENCE_DIR };
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
