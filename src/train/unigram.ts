// The unigram baseline a language model must beat: the cross-entropy of a
// model that predicts every token with its frequency in the training data
// (add-one smoothing over the vocabulary), on the same validation targets
// the trainer's validation loss is computed on. A causal LM whose validation
// loss is not clearly below it has learned nothing about context.
import { readDocuments } from '../data/jsonl.js';
import type { BpeTokenizer } from '../tokenizers/index.js';
import { documentSequences, START, sequenceStream, nextSequence } from './batches.js';

export interface UnigramBaseline {
  /** Nats per predicted validation token. */
  crossEntropy: number;
  trainTokens: number;
  valTokens: number;
}

export interface UnigramOptions {
  tokenizer: BpeTokenizer;
  /** Training JSONL; counts come from its first `trainBytes` bytes of text. */
  train: string;
  trainBytes: number;
  /** Validation JSONL, cut into the trainer's sequences (causal, chunked, seqLen). */
  val: string;
  seqLen: number;
  /** The trainer's validation size: valBatches x batchSize sequences. */
  valSequences: number;
}

export async function unigramBaseline(o: UnigramOptions): Promise<UnigramBaseline> {
  const counts = new Float64Array(o.tokenizer.vocabSize);
  let trainTokens = 0;
  let bytes = 0;
  for await (const record of readDocuments(o.train, { onBadLine: 'skip' })) {
    if (bytes >= o.trainBytes) break;
    bytes += Buffer.byteLength(record.document.text);
    // Documents end with end-of-text in training (batches.ts), so it is a token to predict too.
    for (const sequence of documentSequences(record.document.text, o.tokenizer, 'causal', 'chunk', o.seqLen)) {
      for (const id of sequence) counts[id]! += 1;
      trainTokens += sequence.length;
    }
  }
  if (trainTokens === 0) throw new Error(`${o.train}: no training tokens for the unigram baseline`);
  const logTotal = Math.log(trainTokens + counts.length);
  const stream = sequenceStream([o.val], (text) => documentSequences(text, o.tokenizer, 'causal', 'chunk', o.seqLen), START);
  let nats = 0;
  let valTokens = 0;
  try {
    for (let i = 0; i < o.valSequences; i++) {
      const { ids } = await nextSequence(stream);
      // The trainer's causal loss predicts positions 1..n-1 of each sequence.
      for (const id of ids.slice(1)) nats -= Math.log((counts[id] ?? 0) + 1) - logTotal;
      valTokens += ids.length - 1;
    }
  } finally {
    await stream.return(undefined);
  }
  return { crossEntropy: nats / valTokens, trainTokens, valTokens };
}
