// What kind of tokenizer a tokenizer.json describes, in the words the
// architectures use to say which they read (models/architecture.ts): GPT-2,
// GPT-Neo, RoBERTa, Llama-3 and Qwen2 ship byte-level BPE; Llama-2, Mistral
// and Phi-3 a SentencePiece-style BPE (▁ and byte fallback, no byte-level
// pre-tokenizer); BERT WordPiece. A model fed another kind gets ids it was
// never trained on, so the pairing is checked (models/tokenizer-pairing.ts).

export type TokenizerKind = 'byte-level BPE' | 'SentencePiece BPE' | 'WordPiece' | 'Unigram' | 'unknown';

/** The kind of `json` (a parsed tokenizer.json), and a description of it for messages. */
export function tokenizerKind(json: Record<string, unknown>): { kind: TokenizerKind; described: string } {
  const model = json['model'] as { type?: unknown; merges?: unknown } | undefined;
  const type = typeof model?.type === 'string' ? model.type : model?.merges !== undefined ? 'BPE' : 'unknown';
  const pre = json['pre_tokenizer'] as { type?: unknown; pretokenizers?: { type?: unknown }[] } | null | undefined;
  const described = `a ${type} tokenizer with pre-tokenizer ${JSON.stringify(pre?.type ?? null)}`;
  const byteLevel = pre?.type === 'ByteLevel' || (pre?.type === 'Sequence' && (pre.pretokenizers ?? []).some((p) => p?.type === 'ByteLevel'));
  if (type === 'BPE') return { kind: byteLevel ? 'byte-level BPE' : 'SentencePiece BPE', described };
  if (type === 'WordPiece' || type === 'Unigram') return { kind: type, described };
  return { kind: 'unknown', described };
}
