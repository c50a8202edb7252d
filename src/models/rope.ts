// Rotary position embeddings (RoPE) as Hugging Face's Llama-family models
// compute them (transformers modeling_rope_utils.py and LlamaRotaryEmbedding):
// the inverse frequencies in float32 torch ops, the angles position x
// frequency in float32, cos and sin of [angles, angles], and
// q' = q cos + rotate_half(q) sin on the first `rotaryDim` channels of a head.
//
// Both config layouts are read: transformers 4.x (`rope_theta`,
// `rope_scaling`: {"type"|"rope_type": ...}) and 5.x (`rope_parameters`:
// {"rope_type", "rope_theta", ...}). Scaling types: none ("default"),
// "linear" and "llama3" (Llama 3.1/3.2). Others are refused with the field
// named: their frequencies depend on the sequence length ("dynamic",
// "longrope"/"su" of Phi-3 128k) or carry an attention factor ("yarn"), and
// tttnn does not implement them.
import { arange, cat, full, ones, where, type Tensor } from '../engine/index.js';
import type { ConfigReader } from './config.js';

export type RopeScaling =
  | { type: 'default' }
  | { type: 'linear'; factor: number }
  | { type: 'llama3'; factor: number; lowFreqFactor: number; highFreqFactor: number; originalMaxPositions: number };

export interface RopeConfig {
  theta: number;
  /** Channels of a head that rotate (head_dim x partial_rotary_factor); the rest pass through. */
  rotaryDim: number;
  scaling: RopeScaling;
}

const SUPPORTED = ['default', 'linear', 'llama3'];

/** The rotary settings of a config in either layout; `headDim` is the attention head size. */
export function parseRope(r: ConfigReader, headDim: number, maxPositions: number, defaultTheta = 10000): RopeConfig {
  const raw = r.raw;
  const layout5 = raw['rope_parameters'];
  const scalingRaw = (layout5 ?? raw['rope_scaling'] ?? {}) as Record<string, unknown>;
  const field = layout5 !== undefined && layout5 !== null ? 'rope_parameters' : 'rope_scaling';
  if (typeof scalingRaw !== 'object' || Array.isArray(scalingRaw)) throw new Error(`${r.origin}: field "${field}" must be an object or null`);
  const num = (key: string, fallback?: number): number => {
    const value = scalingRaw[key] ?? fallback;
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new Error(`${r.origin}: field "${field}.${key}" must be a number (got ${JSON.stringify(scalingRaw[key])})`);
    return value;
  };
  const theta = num('rope_theta', typeof raw['rope_theta'] === 'number' ? raw['rope_theta'] : defaultTheta);
  const partial = num('partial_rotary_factor', typeof raw['partial_rotary_factor'] === 'number' ? raw['partial_rotary_factor'] : 1);
  const rotaryDim = Math.floor(headDim * partial);
  if (rotaryDim % 2 !== 0 || rotaryDim <= 0) throw new Error(`${r.origin}: the rotary dimension ${rotaryDim} (head_dim ${headDim} x partial_rotary_factor ${partial}) must be a positive even number`);
  const typeRaw = scalingRaw['rope_type'] ?? scalingRaw['type'] ?? 'default';
  if (typeof typeRaw !== 'string') throw new Error(`${r.origin}: field "${field}.rope_type" must be a string (got ${JSON.stringify(typeRaw)})`);
  const type = typeRaw;
  if (!SUPPORTED.includes(type)) {
    const why = type === 'longrope' || type === 'su' ? ' (the long-context RoPE of Phi-3 128k and Phi-3.5: use a 4k-context checkpoint, whose rope_scaling is null)' : '';
    throw new Error(`${r.origin}: ${field} type "${type}" is not supported${why} (supported: ${SUPPORTED.join(', ')})`);
  }
  let scaling: RopeScaling = { type: 'default' };
  if (type === 'linear') scaling = { type, factor: num('factor') };
  if (type === 'llama3') {
    const originalMaxPositions = num('original_max_position_embeddings', typeof raw['original_max_position_embeddings'] === 'number' ? raw['original_max_position_embeddings'] : maxPositions);
    scaling = { type, factor: num('factor'), lowFreqFactor: num('low_freq_factor'), highFreqFactor: num('high_freq_factor'), originalMaxPositions };
  }
  return { theta, rotaryDim, scaling };
}

/** The inverse frequencies [rotaryDim / 2], float32, as Hugging Face computes them. */
export function inverseFrequencies(rope: RopeConfig, device: string): Tensor {
  const exponents = arange(0, rope.rotaryDim, 2, { dtype: 'int64', device }).to({ dtype: 'float32' }).div(rope.rotaryDim);
  const invFreq = ones([rope.rotaryDim / 2], { device }).div(full([rope.rotaryDim / 2], rope.theta, { device }).pow(exponents));
  const s = rope.scaling;
  if (s.type === 'linear') return invFreq.div(s.factor);
  if (s.type !== 'llama3') return invFreq;
  // _compute_llama3_parameters: long wavelengths divided by the factor, short
  // ones kept, the band between interpolated.
  const lowFreqWavelen = s.originalMaxPositions / s.lowFreqFactor;
  const highFreqWavelen = s.originalMaxPositions / s.highFreqFactor;
  const wavelen = full(invFreq.shape, 2 * Math.PI, { device }).div(invFreq);
  const scaled = where(wavelen.gt(lowFreqWavelen), invFreq.div(s.factor), invFreq);
  const smooth = full(invFreq.shape, s.originalMaxPositions, { device }).div(wavelen).sub(s.lowFreqFactor).div(s.highFreqFactor - s.lowFreqFactor);
  const smoothed = smooth.neg().add(1).mul(scaled).div(s.factor).add(smooth.mul(scaled));
  const medium = wavelen.lt(highFreqWavelen).logicalNot().logicalAnd(wavelen.gt(lowFreqWavelen).logicalNot());
  return where(medium, smoothed, scaled);
}

/** cos and sin [T, rotaryDim] for positions start..start+T-1 (float32). */
export function rotaryTables(invFreq: Tensor, t: number, start = 0): { cos: Tensor; sin: Tensor } {
  const positions = arange(start, start + t, 1, { dtype: 'int64', device: invFreq.device }).to({ dtype: 'float32' }).unsqueeze(1); // [T, 1]
  const freqs = positions.mul(invFreq.unsqueeze(0)); // [T, rotaryDim / 2]
  const angles = cat([freqs, freqs], -1);
  return { cos: angles.cos(), sin: angles.sin() };
}

/** [x1, x2] -> [-x2, x1] over the last dimension. */
function rotateHalf(x: Tensor): Tensor {
  const half = x.size(-1) / 2;
  return cat([x.narrow(-1, half, half).neg(), x.narrow(-1, 0, half)], -1);
}

/** x [B, H, T, D] with its first cos.size(-1) channels rotated. */
export function applyRotary(x: Tensor, cos: Tensor, sin: Tensor): Tensor {
  const rot = cos.size(-1);
  const d = x.size(-1);
  const head = rot === d ? x : x.narrow(-1, 0, rot);
  const rotated = head.mul(cos.to({ dtype: x.dtype })).add(rotateHalf(head).mul(sin.to({ dtype: x.dtype })));
  return rot === d ? rotated : cat([rotated, x.narrow(-1, rot, d - rot)], -1);
}
