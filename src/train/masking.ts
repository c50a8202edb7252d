// Masked-LM inputs as Hugging Face's DataCollatorForLanguageModeling makes
// them: 15% of the non-special, non-padding tokens are selected; of those 80%
// become <mask>, 10% a random token, 10% stay; labels are the original ids at
// selected positions and -100 elsewhere. Deterministic for a given seed.
import { seededRandom } from '../data/seeded-random.js';

export interface MaskingOptions {
  maskTokenId: number;
  vocabSize: number;
  /** Ids never selected (<s>, </s>, <pad>). */
  specialIds: ReadonlySet<number>;
  probability?: number;
  seed: number;
}

export function maskTokens(ids: readonly number[], o: MaskingOptions): { inputs: number[]; labels: number[] } {
  const random = seededRandom(o.seed);
  const p = o.probability ?? 0.15;
  const inputs = [...ids];
  const labels = ids.map(() => -100);
  ids.forEach((id, i) => {
    if (o.specialIds.has(id) || random() >= p) return;
    labels[i] = id;
    const r = random();
    if (r < 0.8) inputs[i] = o.maskTokenId;
    else if (r < 0.9) inputs[i] = Math.floor(random() * o.vocabSize);
  });
  return { inputs, labels };
}
