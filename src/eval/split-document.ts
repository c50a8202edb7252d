// The text a document's neighbours are retrieved with, and the text it is
// scored on: the whole document, or with split text its two halves.
import type { BpeTokenizer } from '../tokenizers/index.js';

export interface SplitDocument {
  queryText: string;
  scoredText: string;
  scored: number[];
}

/**
 * With split text, the first half of the tokens (at most 1024) is decoded
 * into the query text and the rest into the scored text, which is tokenized
 * again as the harness does (eval_tttlm.py:168-178, :275-277).
 */
export function splitDocument(tokenizer: BpeTokenizer, text: string, splitText: boolean): SplitDocument {
  const tokens = tokenizer.encode(text);
  if (!splitText) return { queryText: text, scoredText: text, scored: tokens };
  const split = Math.min(Math.floor(tokens.length / 2), 1024);
  const scoredText = tokenizer.decode(tokens.slice(split));
  return { queryText: tokenizer.decode(tokens.slice(0, split)), scoredText, scored: tokenizer.encode(scoredText) };
}
