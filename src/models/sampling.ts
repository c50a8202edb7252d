// Choosing the next token from a model's logits, as Hugging Face's
// generate(do_sample=True) does: the logits divided by the temperature, then
// the top-k tokens kept, then the smallest set of most likely tokens whose
// probability reaches top-p (TemperatureLogitsWarper, TopKLogitsWarper,
// TopPLogitsWarper, in that order), then one draw from the softmax. Greedy
// (temperature 0) takes the argmax, as do_sample=False does.
//
// The draw uses a generator of its own, seeded per request, not torch's
// global one: two generations that run interleaved (a server's requests)
// then draw exactly what each would draw alone. The tokens are therefore not
// those of torch.multinomial under the same seed; the distribution is.
import type { Tensor } from '../engine/index.js';

export interface SamplingOptions {
  /** 0 or absent: greedy. Otherwise sample from softmax(logits / temperature). */
  temperature?: number;
  /** Sample only among the k most likely tokens (absent or 0: all). */
  topK?: number;
  /** Sample only among the most likely tokens whose probability adds up to top-p (absent or 1: all). */
  topP?: number;
}

/** Mulberry32: a small, fast 32-bit generator; two outputs make one 53-bit uniform in [0, 1). */
export class SeededRandom {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  private next32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  uniform(): number {
    return ((this.next32() >>> 5) * 67108864 + (this.next32() >>> 6)) / 9007199254740992;
  }
}

/** Checks sampling options; throws naming the field (`names` maps a field to how the caller spells it). */
export function checkSamplingOptions(o: SamplingOptions, names: Record<keyof SamplingOptions, string> = { temperature: 'temperature', topK: 'topK', topP: 'topP' }): void {
  if (o.temperature !== undefined && !(Number.isFinite(o.temperature) && o.temperature >= 0)) throw new RangeError(`${names.temperature} must be a number >= 0 (0: greedy), got ${o.temperature}`);
  if (o.topK !== undefined && !(Number.isInteger(o.topK) && o.topK >= 0)) throw new RangeError(`${names.topK} must be an integer >= 0 (0: no limit), got ${o.topK}`);
  if (o.topP !== undefined && !(Number.isFinite(o.topP) && o.topP > 0 && o.topP <= 1)) throw new RangeError(`${names.topP} must be in (0, 1], got ${o.topP}`);
}

/** The next token from next-token logits [V]. */
export class TokenSampler {
  private readonly random: SeededRandom;

  constructor(
    private readonly options: SamplingOptions,
    seed: number,
  ) {
    checkSamplingOptions(options);
    this.random = new SeededRandom(seed);
  }

  get greedy(): boolean {
    return !this.options.temperature;
  }

  next(logits: Tensor): number {
    if (this.greedy) return logits.argmax().item();
    return this.draw(Float64Array.from(logits.toTypedArray() as Float32Array));
  }

  /** One draw from the warped distribution of `logits` (modified in place). */
  private draw(logits: Float64Array): number {
    const { temperature = 1, topK = 0, topP = 1 } = this.options;
    const order = Array.from(logits.keys()).sort((a, b) => logits[b]! - logits[a]! || a - b); // most likely first
    const k = topK > 0 ? Math.min(topK, order.length) : order.length;
    const max = logits[order[0]!]! / temperature;
    // softmax over the top k of logits / temperature
    const probs = order.slice(0, k).map((id) => Math.exp(logits[id]! / temperature - max));
    const total = probs.reduce((s, p) => s + p, 0);
    // top-p: keep a token while the mass of the tokens before it is below top-p (at least one).
    let kept = 0;
    let before = 0;
    while (kept < k && (kept === 0 || before < topP)) {
      before += probs[kept]! / total;
      kept++;
    }
    const mass = probs.slice(0, kept).reduce((s, p) => s + p, 0);
    let u = this.random.uniform() * mass;
    for (let i = 0; i < kept; i++) {
      u -= probs[i]!;
      if (u < 0) return order[i]!;
    }
    return order[kept - 1]!;
  }
}
