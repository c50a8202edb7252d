// Numeric precision of the forward passes: fp32, or bf16 mixed precision as
// torch.autocast('cpu', dtype=torch.bfloat16) — bf16 matmuls, fp32 master
// weights, gradients and optimizer state, fp32 losses (native/src/autocast.cc).
//
// bf16 pays only where the CPU multiplies bf16 in hardware (AMX, or
// AVX512_BF16); elsewhere libtorch emulates it, slower than fp32. So `auto`
// means bf16 there and fp32 elsewhere, and an explicit `bf16` on a CPU
// without it falls back to fp32 and says so.
import { native } from './native.js';

/** What a user asks for (`--precision`). */
export type Precision = 'fp32' | 'bf16' | 'auto';
/** What runs. */
export type EffectivePrecision = 'fp32' | 'bf16';

export const PRECISIONS: readonly Precision[] = ['fp32', 'bf16', 'auto'];

export interface ResolvedPrecision {
  requested: Precision;
  effective: EffectivePrecision;
  /** One line for the user: what runs and why. */
  note: string;
}

export function isPrecision(value: string): value is Precision {
  return (PRECISIONS as readonly string[]).includes(value);
}

function nativeBf16Name(): string | null {
  const cpu = native.cpuInfo();
  if (!cpu.nativeBf16) return null;
  return cpu.amxBf16 ? 'AMX' : 'AVX512_BF16';
}

/**
 * What `requested` means on this CPU. `allowEmulated` runs bf16 even without
 * hardware support (slow; for tests of the bf16 path on any machine).
 */
export function resolvePrecision(requested: Precision, options: { allowEmulated?: boolean } = {}): ResolvedPrecision {
  const hardware = nativeBf16Name();
  if (requested === 'fp32') return { requested, effective: 'fp32', note: 'precision fp32' };
  if (hardware) return { requested, effective: 'bf16', note: `precision bf16 mixed (${hardware}; fp32 weights, optimizer and losses)` };
  if (requested === 'auto') return { requested, effective: 'fp32', note: 'precision fp32 (auto: this CPU has no AMX or AVX512_BF16)' };
  if (options.allowEmulated) return { requested, effective: 'bf16', note: 'precision bf16 mixed, emulated (this CPU has no AMX or AVX512_BF16: slower than fp32)' };
  return { requested, effective: 'fp32', note: 'precision fp32: bf16 was requested, but this CPU has no AMX or AVX512_BF16 (bf16 would be emulated, slower than fp32)' };
}

/** Switches every later forward pass on this thread to `precision`. */
export function setPrecision(precision: EffectivePrecision): void {
  native.setAutocast(precision === 'bf16' ? 'bfloat16' : null);
}

export function currentPrecision(): EffectivePrecision {
  return native.getAutocast() === 'bfloat16' ? 'bf16' : 'fp32';
}

/** Runs `fn` under `precision` and restores the previous one, also when `fn` throws. */
export function withPrecision<T>(precision: EffectivePrecision, fn: () => T): T {
  const previous = currentPrecision();
  setPrecision(precision);
  try {
    return fn();
  } finally {
    setPrecision(previous);
  }
}

/** withPrecision for work that awaits (the precision is process-wide: run nothing else meanwhile). */
export async function withPrecisionAsync<T>(precision: EffectivePrecision, fn: () => Promise<T>): Promise<T> {
  const previous = currentPrecision();
  setPrecision(precision);
  try {
    return await fn();
  } finally {
    setPrecision(previous);
  }
}
