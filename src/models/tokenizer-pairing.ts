// Whether a tokenizer can feed a model: it must be of a kind the model's
// architecture reads (a WordPiece tokenizer gives a byte-level model ids it
// was never trained on, silently), and every id it can produce must be a
// row of the model's embedding (a larger tokenizer, another model's, fails
// deep in libtorch with "index out of range in self" at the first rare
// token, or not at all until then). The errors say which two directories
// disagree.
import type { BpeTokenizer } from '../tokenizers/index.js';
import { findArchitecture } from './auto.js';

export function checkTokenizerFits(tokenizer: Pick<BpeTokenizer, 'vocabSize' | 'kind' | 'kindDescribed'>, model: { vocabSize: number; modelType: string }, tokenizerOrigin: string, modelOrigin: string): void {
  const reads = findArchitecture(model.modelType)?.tokenizers;
  if (reads && !reads.includes(tokenizer.kind)) {
    throw new Error(`${tokenizerOrigin}: ${tokenizer.kindDescribed}; the model in ${modelOrigin} (${model.modelType}) reads ${reads.join(' or ')}: use the tokenizer saved with the model`);
  }
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
