// Training a byte-level BPE vocabulary (GPT-2's scheme) on a corpus, so a
// model can use a small vocabulary fitted to its own data instead of GPT-2's
// 50257 tokens. The result is the vocab.json + merges.txt pair that
// tokenizer-json.ts turns into a Hugging Face tokenizer.json, so training and
// tokenization never disagree about the format: the pre-tokenization and byte
// alphabet below are exactly those of HF's ByteLevel pre-tokenizer, which
// tokenizers.js applies at encoding time.
import { BpeTokenizer } from './bpe-tokenizer.js';
import { tokenizerJsonFromVocab } from './tokenizer-json.js';

/**
 * GPT-2's pre-tokenization pattern (HF ByteLevel with use_regex, and
 * tokenizers.js). Merges never cross the pieces it splits a text into, so
 * words, numbers, punctuation runs and whitespace stay separate tokens.
 */
const GPT2_PATTERN = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

/**
 * GPT-2's bytes_to_unicode: the string that stands for each byte value in
 * vocab.json and merges.txt. The 188 printable bytes ('!'..'~', '¡'..'¬',
 * '®'..'ÿ') stand for themselves; the other 68 (controls, space, DEL, NBSP,
 * soft hyphen) are given U+0100, U+0101, … in byte order. Every token is then
 * a printable string without whitespace, which merges.txt's "left right"
 * lines need (a space is 'Ġ', a newline 'Ċ').
 */
export const BYTE_TO_UNICODE: readonly string[] = (() => {
  const printable = (b: number): boolean => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const table: string[] = [];
  let next = 0x100;
  for (let b = 0; b < 256; b++) table.push(String.fromCodePoint(printable(b) ? b : next++));
  return table;
})();

export interface TrainBpeOptions {
  /** Size of the vocabulary: special tokens + 256 byte tokens + merged tokens. */
  vocabSize: number;
  /** Tokens given the first ids, in this order (they take part in no merge). */
  specialTokens: readonly string[];
  /** Stop early when the most frequent pair occurs fewer times than this (default 2). */
  minFrequency?: number;
}

export interface TrainedBpe {
  /** Token string (byte-level alphabet) -> id: specials, then the 256 bytes in byte order, then merged tokens. */
  vocab: Record<string, number>;
  /** merges.txt lines ("left right"), in the order they were learnt (= their rank when encoding). */
  merges: string[];
  /** The training data as the final merges segment it (what the tokenizer's encode gives, special tokens aside). */
  stats: { bytes: number; tokens: number; distinctWords: number };
}

/**
 * Learns byte-level BPE merges: repeatedly merges the adjacent pair of
 * symbols that occurs most often in the corpus, until the vocabulary has
 * `vocabSize` tokens or no pair occurs `minFrequency` times.
 *
 * Ties between pairs with the same count go to the lexicographically smallest
 * (left, right) pair of token strings (left compared first, by UTF-16 code
 * units, which for this alphabet, all below U+0144, is code point order).
 * That is what a naive reference that sorts by (-count, left, right) does, so
 * the result is deterministic and independent of hash order. (HF's Rust
 * trainer breaks ties by internal symbol ids instead, so its merges can
 * differ on ties; both are valid BPE vocabularies.)
 *
 * Should two different merges spell the same string ("ab"+"c" and "a"+"bc"),
 * the second reuses the first's id, as HF's trainer does; `vocabSize` counts
 * distinct tokens, so there would then be more merges than merged tokens.
 *
 * Cost: one pass of the regex over the corpus, then per merge only the words
 * that contain the merged pair are touched (pair -> words index) and the best
 * pair comes from a lazy max-heap, instead of recounting every pair.
 */
export function trainByteLevelBpe(texts: Iterable<string>, options: TrainBpeOptions): TrainedBpe {
  const { vocabSize, specialTokens } = options;
  const minFrequency = options.minFrequency ?? 2;
  validate(vocabSize, specialTokens, minFrequency);

  // Token strings by id, and ids by string.
  const tokens: string[] = [...specialTokens, ...BYTE_TO_UNICODE];
  const ids = new Map<string, number>(tokens.map((t, i) => [t, i]));
  const words = buildWordTable(countWords(texts), specialTokens.length);
  const pairs = new PairCounts(words, tokens, vocabSize);

  const merges: string[] = [];
  const seenInMerge = new Int32Array(words.frequency.length).fill(-1);
  while (ids.size < vocabSize) {
    const best = pairs.popBest();
    if (best === undefined || best.count < minFrequency) break;
    const [a, b] = pairs.split(best.key);
    const merged = (tokens[a] as string) + (tokens[b] as string);
    let z = ids.get(merged);
    if (z === undefined) {
      z = tokens.length;
      tokens.push(merged);
      ids.set(merged, z);
    }
    merges.push(`${tokens[a]} ${tokens[b]}`);
    mergePair(words, pairs, best.key, z, merges.length - 1, seenInMerge);
  }

  let bytes = 0;
  let finalTokens = 0;
  for (let w = 0; w < words.frequency.length; w++) {
    bytes += (words.frequency[w] as number) * ((words.start[w + 1] as number) - (words.start[w] as number));
    finalTokens += (words.frequency[w] as number) * (words.length[w] as number);
  }
  return {
    // fromEntries makes own properties even of names like "constructor".
    vocab: Object.fromEntries(tokens.map((t, i) => [t, i])),
    merges,
    stats: { bytes, tokens: finalTokens, distinctWords: words.frequency.length },
  };
}

/**
 * The count of every adjacent pair of symbols in the corpus (weighted by word
 * frequency), the words that contain each pair, and a lazy max-heap that
 * gives the most frequent pair (ties: the smallest (left, right) strings).
 */
class PairCounts {
  private readonly counts = new Map<number, number>();
  /** pair -> words that contain it (may also list words that lost it since: merging checks them). */
  private readonly words = new Map<number, number[]>();
  private readonly heap: PairHeap;

  constructor(
    table: WordTable,
    tokens: readonly string[],
    /** Keys are left * V + right: below 2^30 (a V8 small integer) for vocabularies up to 32768. */
    private readonly V: number,
  ) {
    const { symbols, start, length, frequency } = table;
    for (let w = 0; w < frequency.length; w++) {
      const f = frequency[w] as number;
      const end = (start[w] as number) + (length[w] as number);
      for (let i = start[w] as number; i + 1 < end; i++) {
        const key = this.key(symbols[i] as number, symbols[i + 1] as number);
        this.counts.set(key, (this.counts.get(key) ?? 0) + f);
        this.noteWord(key, w);
      }
    }
    this.heap = new PairHeap((x, y) => {
      const [lx, rx] = this.split(x);
      const [ly, ry] = this.split(y);
      const a = tokens[lx] as string;
      const b = tokens[ly] as string;
      if (a !== b) return a < b;
      return (tokens[rx] as string) < (tokens[ry] as string);
    });
    for (const [key, count] of this.counts) this.heap.push(count, key);
  }

  key(left: number, right: number): number {
    return left * this.V + right;
  }

  split(key: number): [number, number] {
    return [Math.floor(key / this.V), key % this.V];
  }

  noteWord(key: number, word: number): void {
    const list = this.words.get(key);
    if (list === undefined) this.words.set(key, [word]);
    else if (list[list.length - 1] !== word) list.push(word);
  }

  wordsWith(key: number): readonly number[] {
    return this.words.get(key) ?? [];
  }

  /**
   * The most frequent live pair. The heap is lazy: a count that grows gets a
   * new entry, one that shrinks keeps its old, too high entry. So every live
   * pair has an entry at least its true count, and an entry that matches its
   * pair's count is the maximum.
   */
  popBest(): { key: number; count: number } | undefined {
    while (this.heap.size > 0) {
      const entry = this.heap.pop();
      const actual = this.counts.get(entry.key) ?? 0;
      if (actual === entry.count) return entry;
      if (actual > 0 && actual < entry.count) this.heap.push(actual, entry.key);
      // actual > entry.count: a newer entry with the right count is in the heap.
    }
    return undefined;
  }

  /** After `merged` was merged everywhere: drops it and applies the other pairs' count changes. */
  update(merged: number, delta: ReadonlyMap<number, number>): void {
    this.counts.delete(merged);
    this.words.delete(merged);
    for (const [key, amount] of delta) {
      if (key === merged || amount === 0) continue;
      const count = (this.counts.get(key) ?? 0) + amount;
      if (count <= 0) {
        // Gone from every word: drop it (and its word list) to keep memory to live pairs.
        this.counts.delete(key);
        this.words.delete(key);
      } else {
        this.counts.set(key, count);
        if (amount > 0) this.heap.push(count, key);
      }
    }
  }
}

/**
 * Merge number `m`: rewrites each word that contains the pair (a, b) in place,
 * left to right (as encoding does), replacing it by the symbol z, and updates
 * the counts of the neighbouring pairs: x a b y becomes x z y, so (x,a) and
 * (b,y) lose, (x,z) and (z,y) gain.
 */
function mergePair(words: WordTable, pairs: PairCounts, key: number, z: number, m: number, seenInMerge: Int32Array): void {
  const { symbols, start, length, frequency } = words;
  const [a, b] = pairs.split(key);
  const delta = new Map<number, number>();
  const add = (pair: number, amount: number): void => {
    delta.set(pair, (delta.get(pair) ?? 0) + amount);
  };
  for (const w of pairs.wordsWith(key)) {
    if (seenInMerge[w] === m) continue;
    seenInMerge[w] = m;
    const f = frequency[w] as number;
    const first = start[w] as number;
    const end = first + (length[w] as number);
    let read = first;
    let write = first;
    while (read < end) {
      if (read + 1 < end && symbols[read] === a && symbols[read + 1] === b) {
        if (write > first) {
          const x = symbols[write - 1] as number;
          add(pairs.key(x, a), -f);
          add(pairs.key(x, z), f);
          pairs.noteWord(pairs.key(x, z), w);
        }
        if (read + 2 < end) {
          const y = symbols[read + 2] as number;
          add(pairs.key(b, y), -f);
          add(pairs.key(z, y), f);
          pairs.noteWord(pairs.key(z, y), w);
        }
        symbols[write++] = z;
        read += 2;
      } else {
        symbols[write++] = symbols[read++] as number;
      }
    }
    length[w] = write - first;
  }
  pairs.update(key, delta);
}

function validate(vocabSize: number, specialTokens: readonly string[], minFrequency: number): void {
  if (!Number.isInteger(vocabSize)) throw new RangeError(`vocabSize must be an integer, got ${vocabSize}`);
  const minimum = specialTokens.length + 256;
  if (vocabSize < minimum) {
    throw new RangeError(`vocabSize ${vocabSize} is too small: the ${specialTokens.length} special tokens and 256 byte tokens alone take ${minimum}`);
  }
  // The pair keys are left * vocabSize + right, exact in a double up to here.
  if (vocabSize > 2 ** 26) throw new RangeError(`vocabSize ${vocabSize} is larger than this trainer supports (2^26)`);
  if (!(minFrequency >= 1)) throw new RangeError(`minFrequency must be at least 1, got ${minFrequency}`);
  const seen = new Set<string>();
  const bytes = new Set(BYTE_TO_UNICODE);
  for (const token of specialTokens) {
    if (token === '') throw new Error('a special token cannot be empty');
    if (seen.has(token)) throw new Error(`special token '${token}' is listed twice`);
    if (bytes.has(token)) throw new Error(`special token '${token}' is the byte-level symbol of a byte, which needs an id of its own`);
    seen.add(token);
  }
}

/** Pre-tokenizes every text and counts each distinct piece. */
function countWords(texts: Iterable<string>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const text of texts) {
    for (const piece of text.match(GPT2_PATTERN) ?? []) {
      const count = counts.get(piece);
      if (count !== undefined) counts.set(piece, count + 1);
      // V8 represents a long substring as a view of its whole text; a flat
      // copy as the key lets the texts be freed while their words are counted.
      else counts.set(piece.length < 13 ? piece : [...piece].join(''), 1);
    }
  }
  return counts;
}

interface WordTable {
  /** Symbol ids of all words, one after another; a word shrinks in place as merges apply. */
  symbols: Int32Array;
  /** Word w's symbols start at start[w]; start[w + 1] - start[w] is its length in bytes. */
  start: Int32Array;
  /** Current number of symbols of each word. */
  length: Int32Array;
  /** Occurrences of each word in the corpus. */
  frequency: Float64Array;
}

/** Each distinct word as its UTF-8 bytes' symbol ids (byte b is id firstByte + b). */
function buildWordTable(counts: Map<string, number>, firstByte: number): WordTable {
  const n = counts.size;
  const start = new Int32Array(n + 1);
  const frequency = new Float64Array(n);
  let w = 0;
  let total = 0;
  for (const [word, count] of counts) {
    start[w] = total;
    frequency[w] = count;
    total += Buffer.byteLength(word, 'utf8');
    w++;
  }
  start[n] = total;
  const symbols = new Int32Array(total);
  const length = new Int32Array(n);
  w = 0;
  for (const word of counts.keys()) {
    // Lone surrogates become U+FFFD's bytes, as TextEncoder makes them when encoding.
    const bytes = Buffer.from(word, 'utf8');
    const offset = start[w] as number;
    for (let i = 0; i < bytes.length; i++) symbols[offset + i] = firstByte + (bytes[i] as number);
    length[w] = bytes.length;
    w++;
  }
  return { symbols, start, length, frequency };
}

/** A binary max-heap of (count, pair key): higher count first, then `before` breaks ties. */
class PairHeap {
  private readonly counts: number[] = [];
  private readonly keys: number[] = [];

  constructor(private readonly before: (keyA: number, keyB: number) => boolean) {}

  get size(): number {
    return this.counts.length;
  }

  push(count: number, key: number): void {
    this.counts.push(count);
    this.keys.push(key);
    this.up(this.counts.length - 1);
  }

  pop(): { count: number; key: number } {
    const top = { count: this.counts[0] as number, key: this.keys[0] as number };
    const lastCount = this.counts.pop() as number;
    const lastKey = this.keys.pop() as number;
    if (this.counts.length > 0) {
      this.counts[0] = lastCount;
      this.keys[0] = lastKey;
      this.down(0);
    }
    return top;
  }

  private higher(i: number, j: number): boolean {
    const ci = this.counts[i] as number;
    const cj = this.counts[j] as number;
    return ci !== cj ? ci > cj : this.before(this.keys[i] as number, this.keys[j] as number);
  }

  private swap(i: number, j: number): void {
    const c = this.counts[i] as number;
    this.counts[i] = this.counts[j] as number;
    this.counts[j] = c;
    const k = this.keys[i] as number;
    this.keys[i] = this.keys[j] as number;
    this.keys[j] = k;
  }

  private up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.higher(i, parent)) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private down(i: number): void {
    const n = this.counts.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let best = i;
      if (l < n && this.higher(l, best)) best = l;
      if (r < n && this.higher(r, best)) best = r;
      if (best === i) return;
      this.swap(i, best);
      i = best;
    }
  }
}

export interface TrainTokenizersOptions {
  /** model_max_length of the causal tokenizer's config (default 1024, GPT-2's). */
  causalMaxLength?: number;
  /** model_max_length of the encoder tokenizer's config (default 512, RoBERTa's). */
  encoderMaxLength?: number;
  /** See TrainBpeOptions.minFrequency. */
  minFrequency?: number;
}

export interface TrainedTokenizers {
  /** GPT-2 layout: <|endoftext|>=0, the 256 bytes, the merges; vocabSize ids in all. */
  causal: BpeTokenizer;
  /** RoBERTa layout: <s>=0 <pad>=1 </s>=2 <unk>=3, the bytes, the merges, <mask> last: vocabSize + 4 ids. */
  encoder: BpeTokenizer;
  /** The shared training run. */
  trained: TrainedBpe;
}

const CAUSAL_SPECIAL = '<|endoftext|>';
const ENCODER_LEADING = ['<s>', '<pad>', '</s>', '<unk>'] as const;
const ENCODER_MASK = '<mask>';

/**
 * One training run, two tokenizers over the same merges: a GPT-2-style one
 * for causal models and a RoBERTa-style one for masked-LM encoders.
 * `vocabSize` is the causal tokenizer's vocabulary (1 special + 256 bytes +
 * merged tokens); the encoder's has the same merged tokens and 5 specials
 * instead of 1, so 4 more ids.
 */
export function trainTokenizers(texts: Iterable<string>, vocabSize: number, options: TrainTokenizersOptions = {}): TrainedTokenizers {
  const trained = trainByteLevelBpe(texts, { vocabSize, specialTokens: [CAUSAL_SPECIAL], minFrequency: options.minFrequency });
  const causal = new BpeTokenizer(tokenizerJsonFromVocab(trained.vocab, trained.merges, 'gpt2'), {
    model_max_length: options.causalMaxLength ?? 1024,
    bos_token: CAUSAL_SPECIAL,
    eos_token: CAUSAL_SPECIAL,
    unk_token: CAUSAL_SPECIAL,
  });

  // The causal vocabulary without <|endoftext|>, shifted past RoBERTa's four leading specials.
  const entries: [string, number][] = ENCODER_LEADING.map((t, i) => [t, i]);
  let last = ENCODER_LEADING.length - 1;
  for (const [token, id] of Object.entries(trained.vocab)) {
    if (token === CAUSAL_SPECIAL) continue;
    // A merged token is a run of letters, digits, punctuation or spaces
    // (pre-tokenization never mixes them), so it cannot spell "<s>" or
    // "<mask>"; checked anyway, since a clash would silently drop a token.
    if ((ENCODER_LEADING as readonly string[]).includes(token) || token === ENCODER_MASK) throw new Error(`a trained token spells the special token '${token}'`);
    const shifted = id - 1 + ENCODER_LEADING.length;
    entries.push([token, shifted]);
    last = Math.max(last, shifted);
  }
  entries.push([ENCODER_MASK, last + 1]);
  const encoder = new BpeTokenizer(tokenizerJsonFromVocab(Object.fromEntries(entries), trained.merges, 'roberta'), {
    model_max_length: options.encoderMaxLength ?? 512,
    bos_token: '<s>',
    eos_token: '</s>',
    pad_token: '<pad>',
    unk_token: '<unk>',
    mask_token: ENCODER_MASK,
  });
  return { causal, encoder, trained };
}
