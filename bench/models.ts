// Benchmark: model training and inference speed against python3-torch, in
// fp32 and (where the CPU has it) bf16 mixed precision.
//
//   npm run bench:models            (BENCH_QUICK=1 for smaller shapes; BENCH_BF16=1 forces bf16)
//
// 1. A GPT-2-small-shaped training step (12 layers, d 768, seq 1024, batch 1:
//    forward, backward, gradient clipping, AdamW) with our model vs the same
//    model written in PyTorch (test/reference/torch_models.py).
// 2. Forward tokens/s of a RoBERTa-large-shaped encoder (24 layers, d 1024,
//    seq 512, batch 8) vs PyTorch.
// PyTorch runs with our thread count and at its best on this CPU (see
// referenceEnvAtBest); its bf16 is torch.autocast. Model FLOPs utilisation
// (MFU) is against the GEMM ceiling measured in the same run: the faster raw
// sgemm for fp32, our bf16 matmul for bf16.
import { getNumThreads, manualSeed, noGrad, randint, tidy, withPrecision } from '../src/engine/index.js';
import { createModel, type CausalLM, type EncoderModel } from '../src/models/index.js';
import {
  REFERENCE_DIR,
  bf16CeilingGflops,
  causalTrainStepSeconds,
  formatTable,
  forwardFlopsPerToken,
  fp32CeilingGflops,
  measureBf16,
  precisionsToMeasure,
  printEngineHeader,
  referenceEnvAtBest,
  runPython,
  runTorch2,
} from './helpers.js';

const QUICK = process.env['BENCH_QUICK'] === '1';
const GPT = QUICK ? { layers: 4, d: 512, heads: 8, seq: 512 } : { layers: 12, d: 768, heads: 12, seq: 1024 };
const ENC = QUICK ? { layers: 6, d: 512, heads: 8, seq: 256, batch: 4 } : { layers: 24, d: 1024, heads: 16, seq: 512, batch: 8 };
const VOCAB = 50257;
const STEPS = Number(process.env['BENCH_STEPS'] ?? 3);

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

// The same two models in plain PyTorch: test/reference/torch_models.py.
const PYTORCH = String.raw`
import json, sys
d = json.load(sys.stdin)
sys.path.insert(0, d['reference'])
import torch, torch_models
torch.set_num_threads(d['threads'])
torch.manual_seed(0)
g, e, steps = d['gpt'], d['enc'], d['steps']
gpt = torch_models.gpt_train_seconds(d['vocab'], g['seq'], g['d'], g['layers'], g['heads'], 1, steps, 0.0, d['bf16'])
enc = torch_models.encoder_forward_seconds(50265, e['seq'], e['d'], e['layers'], e['heads'], e['batch'], max(1, steps - 1), d['bf16'])
print(json.dumps({'gpt': gpt, 'enc': enc}))
`;

printEngineHeader();
console.log(`shapes: GPT ${JSON.stringify(GPT)}, encoder ${JSON.stringify(ENC)}${QUICK ? ' (BENCH_QUICK)' : ''}; bf16: ${measureBf16().why}`);
const ceiling = fp32CeilingGflops();
console.log(`fp32 GEMM ceiling ${ceiling.gflops.toFixed(1)} GFLOPS (${Object.entries(ceiling.perBackend).map(([b, g]) => `${b} ${g.toFixed(1)}`).join(', ')})`);

const gptFlops = 3 * forwardFlopsPerToken(GPT.layers, GPT.d, GPT.seq, VOCAB) * GPT.seq; // forward + backward
const encFlops = forwardFlopsPerToken(ENC.layers, ENC.d, ENC.seq, 0) * ENC.seq * ENC.batch;
const encTokens = ENC.seq * ENC.batch;
const input = { gpt: GPT, enc: ENC, vocab: VOCAB, steps: STEPS, reference: REFERENCE_DIR, threads: getNumThreads() };

const rows: (string | number)[][] = [];
const fp32Seconds: Record<string, number> = {};
for (const precision of precisionsToMeasure()) {
  const torch = runPython<{ gpt: number; enc: number }>(PYTORCH, { ...input, bf16: precision === 'bf16' }, 3_600_000, referenceEnvAtBest());
  const torch2 = runTorch2<{ gpt: number; enc: number }>(PYTORCH, { ...input, bf16: precision === 'bf16' }) ?? { gpt: NaN, enc: NaN };
  const gpt = withPrecision(precision, ourGptStep);
  const enc = withPrecision(precision, ourEncoderForward);
  const peak = precision === 'fp32' ? ceiling.gflops : bf16CeilingGflops();
  const mfu = (flops: number, seconds: number): number => flops / seconds / 1e9 / peak;
  if (precision === 'fp32') Object.assign(fp32Seconds, { gpt, enc });
  const vsFp32 = (name: 'gpt' | 'enc', seconds: number): number => (precision === 'fp32' ? 1 : (fp32Seconds[name] as number) / seconds);
  rows.push(
    ['GPT-2 train step (s)', precision, gpt, torch.gpt, torch.gpt / gpt, torch2.gpt, torch2.gpt / gpt, mfu(gptFlops, gpt), vsFp32('gpt', gpt)],
    ['encoder forward (tokens/s)', precision, encTokens / enc, encTokens / torch.enc, torch.enc / enc, encTokens / torch2.enc, torch2.enc / enc, mfu(encFlops, enc), vsFp32('enc', enc)],
  );
}
console.log(formatTable(['workload', 'precision', 'tttnn', 'torch', 'speedup vs torch', 'torch2', 'speedup vs torch2', 'tttnn MFU', 'speedup vs our fp32'], rows));
console.log('targets: speedup vs torch and vs torch2 >= 1.00 (fp32 and bf16); on AMX hardware bf16 speedup vs our fp32 >= 3 for the GPT-2 step');
