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
  const firstByte = specialTokens.length;

  const words = buildWordTable(countWords(texts), firstByte);
  const { symbols, start, length, frequency } = words;

  // A pair of symbol ids as one number; below 2^30 (a V8 small integer) for vocabularies up to 32768.
  const V = vocabSize;
  const pairKey = (left: number, right: number): number => left * V + right;
  const leftOf = (key: number): number => Math.floor(key / V);
  const rightOf = (key: number): number => key % V;

  // pair -> occurrences in the corpus (weighted by word frequency), and pair -> words that contain it
  // (may also list words that lost it since: they are checked when the pair is merged).
  const pairCounts = new Map<number, number>();
  const pairWords = new Map<number, number[]>();
  const noteWord = (key: number, word: number): void => {
    const list = pairWords.get(key);
    if (list === undefined) pairWords.set(key, [word]);
    else if (list[list.length - 1] !== word) list.push(word);
  };
  for (let w = 0; w < frequency.length; w++) {
    const f = frequency[w] as number;
    const end = (start[w] as number) + (length[w] as number);
    for (let i = start[w] as number; i + 1 < end; i++) {
      const key = pairKey(symbols[i] as number, symbols[i + 1] as number);
      pairCounts.set(key, (pairCounts.get(key) ?? 0) + f);
      noteWord(key, w);
    }
  }

  const heap = new PairHeap((a, b) => {
    const la = tokens[leftOf(a)] as string;
    const lb = tokens[leftOf(b)] as string;
    if (la !== lb) return la < lb;
    return (tokens[rightOf(a)] as string) < (tokens[rightOf(b)] as string);
  });
  for (const [key, count] of pairCounts) heap.push(count, key);

  // The heap is lazy: a count that grows gets a new entry, one that shrinks
  // keeps its old, too high entry. So every live pair has an entry at least
  // its true count, and an entry that matches its pair's count is the maximum.
  const popBest = (): { key: number; count: number } | undefined => {
    while (heap.size > 0) {
      const entry = heap.pop();
      const actual = pairCounts.get(entry.key) ?? 0;
      if (actual === entry.count) return entry;
      if (actual > 0 && actual < entry.count) heap.push(actual, entry.key);
      // actual > entry.count: a newer entry with the right count is in the heap.
    }
    return undefined;
  };

  const merges: string[] = [];
  const seenInMerge = new Int32Array(frequency.length).fill(-1);
  const delta = new Map<number, number>();
  while (ids.size < vocabSize) {
    const best = popBest();
    if (best === undefined || best.count < minFrequency) break;
    const a = leftOf(best.key);
    const b = rightOf(best.key);
    const left = tokens[a] as string;
    const right = tokens[b] as string;
    let z = ids.get(left + right);
    if (z === undefined) {
      z = tokens.length;
      tokens.push(left + right);
      ids.set(left + right, z);
    }
    const m = merges.length;
    merges.push(`${left} ${right}`);

    // Rewrites each word that contains (a, b) in place, left to right (as
    // encoding does), and records how the counts of the neighbouring pairs
    // change: x a b y becomes x z y, so (x,a) and (b,y) lose, (x,z) and (z,y) gain.
    delta.clear();
    const add = (key: number, amount: number): void => {
      delta.set(key, (delta.get(key) ?? 0) + amount);
    };
    for (const w of pairWords.get(best.key) ?? []) {
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
            add(pairKey(x, a), -f);
            add(pairKey(x, z), f);
            noteWord(pairKey(x, z), w);
          }
          if (read + 2 < end) {
            const y = symbols[read + 2] as number;
            add(pairKey(b, y), -f);
            add(pairKey(z, y), f);
            noteWord(pairKey(z, y), w);
          }
          symbols[write++] = z;
          read += 2;
        } else {
          symbols[write++] = symbols[read++] as number;
        }
      }
      length[w] = write - first;
    }
    pairCounts.delete(best.key);
    pairWords.delete(best.key);
    for (const [key, amount] of delta) {
      if (key === best.key || amount === 0) continue;
      const count = (pairCounts.get(key) ?? 0) + amount;
      if (count <= 0) {
        // Gone from every word: drop it (and its word list) to keep memory to live pairs.
        pairCounts.delete(key);
        pairWords.delete(key);
      } else {
        pairCounts.set(key, count);
        if (amount > 0) heap.push(count, key);
      }
    }
  }

  let bytes = 0;
  let finalTokens = 0;
  for (let w = 0; w < frequency.length; w++) {
    bytes += (frequency[w] as number) * ((start[w + 1] as number) - (start[w] as number));
    finalTokens += (frequency[w] as number) * (length[w] as number);
  }
  return {
    // fromEntries makes own properties even of names like "constructor".
    vocab: Object.fromEntries(tokens.map((t, i) => [t, i])),
    merges,
    stats: { bytes, tokens: finalTokens, distinctWords: frequency.length },
  };
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
