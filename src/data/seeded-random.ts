// The project's seeded generator of uniform [0, 1) numbers: corpus
// generation, MLM masks, document sampling, index training samples and
// bootstrap resamples all draw from it, so a seed fixes every one of them.
// (Python's random.Random, needed where the original's choices must be
// reproduced exactly, is eval/python-random.ts.)

/** mulberry32: a small, well-distributed 32-bit PRNG. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
