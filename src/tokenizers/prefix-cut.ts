// Where a text can be cut so that the tokens of the part before the cut are
// the first tokens of the whole text: for truncation (an embedder sees the
// first 128 or 512 tokens), so that a 50 MB document is not tokenized whole
// to keep 512 tokens of it (issue 35: 75 s and 3 GB for one 50 MB line).
//
// A byte-level BPE with no normalizer splits the text into pieces by the
// GPT-2 pattern (words with their leading space, runs of digits, of
// punctuation, of whitespace) and merges within each piece. A piece never
// reaches across a point where whitespace follows a non-whitespace character
// — except a whitespace run, whose last character joins the next word
// (`\s+(?!\S)`), which a cut right at the run's start leaves intact: the cut
// text then ends with the non-whitespace piece, as the whole text has it.

/** Whether `c` is whitespace as the pre-tokenizer's `\s` reads it. */
const WHITESPACE = /\s/;

/** Characters searched past the wanted length for such a point before the cut is made inside one long word. */
export const LONG_WORD_CHARS = 1 << 16;

/**
 * A cut position at or after `from`: the first index where whitespace
 * follows a non-whitespace character, or `from + LONG_WORD_CHARS` within a
 * longer stretch without one (cut inside a word: its pieces after about
 * 64 K characters may then differ, far past what the first tokens span), or
 * the text's end.
 */
export function cutPoint(text: string, from: number): number {
  const limit = Math.min(text.length, from + LONG_WORD_CHARS);
  for (let i = Math.max(1, from); i < limit; i++) {
    if (WHITESPACE.test(text[i]!) && !WHITESPACE.test(text[i - 1]!)) return i;
  }
  return limit;
}

/** Whether a tokenizer.json splits as cutPoint assumes: ByteLevel pre-tokenizer with its pattern, no normalizer, no added token holding whitespace. */
export function cutsAreExact(tokenizerJson: Record<string, unknown>): boolean {
  const pre = tokenizerJson['pre_tokenizer'] as { type?: string; use_regex?: boolean } | null | undefined;
  const added = (tokenizerJson['added_tokens'] as { content?: string }[] | undefined) ?? [];
  return pre?.type === 'ByteLevel' && pre.use_regex !== false && (tokenizerJson['normalizer'] ?? null) === null && !added.some((t) => /\s/.test(t.content ?? ''));
}
