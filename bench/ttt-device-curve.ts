// A TTT curve (log-likelihood of one document before and after each of 4
// neighbours) of the same GPT-2-shaped model on the CPU and on BENCH_DEVICE,
// with the eval loop's own functions; on a GPU the two curves must agree
// within 1e-3 relative. Run by scripts/gpu-check.sh; without a GPU it prints
// the CPU curve and says the GPU one was not measured.
//
//   node dist/bench/ttt-device-curve.js            (BENCH_DEVICE=cuda)
import { AdamW, cuda, manualSeed, snapshotParameters } from '../src/engine/index.js';
import { testTimeTrain } from '../src/eval/ttt.js';
import { createModel, type CausalLM } from '../src/models/index.js';
import { BENCH_DEVICE } from './helpers.js';

const VOCAB = 1000;
const SEQ = 128;
const TOLERANCE = 1e-3;

async function curve(device: string): Promise<number[]> {
  manualSeed(0); // the same initial weights on every device: made on the CPU, then placed
  const config = { model_type: 'gpt2', vocab_size: VOCAB, n_positions: SEQ, n_embd: 128, n_layer: 2, n_head: 4, embd_pdrop: 0, attn_pdrop: 0, resid_pdrop: 0 };
  const model = createModel(config, { device }) as CausalLM;
  const optimizer = new AdamW(model.parameters.list(), { lr: 1e-3, eps: 1e-8, weightDecay: 0.01 });
  const snapshot = snapshotParameters(model.parameters.list());
  const tokens = (seed: number): number[] => Array.from({ length: SEQ }, (_, i) => (i * 31 + seed * 977 + ((i * i) % 7)) % VOCAB);
  const settings = { maxLength: SEQ, stride: SEQ, scoreLength: SEQ, gradClip: 1, resetWeights: true, seed: 0 };
  try {
    const result = await testTimeTrain(model, optimizer, snapshot, tokens(0), 0, [1, 2, 3, 4].map(tokens), settings);
    return result.loglikelihoods;
  } finally {
    for (const t of snapshot) t.dispose();
    model.dispose();
  }
}

const cpu = await curve('cpu');
console.log(`TTT curve on cpu:  ${cpu.map((v) => v.toFixed(4)).join(' ')}`);
if (BENCH_DEVICE === 'cpu' || !cuda.isAvailable()) {
  console.log(`TTT curve on ${BENCH_DEVICE === 'cpu' ? 'a GPU' : BENCH_DEVICE}: not measured (${cuda.deviceCount()} CUDA devices here)`);
} else {
  const other = await curve(BENCH_DEVICE);
  const worst = Math.max(...cpu.map((v, i) => Math.abs((other[i] as number) - v) / Math.abs(v)));
  console.log(`TTT curve on ${BENCH_DEVICE}: ${other.map((v) => v.toFixed(4)).join(' ')}`);
  console.log(`largest relative difference ${worst.toExponential(2)} (tolerance ${TOLERANCE})`);
  if (!(worst <= TOLERANCE)) {
    console.error(`ttt-device-curve: the ${BENCH_DEVICE} curve differs from the CPU curve by ${worst} relative`);
    process.exit(1);
  }
}
