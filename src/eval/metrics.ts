// Perplexity metrics with lm-evaluation-harness semantics: a document's
// log-likelihood (natural log, summed over its tokens) is normalised by its
// UTF-8 bytes or its words; aggregates sum log-likelihoods and counts over
// documents before normalising (weighting documents by length).

/** Python's `\s` for str patterns (Unicode whitespace as re understands it). */
// eslint-disable-next-line no-control-regex -- Python counts these control characters as whitespace
const PYTHON_WHITESPACE = /[\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/u;

/** Number of pieces of Python's re.split(r"\s+", text) (empty pieces at the ends count). */
export function countWords(text: string): number {
  return text.split(PYTHON_WHITESPACE).length;
}

export function countBytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

export interface PerplexityCounts {
  loglikelihood: number;
  bytes: number;
  words: number;
}

export interface PerplexityMetrics {
  bits_per_byte: number;
  byte_perplexity: number;
  word_perplexity: number;
}

export function perplexityMetrics(counts: PerplexityCounts): PerplexityMetrics {
  return {
    bits_per_byte: -counts.loglikelihood / counts.bytes / Math.LN2,
    byte_perplexity: Math.exp(-counts.loglikelihood / counts.bytes),
    word_perplexity: Math.exp(-counts.loglikelihood / counts.words),
  };
}

/** Sums log-likelihoods, bytes and words over documents. */
export function sumCounts(documents: Iterable<PerplexityCounts>): PerplexityCounts {
  const total = { loglikelihood: 0, bytes: 0, words: 0 };
  for (const d of documents) {
    total.loglikelihood += d.loglikelihood;
    total.bytes += d.bytes;
    total.words += d.words;
  }
  return total;
}
