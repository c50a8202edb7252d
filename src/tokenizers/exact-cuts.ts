// Where a text can be cut so that its tokens are the tokens of the part
// before the cut followed by those of the part after it. Two uses:
//   - truncation (an embedder sees the first 128 or 512 tokens): a 50 MB
//     document is not tokenized whole to keep 512 tokens of it (issue 35:
//     75 s and 3 GB for one 50 MB line);
//   - whole documents (scoring, training windows): tokenized piece by piece,
//     each call to the tokenizer bounded, and scoring windows streamed as the
//     pieces come (eval/rolling-windows.ts), instead of one call over
//     megabytes whose intermediate pieces and offsets dwarf the ids.
//
// The cut: before a space (U+0020) that follows a non-whitespace character.
// It is exact for the tokenizers whose pre-tokenizer splits there and whose
// normalizer acts on one character at a time (cutRule below):
//   - byte-level BPE with GPT-2's pattern (GPT-2, GPT-Neo, RoBERTa) or with
//     Llama-3's or Qwen2's split regex (Llama-3.x, Qwen2.x), normalizer none
//     or NFC. Every alternative of these patterns that can hold a space holds
//     it first (" ?\p{L}+", "[^\r\n\p{L}\p{N}]?\p{L}+", " ?[^\s\p{L}\p{N}]+")
//     or consists of whitespace only, so no piece reaches across the cut;
//     the patterns look ahead, never behind, so the part after the cut splits
//     as the whole text does from there. (A newline after punctuation is no
//     cut: Llama-3's " ?[^\s\p{L}\p{N}]+[\r\n]*" keeps ".\n" together.)
//   - WordPiece behind BERT's pre-tokenizer, which splits at every whitespace
//     and drops it.
// Added tokens are matched before pre-tokenization: one that holds a space,
// or that swallows the whitespace to its right (rstrip), could span a cut,
// so their presence turns the rule off.
// SentencePiece-style BPE (Llama-2, Mistral, Phi-3) has no pre-tokenizer:
// BPE runs over the whole "▁"-joined text, and the normalizer prepends "▁"
// to what it is given. No cut is claimed exact there; such texts are
// tokenized in one call.

/** Whether `c` is whitespace as the patterns' `\s` reads it. */
const WHITESPACE = /\s/;

/** Characters searched past the wanted length for a cut before truncation cuts inside one long word. */
export const LONG_WORD_CHARS = 1 << 16;

/** GPT-2's pattern is the ByteLevel pre-tokenizer's own (use_regex); these are the split regexes of later byte-level families. */
const SPLIT_PATTERNS = new Set([
  // Llama-3.x (tokenizer.json pre_tokenizer Sequence[Split, ByteLevel])
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
  // Qwen2.x: single digits
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
]);

interface Step {
  type?: string;
  use_regex?: boolean;
  pattern?: { Regex?: string; String?: string };
  pretokenizers?: Step[];
  normalizers?: Step[];
}

function isByteLevelWithGpt2Pattern(pre: Step): boolean {
  return pre.type === 'ByteLevel' && pre.use_regex !== false;
}

function isKnownSplitThenByteLevel(pre: Step): boolean {
  const steps = pre.type === 'Sequence' ? (pre.pretokenizers ?? []) : [];
  return steps.length === 2 && steps[0]!.type === 'Split' && SPLIT_PATTERNS.has(steps[0]!.pattern?.Regex ?? '') && steps[1]!.type === 'ByteLevel' && steps[1]!.use_regex === false;
}

function normalizesPerCharacter(normalizer: Step | null): boolean {
  if (normalizer === null) return true;
  if (normalizer.type === 'Sequence') return (normalizer.normalizers ?? []).every((n) => normalizesPerCharacter(n));
  return normalizer.type === 'NFC' || normalizer.type === 'BertNormalizer' || normalizer.type === 'Lowercase';
}

/**
 * Whether cuts (cutPoint, exactPieces) keep `tokenizerJson`'s tokens: the
 * pre-tokenizers and normalizers named at the top of this file, and no added
 * token holding whitespace or stripping it on its right.
 */
export function cutsAreExact(tokenizerJson: Record<string, unknown>): boolean {
  const pre = (tokenizerJson['pre_tokenizer'] as Step | null | undefined) ?? null;
  const normalizer = (tokenizerJson['normalizer'] as Step | null | undefined) ?? null;
  const model = tokenizerJson['model'] as { type?: string } | undefined;
  const added = (tokenizerJson['added_tokens'] as { content?: string; rstrip?: boolean }[] | undefined) ?? [];
  if (added.some((t) => WHITESPACE.test(t.content ?? '') || t.rstrip === true)) return false;
  if (pre === null || !normalizesPerCharacter(normalizer)) return false;
  if (model?.type === 'WordPiece') return pre.type === 'BertPreTokenizer';
  return isByteLevelWithGpt2Pattern(pre) || isKnownSplitThenByteLevel(pre);
}

function isCut(text: string, i: number): boolean {
  return text[i] === ' ' && !WHITESPACE.test(text[i - 1]!);
}

/**
 * For truncation: a cut at or after `from`, or `from + LONG_WORD_CHARS`
 * within a longer stretch without one (cut inside a word: its pieces after
 * about 64 K characters may then differ, far past what the first tokens
 * span), or the text's end.
 */
export function cutPoint(text: string, from: number): number {
  const limit = Math.min(text.length, from + LONG_WORD_CHARS);
  for (let i = Math.max(1, from); i < limit; i++) if (isCut(text, i)) return i;
  return limit;
}

/**
 * The text in consecutive parts of about `chars` characters (longer where no
 * cut comes sooner: a stretch without one stays whole), each ending at a
 * cut: the concatenation of the parts' tokens is the text's.
 */
export function* exactPieces(text: string, chars: number): Generator<string> {
  let start = 0;
  while (text.length - start > chars) {
    let cut = start + chars;
    while (cut < text.length && !isCut(text, cut)) cut++;
    yield text.slice(start, cut);
    start = cut;
  }
  if (start < text.length || text.length === 0) yield text.slice(start);
}
