// Benchmark: training throughput of the tiny-gpt preset (4 layers, d 256,
// context 256, GPT-2 vocabulary, dropout 0.1, batch 16) with our trainer's
// step (forward, backward, clipping, AdamW) vs the same model and loop in
// python3-torch, in the same run. Target: at least 1.5x.
//
//   npm run bench:train
import { getNumThreads, manualSeed } from '../src/engine/index.js';
import { createModel, type CausalLM } from '../src/models/index.js';
import { PRESETS } from '../src/train/presets.js';
import { REFERENCE_DIR, causalTrainStepSeconds, formatTable, runPython } from './helpers.js';

const preset = PRESETS['tiny-gpt']!;
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
if d['threads']: torch.set_num_threads(d['threads'])
torch.manual_seed(0)
print(json.dumps({'seconds': torch_models.gpt_train_seconds(d['vocab'], d['seq'], d['d'], d['layers'], d['heads'], d['batch'], d['steps'], d['dropout']), 'threads': torch.get_num_threads()}))
`;

const input = { reference: REFERENCE_DIR, vocab: config.vocab_size, seq: seqLen, d: config.n_embd, layers: config.n_layer, heads: config.n_head, batch: batchSize, steps: STEPS, dropout: config.resid_pdrop };
const torchDefault = runPython<{ seconds: number; threads: number }>(PYTORCH, { ...input, threads: 0 }, 1_800_000);
const oursSeconds = ours();
const torchTuned = runPython<{ seconds: number; threads: number }>(PYTORCH, { ...input, threads: getNumThreads() }, 1_800_000);
const tokens = batchSize * seqLen;
console.log(`tiny-gpt train step, batch ${batchSize} x ${seqLen} tokens; threads: tttnn ${getNumThreads()}, torch default ${torchDefault.threads}`);
console.log(
  formatTable(
    ['', 'tttnn', 'torch default', 'torch same threads', 'speedup vs default', 'speedup vs same'],
    [['tokens/s', tokens / oursSeconds, tokens / torchDefault.seconds, tokens / torchTuned.seconds, torchDefault.seconds / oursSeconds, torchTuned.seconds / oursSeconds]],
  ),
);
console.log('target: speedup vs default >= 1.50');
