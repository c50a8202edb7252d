// Shared by the benchmarks: timing loops and the Python reference runner.
import { fileURLToPath } from 'node:url';
import { AdamW, clipGradNorm, randint, tidy } from '../src/engine/index.js';
import { causalLmLoss, type CausalLM } from '../src/models/index.js';
export { runPython, referencePython } from '../test/helpers/python.js';

/** bench/reference/ in the source tree (the compiled benchmarks run from dist/bench/). */
export const REFERENCE_DIR = fileURLToPath(new URL('../../bench/reference/', import.meta.url));

/** Mean seconds per call of `fn` over `iterations`, after `warmup` calls. */
export function timeIt(fn: () => void, iterations: number, warmup = 3): number {
  for (let i = 0; i < warmup; i++) fn();
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) fn();
  return Number(process.hrtime.bigint() - start) / 1e9 / iterations;
}

export function formatTable(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map((c) => (typeof c === 'number' ? c.toFixed(2) : c)))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => String(r[i]).length)));
  return cells.map((r) => r.map((c, i) => String(c).padStart(widths[i] as number)).join('  ')).join('\n');
}

/** Mean seconds of one causal-LM training step (forward, backward, clipping, AdamW) on random batches, after one warm-up step; disposes the model. */
export function causalTrainStepSeconds(model: CausalLM, batch: number, seq: number, steps: number): number {
  model.training = true;
  const optimizer = new AdamW(model.parameters.list(), { lr: 1e-4 });
  const step = (): void =>
    tidy(() => {
      optimizer.zeroGrad();
      const loss = causalLmLoss(model, randint(0, model.vocabSize, [batch, seq]));
      loss.backward();
      clipGradNorm(model.parameters.list(), 1.0);
      optimizer.step();
    });
  step();
  const seconds = timeIt(step, steps, 0);
  model.dispose();
  return seconds;
}
