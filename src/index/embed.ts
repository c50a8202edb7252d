// Document embeddings: the encoder's last hidden states, pooled — by default
// as the original computes them, mean-pooled over non-padding tokens
// (tttlm code/text_embedding.py:67-73), or as a sentence-transformers
// directory says (sentence-transformers.ts) —, texts truncated to the
// encoder's context. An empty text is embedded as ' ' (the original's
// build_database.py:142; a sentence-transformers directory embeds it as
// sentence-transformers does, as ''); a NaN embedding is replaced by zeros,
// with a warning naming the document.
import { inference, tensor } from '../engine/index.js';
import { checkTokenizerFits, ORIGINAL_POOLING, poolHiddenStates, type EncoderModel, type Pooling } from '../models/index.js';
import type { BpeTokenizer } from '../tokenizers/index.js';

export interface Embedder {
  model: EncoderModel;
  tokenizer: BpeTokenizer;
  /** Tokens per text, special tokens included (default: the encoder's context). */
  maxLength?: number;
  /** Default: the original's (mean, not normalised). */
  pooling?: Pooling;
  /** Lower-case texts first (sentence_bert_config.json's do_lower_case). */
  lowercase?: boolean;
  /** What an empty text is embedded as (default ' ', the original's). */
  emptyText?: string;
  /** The directory it was loaded from, for messages (loadEmbedder sets it). */
  source?: string;
}

/** The length of the vectors `embedder` makes: the hidden size per pooling mode. */
export function embeddingDimension(embedder: Pick<Embedder, 'model' | 'pooling'>): number {
  return embedder.model.hiddenSize * (embedder.pooling ?? ORIGINAL_POOLING).modes.length;
}

/** [n x hidden] float32 embeddings of `texts`; `labels` name them in warnings. */
export function embedTexts(embedder: Embedder, texts: readonly string[], labels?: readonly string[], warn = (m: string) => process.stderr.write(`warning: ${m}\n`)): Float32Array {
  const { model, tokenizer } = embedder;
  checkTokenizerFits(tokenizer, model, "the embedder's tokenizer", 'the embedder');
  const maxLength = Math.min(embedder.maxLength ?? model.contextLength, model.contextLength);
  const batch = tokenizer.encodeBatch(
    texts.map((t) => (t.length === 0 ? (embedder.emptyText ?? ' ') : embedder.lowercase ? t.toLowerCase() : t)),
    { addSpecialTokens: true, maxLength },
  );
  const width = batch.ids[0]?.length ?? 0;
  const device = model.parameters.device; // the index build's and the retriever's query embeddings alike
  const out = inference(() => {
    const ids = tensor(batch.ids.flat(), { dtype: 'int64', shape: [texts.length, width], device });
    const mask = tensor(batch.attentionMask.flat(), { dtype: 'int64', shape: [texts.length, width], device });
    return poolHiddenStates(model.hiddenStates(ids, mask), mask, embedder.pooling ?? ORIGINAL_POOLING).toTypedArray() as Float32Array;
  });
  const d = embeddingDimension(embedder);
  for (let i = 0; i < texts.length; i++) {
    const row = out.subarray(i * d, (i + 1) * d);
    if (row.some((v) => Number.isNaN(v))) {
      warn(`NaN embedding for ${labels?.[i] ?? `text ${i}`}; using zeros`);
      row.fill(0);
    }
  }
  return out;
}
