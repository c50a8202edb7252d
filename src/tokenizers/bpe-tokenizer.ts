// A byte-level BPE tokenizer (GPT-2, GPT-Neo, RoBERTa) loaded from a local
// directory. Tokenization itself is Hugging Face's tokenizers.js (a pure-JS
// port of the Rust `tokenizers`, tested here against tiktoken's ids); this
// class adds the parts a training and evaluation pipeline needs: special
// token ids, truncation that keeps the special tokens, padding and batches.
import { Tokenizer } from '@huggingface/tokenizers';
import { cutPoint, cutsAreExact, exactPieces } from './exact-cuts.js';
import { tokenizerKind, type TokenizerKind } from './tokenizer-kind.js';

// The part of tokenizers.js used here. Its published .d.ts files use
// extensionless relative imports that NodeNext resolution cannot follow, so
// the types are stated here.
interface HfTokenizer {
  encode(text: string, options?: { add_special_tokens?: boolean }): { ids: number[] };
  decode(ids: number[], options?: { skip_special_tokens?: boolean }): string;
  token_to_id(token: string): number | undefined;
  id_to_token(id: number): string | undefined;
}
const HfTokenizer = Tokenizer as unknown as new (tokenizerJson: object, config: object) => HfTokenizer;

/** Characters per call to the tokenizer when a text is encoded in pieces. */
const PIECE_CHARS = 1 << 14;

/** A text every vocabulary encodes to at least one token. */
const SPECIALS_PROBE = 'a';

export interface SpecialTokens {
  bos?: string;
  eos?: string;
  pad?: string;
  mask?: string;
  unk?: string;
}

export interface EncodeOptions {
  /** Add the model's special tokens (<s> ... </s> for RoBERTa; nothing for GPT-2). Default false. */
  addSpecialTokens?: boolean;
  /** Truncate to at most this many ids (special tokens included and kept). */
  maxLength?: number;
}

export interface BatchEncoding {
  /** [batch][maxLength] ids, padded on the right with the pad id. */
  ids: number[][];
  /** 1 for real tokens, 0 for padding. */
  attentionMask: number[][];
}

export class BpeTokenizer {
  private readonly hf: HfTokenizer;
  /** Ids placed before / after the text when special tokens are added. */
  private readonly prefix: number[];
  private readonly suffix: number[];
  readonly vocabSize: number;
  readonly bosTokenId: number | undefined;
  readonly eosTokenId: number | undefined;
  readonly padTokenId: number | undefined;
  readonly maskTokenId: number | undefined;
  /** byte-level BPE, SentencePiece BPE, WordPiece, ... (tokenizer-kind.ts), and how the tokenizer.json describes itself. */
  readonly kind: TokenizerKind;
  readonly kindDescribed: string;
  /** The model's context length as the tokenizer config states it, if any. */
  readonly modelMaxLength: number | undefined;
  /** Whether a text may be tokenized in parts (exact-cuts.ts): a prefix for truncation, pieces for whole texts. */
  private readonly exactCuts: boolean;

  /**
   * @param tokenizerJson the parsed tokenizer.json
   * @param config the parsed tokenizer_config.json (may be {})
   */
  constructor(
    readonly tokenizerJson: Record<string, unknown>,
    readonly config: Record<string, unknown>,
  ) {
    this.hf = new HfTokenizer(tokenizerJson, { clean_up_tokenization_spaces: false, ...config });
    ({ kind: this.kind, described: this.kindDescribed } = tokenizerKind(tokenizerJson));
    const specials = resolveSpecialTokens(tokenizerJson, config);
    const idOf = (token: string | undefined): number | undefined => (token === undefined ? undefined : this.hf.token_to_id(token));
    this.bosTokenId = idOf(specials.bos);
    this.eosTokenId = idOf(specials.eos);
    this.padTokenId = idOf(specials.pad);
    this.maskTokenId = idOf(specials.mask);
    const vocab = (tokenizerJson['model'] as { vocab?: Record<string, number> } | undefined)?.vocab ?? {};
    let largest = -1; // no spread into Math.max: 128 K ids overflow the stack
    for (const id of Object.values(vocab)) largest = Math.max(largest, id);
    for (const t of (tokenizerJson['added_tokens'] as { id: number }[] | undefined) ?? []) largest = Math.max(largest, t.id);
    this.vocabSize = largest + 1;
    this.exactCuts = cutsAreExact(tokenizerJson);
    const maxLength = Number(config['model_max_length']);
    this.modelMaxLength = Number.isFinite(maxLength) && maxLength < 1e9 ? maxLength : undefined;
    // What add_special_tokens adds before and after a text (RoBERTa's <s> … </s>,
    // BERT's [CLS] … [SEP], Llama's BOS), read off one probe's two encodings.
    const plain = this.hf.encode(SPECIALS_PROBE, { add_special_tokens: false }).ids;
    const wrapped = this.hf.encode(SPECIALS_PROBE, { add_special_tokens: true }).ids;
    const at = wrapped.findIndex((_, i) => plain.every((id, j) => wrapped[i + j] === id));
    if (plain.length === 0 || at < 0) throw new Error('tokenizer.json: cannot tell which special tokens its post-processor adds');
    this.prefix = wrapped.slice(0, at);
    this.suffix = wrapped.slice(at + plain.length);
  }

  /** Token ids of `text`. */
  encode(text: string, options: EncodeOptions = {}): number[] {
    const special = options.addSpecialTokens ?? false;
    const budget = (options.maxLength ?? Infinity) - (special ? this.prefix.length + this.suffix.length : 0);
    if (budget < 0) throw new RangeError(`maxLength ${options.maxLength} leaves no room for the special tokens`);
    let ids = this.encodeFirst(text, budget);
    if (ids.length > budget) ids = ids.slice(0, budget);
    return special ? [...this.prefix, ...ids, ...this.suffix] : ids;
  }

  /**
   * The ids of `text` without special tokens, part by part: each array the
   * ids of about `pieceChars` characters, their concatenation encode(text)'s
   * (exact-cuts.ts). A tokenizer whose cuts are not exact gives one array.
   * Scoring streams its windows from these (eval/rolling-windows.ts).
   */
  *encodePieces(text: string, pieceChars = PIECE_CHARS): Generator<number[]> {
    if (!this.exactCuts) {
      yield this.hf.encode(text, { add_special_tokens: false }).ids;
      return;
    }
    for (const piece of exactPieces(text, pieceChars)) yield this.hf.encode(piece, { add_special_tokens: false }).ids;
  }

  // At least the first `budget` ids of `text` (all of them when it has fewer):
  // a prefix cut where the pieces before the cut are the whole text's
  // (exact-cuts.ts), doubled until it holds enough, so truncation costs what
  // it keeps, not the length of the text. Without a budget, the whole text
  // in pieces.
  private encodeFirst(text: string, budget: number): number[] {
    if (!Number.isFinite(budget) || !this.exactCuts) {
      const ids: number[] = [];
      for (const piece of this.encodePieces(text)) for (const id of piece) ids.push(id); // no spread: a piece may hold more ids than a call takes arguments
      return ids;
    }
    for (let want = Math.max(256, 8 * budget); ; want *= 2) {
      const cut = want >= text.length ? text.length : cutPoint(text, want);
      const ids = this.hf.encode(cut === text.length ? text : text.slice(0, cut), { add_special_tokens: false }).ids;
      if (ids.length > budget || cut === text.length) return ids;
    }
  }

  /**
   * The token a document's first scoring window is conditioned on, as
   * lm-evaluation-harness's HFLM.prefix_token_id chooses it
   * (lm_eval/models/huggingface.py): BOS when the tokenizer has one (Llama,
   * Mistral, Phi-3; GPT-2's is <|endoftext|>), EOS otherwise (Qwen2).
   */
  get scoringPrefixTokenId(): number | undefined {
    return this.bosTokenId ?? this.eosTokenId;
  }

  /** `ids` wrapped in the special tokens encode(…, { addSpecialTokens: true }) adds. */
  withSpecialTokens(ids: readonly number[]): number[] {
    return [...this.prefix, ...ids, ...this.suffix];
  }

  /** How many ids addSpecialTokens adds. */
  get specialTokenCount(): number {
    return this.prefix.length + this.suffix.length;
  }

  /** Encodes several texts and pads them to the longest (right padding). */
  encodeBatch(texts: readonly string[], options: EncodeOptions = {}): BatchEncoding {
    const encoded = texts.map((t) => this.encode(t, options));
    const width = encoded.reduce((most, ids) => Math.max(most, ids.length), 0);
    const pad = this.padTokenId ?? this.eosTokenId;
    if (pad === undefined && encoded.some((ids) => ids.length < width)) {
      throw new Error('this tokenizer has no pad or end-of-text token to pad a batch with');
    }
    return {
      ids: encoded.map((ids) => [...ids, ...new Array<number>(width - ids.length).fill(pad ?? 0)]),
      attentionMask: encoded.map((ids) => [...new Array<number>(ids.length).fill(1), ...new Array<number>(width - ids.length).fill(0)]),
    };
  }

  decode(ids: readonly number[], options: { skipSpecialTokens?: boolean } = {}): string {
    if (ids.length === 0) return '';
    return this.hf.decode([...ids], { skip_special_tokens: options.skipSpecialTokens ?? false });
  }

  tokenToId(token: string): number | undefined {
    return this.hf.token_to_id(token);
  }

  idToToken(id: number): string | undefined {
    return this.hf.id_to_token(id);
  }
}

/** Special token strings from tokenizer_config.json, else the conventions of the vocabulary. */
function resolveSpecialTokens(tokenizerJson: Record<string, unknown>, config: Record<string, unknown>): SpecialTokens {
  const content = (value: unknown): string | undefined =>
    typeof value === 'string' ? value : typeof value === 'object' && value !== null ? ((value as { content?: string }).content ?? undefined) : undefined;
  const addedTokens = new Set(((tokenizerJson['added_tokens'] as { content: string }[] | undefined) ?? []).map((t) => t.content));
  const fallback = (name: string): string | undefined => (addedTokens.has(name) ? name : undefined);
  const gpt = fallback('<|endoftext|>');
  // A key that tokenizer_config.json sets to null means "none" (Qwen2's
  // bos_token): no convention fills it in.
  const stated = (key: string): string | undefined | null => (config[key] === null ? null : content(config[key]));
  const bos = stated('bos_token');
  return {
    bos: bos === null ? undefined : (bos ?? fallback('<s>') ?? gpt),
    eos: content(config['eos_token']) ?? fallback('</s>') ?? gpt,
    pad: content(config['pad_token']) ?? fallback('<pad>'),
    mask: content(config['mask_token']) ?? fallback('<mask>'),
    unk: content(config['unk_token']) ?? fallback('<unk>') ?? gpt,
  };
}
