// `--precision fp32|bf16|auto`, shared by train, eval, score, index build and
// demo: the flag, and applying it for the rest of the process.
import { Option } from 'commander';
import type { EffectivePrecision, Precision } from '../engine/precision.js';

// The engine's PRECISIONS, repeated because importing the engine loads the
// native addon, and `--help` must work before it is built.
const PRECISION_CHOICES: readonly Precision[] = ['fp32', 'bf16', 'auto'];

export function precisionOption(defaultValue: Precision): Option {
  return new Option(
    '--precision <p>',
    'fp32; bf16: mixed precision as torch.autocast (bf16 matmuls; fp32 weights, optimizer, losses, output layer and backward passes; falls back to fp32 on a CPU without AMX or AVX512_BF16); auto: bf16 where the CPU has them',
  )
    .choices([...PRECISION_CHOICES])
    .default(defaultValue);
}

/** Resolves `requested` on this CPU, switches the engine to it, and prints what runs (stderr). */
export async function applyPrecision(requested: Precision, command: string): Promise<EffectivePrecision> {
  const { resolvePrecision, setPrecision } = await import('../engine/index.js');
  const resolved = resolvePrecision(requested);
  setPrecision(resolved.effective);
  console.error(`tttnn ${command}: ${resolved.note}`);
  return resolved.effective;
}
