// Benchmark: training throughput of the tiny-gpt preset (4 layers, d 256,
// context 256, GPT-2 vocabulary, dropout 0.1, batch 16) with our trainer's
// step (forward, backward, clipping, AdamW) vs the same model and loop in
// python3-torch at its best on this CPU, in the same run; fp32, and bf16
// (ours: libtorch autocast; theirs: torch.autocast) where the CPU has it.
//
//   npm run bench:train        (BENCH_STEPS=8; BENCH_BF16=1 forces bf16;
//                               BENCH_VOCAB=4096: the demo's own vocabulary)
import { getNumThreads, manualSeed } from '../src/engine/index.js';
import { createModel, type CausalLM } from '../src/models/index.js';
import { PRESETS } from '../src/train/presets.js';
import { REFERENCE_DIR, causalTrainStepSeconds, formatTable, measureBf16, printEngineHeader, timeEachPrecision } from './helpers.js';

const base = PRESETS['tiny-gpt']!;
const preset = { ...base, config: { ...base.config, vocab_size: Number(process.env['BENCH_VOCAB'] ?? base.config['vocab_size']) } };
const { seqLen, batchSize } = preset.defaults;
const config = preset.config as { vocab_size: number; n_embd: number; n_layer: number; n_head: number; resid_pdrop: number };
const STEPS = Number(process.env['BENCH_STEPS'] ?? 8);

function ours(): number {
  manualSeed(0);
  return causalTrainStepSeconds(createModel(preset.config) as CausalLM, batchSize, seqLen, STEPS);
}

const PYTORCH = String.raw`
import json, sys
d = json.load(sys.stdin)
sys.path.insert(0, d['reference'])
import torch, torch_models
torch.set_num_threads(d['threads'])
torch.manual_seed(0)
print(json.dumps({'seconds': torch_models.gpt_train_seconds(d['vocab'], d['seq'], d['d'], d['layers'], d['heads'], d['batch'], d['steps'], d['dropout'], d['bf16'])}))
`;

printEngineHeader();
console.log(`tiny-gpt train step, batch ${batchSize} x ${seqLen} tokens, vocabulary ${config.vocab_size}; bf16: ${measureBf16().why}`);
const input = { reference: REFERENCE_DIR, vocab: config.vocab_size, seq: seqLen, d: config.n_embd, layers: config.n_layer, heads: config.n_head, batch: batchSize, steps: STEPS, dropout: config.resid_pdrop, threads: getNumThreads() };
const tokens = batchSize * seqLen;
const rows = (await timeEachPrecision(ours, PYTORCH, input)).map((t) => [t.precision, tokens / t.ours, tokens / t.torch, t.torch / t.ours, t.speedupVsOurFp32]);
console.log(formatTable(['precision', 'tttnn tokens/s', 'torch tokens/s', 'speedup vs torch', 'speedup vs our fp32'], rows));
console.log('target: speedup vs torch >= 1.00 in each precision');
