// Builds the tokenizer.json description (Hugging Face `tokenizers` format)
// of a byte-level BPE tokenizer given as vocab.json + merges.txt, so both
// kinds of tokenizer directory go through the same library.

export type TokenizerStyle = 'gpt2' | 'roberta';

interface AddedTokenJson {
  id: number;
  content: string;
  single_word: boolean;
  lstrip: boolean;
  rstrip: boolean;
  normalized: boolean;
  special: boolean;
}

const added = (id: number, content: string, lstrip = false): AddedTokenJson => ({
  id,
  content,
  single_word: false,
  lstrip,
  rstrip: false,
  normalized: false,
  special: true,
});

/** merges.txt lines ("a b"), without the "#version" header and blank lines. */
export function parseMerges(text: string): string[] {
  return text.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('#version'));
}

/**
 * RoBERTa's vocabulary carries <s> </s> <pad> <mask>; GPT-2's and GPT-Neo's
 * carry <|endoftext|> only.
 */
export function detectStyle(vocab: Record<string, number>): TokenizerStyle {
  return '<s>' in vocab && '<mask>' in vocab ? 'roberta' : 'gpt2';
}

export function tokenizerJsonFromVocab(vocab: Record<string, number>, merges: string[], style: TokenizerStyle): Record<string, unknown> {
  const id = (token: string): number => {
    const value = vocab[token];
    if (value === undefined) throw new Error(`vocab.json has no '${token}' token, which a ${style} tokenizer needs`);
    return value;
  };
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  const roberta = style === 'roberta';
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: roberta
      ? [added(id('<s>'), '<s>'), added(id('<pad>'), '<pad>'), added(id('</s>'), '</s>'), added(id('<unk>'), '<unk>'), added(id('<mask>'), '<mask>', true)]
      : [added(id('<|endoftext|>'), '<|endoftext|>')],
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: roberta
      ? { type: 'RobertaProcessing', sep: ['</s>', id('</s>')], cls: ['<s>', id('<s>')], trim_offsets: true, add_prefix_space: false }
      : { ...byteLevel, trim_offsets: false },
    decoder: byteLevel,
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: roberta ? '<unk>' : null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      vocab,
      merges,
    },
  };
}
