// Whether a tokenizer can feed a model: every id it can produce must be a
// row of the model's embedding. A larger tokenizer (another model's) fails
// deep in libtorch with "index out of range in self" at the first rare
// token, or not at all until then; this says which two directories disagree.
import type { BpeTokenizer } from '../tokenizers/index.js';

export function checkTokenizerFits(tokenizer: Pick<BpeTokenizer, 'vocabSize'>, model: { vocabSize: number }, tokenizerOrigin: string, modelOrigin: string): void {
  if (tokenizer.vocabSize > model.vocabSize) {
    throw new Error(
      `${tokenizerOrigin}: the tokenizer has ${tokenizer.vocabSize} tokens, more than the vocabulary of the model in ${modelOrigin} (vocab_size ${model.vocabSize}): it is another model's tokenizer; use the one saved with the model`,
    );
  }
}

/** The same for ids already made: each must be below the model's vocabulary size. */
export function checkTokenIds(ids: readonly number[], model: { vocabSize: number }, what: string): void {
  for (const id of ids) {
    if (!(id >= 0 && id < model.vocabSize)) {
      throw new Error(`${what}: token id ${id} is outside the model's vocabulary (vocab_size ${model.vocabSize}): the tokenizer does not belong to this model; use the one saved with the model`);
    }
  }
}
