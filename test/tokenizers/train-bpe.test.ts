// Byte-level BPE training: merges and vocabulary against a naive Python
// transcription (recount every pair at every merge), the trained tokenizers
// through tokenizer.json and tokenizers.js (round trips, special tokens, the
// same segmentation as training), compression, vocabulary size and errors.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadTokenizer, saveTokenizer, trainByteLevelBpe, trainTokenizers } from '../../src/tokenizers/index.js';
import { runPython } from '../helpers/python.js';

// ASCII and Latin-1 letters only (plus punctuation such as — and “”): on
// these, Python's `re` classes below are exactly \p{L}, \p{N} and \s.
const ENGLISH = [
  'The quick brown fox jumps over the lazy dog. The dog was not amused, and the fox ran away into the forest.',
  "It's a truth universally acknowledged that we'll need more data; they've said so, and I'd agree. You're right, I'm sure.",
  'A model that trains on its nearest neighbours at test time adapts to the text it is about to predict.',
  'The training data is split into documents, and each document is split into tokens before the model sees it.',
  'Café crème, piñata, über naïve façade — Straße and “quoted” words.',
];
const CODE = [
  'function add(a, b) {\n\treturn a + b;\n}\n',
  'for (let i = 0; i < 10; i++) {\n    total += values[i] * 2;\n}\n',
  'def mean(xs):\n    return sum(xs) / len(xs)  # the average\n\n\n',
  'const snake_case_name = obj.__proto__ ?? {};\r\n  if (x !== y) throw new Error("bad");   ',
];
const NUMBERS = ['Order 1234 shipped on 2024-05-17 at 09:30, total $1,299.99 (qty 3).', 'pi = 3.14159, e = 2.71828, 0x1F, 1e-10, 42 42 42'];

/** The fixture texts repeated with small variations, so that pairs recur (and tie) often. */
function fixtureCorpus(copies: number): string[] {
  const texts: string[] = [];
  for (let c = 0; c < copies; c++) {
    for (const [i, text] of [...ENGLISH, ...CODE, ...NUMBERS].entries()) {
      texts.push((c + i) % 3 === 0 ? text : c % 2 === 0 ? `${text} (copy ${c})` : text.toLowerCase());
    }
  }
  return texts;
}

// The naive reference: GPT-2's pattern with Python's `re` (\p{L} as
// [^\W\d_], \p{N} as \d, [^\s\p{L}\p{N}] as [^\s\w] or _), GPT-2's
// bytes_to_unicode as published, and at every merge a full recount of all
// pairs, the best being the minimum of (-count, left, right).
const NAIVE_BPE = String.raw`
import json, re, sys
from collections import Counter

def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))

L = r"[^\W\d_]"
N = r"\d"
PATTERN = re.compile(r"'s|'t|'re|'ve|'m|'ll|'d| ?" + L + r"+| ?" + N + r"+| ?(?:[^\s\w]|_)+|\s+(?!\S)|\s+")
B2U = bytes_to_unicode()

def train(texts, vocab_size, specials, min_frequency):
    words = Counter()
    for text in texts:
        words.update(PATTERN.findall(text))
    words = [(tuple(B2U[b] for b in w.encode("utf-8")), f) for w, f in words.items()]
    vocab = {}
    for t in specials + [B2U[b] for b in range(256)]:
        vocab[t] = len(vocab)
    merges = []
    while len(vocab) < vocab_size:
        counts = Counter()
        for symbols, f in words:
            for pair in zip(symbols, symbols[1:]):
                counts[pair] += f
        if not counts:
            break
        (a, b), count = min(counts.items(), key=lambda kv: (-kv[1], kv[0][0], kv[0][1]))
        if count < min_frequency:
            break
        merges.append(a + " " + b)
        if a + b not in vocab:
            vocab[a + b] = len(vocab)
        merged = []
        for symbols, f in words:
            out = []
            i = 0
            while i < len(symbols):
                if i + 1 < len(symbols) and symbols[i] == a and symbols[i + 1] == b:
                    out.append(a + b)
                    i += 2
                else:
                    out.append(symbols[i])
                    i += 1
            merged.append((tuple(out), f))
        words = merged
    return {"vocab": vocab, "merges": merges}

jobs = json.load(sys.stdin)
print(json.dumps([train(j["texts"], j["vocabSize"], j["specialTokens"], j["minFrequency"]) for j in jobs]))
`;

interface Job {
  texts: string[];
  vocabSize: number;
  specialTokens: string[];
  minFrequency: number;
}

test('merges and vocabulary equal a naive Python transcription (300 merges; early stop at minFrequency)', () => {
  const jobs: Job[] = [
    { texts: fixtureCorpus(12), vocabSize: 1 + 256 + 300, specialTokens: ['<|endoftext|>'], minFrequency: 2 },
    // Far more tokens asked for than pairs occurring 7 times: training stops early.
    { texts: fixtureCorpus(7).slice(0, 60), vocabSize: 2 + 256 + 5000, specialTokens: ['<s>', '<pad>'], minFrequency: 7 },
  ];
  const expected = runPython<{ vocab: Record<string, number>; merges: string[] }[]>(NAIVE_BPE, jobs);
  for (const [j, job] of jobs.entries()) {
    const got = trainByteLevelBpe(job.texts, job);
    const want = expected[j]!;
    assert.ok(want.merges.length >= 100, `job ${j}: the fixture yields only ${want.merges.length} merges`);
    assert.deepEqual(got.merges, want.merges, `job ${j}`);
    assert.deepEqual(got.vocab, want.vocab, `job ${j}`);
  }
  assert.equal(expected[0]!.merges.length, 300);
  assert.ok(expected[1]!.merges.length < 5000);
});

const ROUND_TRIP = [
  'The quick brown fox jumps over the lazy dog.',
  '北京是中华人民共和国的首都。东京塔',
  'مرحبا بالعالم، هذه جملة عربية.',
  'emoji 🤖 👩‍👩‍👧 🇫🇷 and ❤️',
  'def f(x):\n\tif x:\n\t\treturn x ** 2  # tabs\r\n\n\n   trailing spaces   ',
  '0123456789 3.14159 1,299.99 ٣٤٥ ½',
  ' leading space and \u00a0nbsp',
  "I'll've don't WE'RE y'all's",
];

test('trained causal and encoder tokenizers round-trip through tokenizer.json, with their special tokens', () => {
  const { causal, encoder } = trainTokenizers(fixtureCorpus(12), 600, { causalMaxLength: 256 });
  const dir = mkdtempSync(join(tmpdir(), 'tttnn-train-bpe-'));
  saveTokenizer(causal, join(dir, 'causal'));
  saveTokenizer(encoder, join(dir, 'encoder'));
  const loadedCausal = loadTokenizer(join(dir, 'causal'));
  const loadedEncoder = loadTokenizer(join(dir, 'encoder'));

  for (const tokenizer of [causal, encoder, loadedCausal, loadedEncoder]) {
    for (const text of ROUND_TRIP) assert.equal(tokenizer.decode(tokenizer.encode(text)), text, JSON.stringify(text));
  }
  for (const text of ROUND_TRIP) {
    assert.deepEqual(loadedCausal.encode(text), causal.encode(text));
    assert.deepEqual(loadedEncoder.encode(text), encoder.encode(text));
  }

  assert.equal(loadedCausal.vocabSize, 600);
  assert.equal(loadedCausal.modelMaxLength, 256);
  assert.equal(loadedCausal.eosTokenId, 0);
  assert.equal(loadedCausal.tokenToId('<|endoftext|>'), 0);
  assert.deepEqual(loadedCausal.encode('a<|endoftext|>b'), [...loadedCausal.encode('a'), 0, ...loadedCausal.encode('b')]);

  assert.equal(loadedEncoder.vocabSize, 604);
  assert.equal(loadedEncoder.modelMaxLength, 512);
  assert.deepEqual(['<s>', '<pad>', '</s>', '<unk>'].map((t) => loadedEncoder.tokenToId(t)), [0, 1, 2, 3]);
  assert.equal(loadedEncoder.maskTokenId, 603);
  assert.equal(loadedEncoder.idToToken(603), '<mask>');
  assert.equal(loadedEncoder.padTokenId, 1);
  const wrapped = loadedEncoder.encode('The dog ran.', { addSpecialTokens: true });
  assert.equal(wrapped[0], 0);
  assert.equal(wrapped[wrapped.length - 1], 2);
  assert.deepEqual(wrapped.slice(1, -1), loadedEncoder.encode('The dog ran.'));
  assert.ok(loadedEncoder.encode('The <mask> ran.').includes(603));
  // Same merges, ids shifted by the three extra leading specials.
  assert.deepEqual(
    loadedEncoder.encode(ROUND_TRIP[0]!),
    loadedCausal.encode(ROUND_TRIP[0]!).map((id) => id + 3),
  );
});

test("tokenizers.js segments the training texts exactly as training's final merges did", () => {
  const texts = fixtureCorpus(12);
  const { causal, trained } = trainTokenizers(texts, 700);
  let tokens = 0;
  let bytes = 0;
  for (const text of texts) {
    tokens += causal.encode(text).length;
    bytes += Buffer.byteLength(text);
  }
  assert.equal(bytes, trained.stats.bytes);
  assert.equal(tokens, trained.stats.tokens);
  // Frequent words of the corpus are single tokens.
  assert.equal(causal.encode(' the').length, 1);
  assert.equal(causal.encode(' document').length, 1);
});

test('the trained tokenizer compresses held-out English to under half a token per byte', () => {
  const { causal } = trainTokenizers(fixtureCorpus(30), 1000);
  const heldOut =
    'The model sees the documents of the training data before it predicts the text. ' +
    'At test time, the dog and the fox are the nearest neighbours of the forest, and the data is split into tokens.';
  const bytes = Buffer.byteLength(heldOut);
  const tokens = causal.encode(heldOut).length;
  assert.ok(tokens < bytes / 2, `${tokens} tokens for ${bytes} bytes`);
  // Byte-level fallback: text unlike the corpus still encodes, at most one token per byte.
  const unlike = '中文 ☃ \u0000\u0001';
  assert.ok(causal.encode(unlike).length <= Buffer.byteLength(unlike));
});

test('vocabSize is respected exactly, training is deterministic, ids follow the documented layout', () => {
  const texts = fixtureCorpus(12);
  const options = { vocabSize: 3 + 256 + 123, specialTokens: ['<a>', '<b>', '<c>'] };
  const first = trainByteLevelBpe(texts, options);
  const second = trainByteLevelBpe(texts, options);
  assert.deepEqual(second, first);
  const ids = Object.values(first.vocab).sort((x, y) => x - y);
  assert.deepEqual(ids, [...Array(382).keys()]);
  assert.equal(first.merges.length, 123);
  assert.deepEqual(['<a>', '<b>', '<c>'].map((t) => first.vocab[t]), [0, 1, 2]);
  // Bytes in byte order after the specials: '!' is byte 0x21, space (0x20) is 'Ġ', newline 'Ċ'.
  assert.equal(first.vocab['!'], 3 + 0x21);
  assert.equal(first.vocab['Ġ'], 3 + 0x20);
  assert.equal(first.vocab['Ċ'], 3 + 0x0a);
  assert.equal(first.vocab['ÿ'], 3 + 0xff);
  // Merged tokens come after the bytes, in merge order.
  const [left, right] = first.merges[0]!.split(' ') as [string, string];
  assert.equal(first.vocab[left + right], 3 + 256);
  // Nothing to merge: the vocabulary is the specials and the bytes.
  assert.equal(Object.keys(trainByteLevelBpe(['a b c'], options).vocab).length, 259);
});

test('bad options are clear errors', () => {
  const texts = ['some text'];
  assert.throws(() => trainByteLevelBpe(texts, { vocabSize: 256, specialTokens: ['<|endoftext|>'] }), /vocabSize 256 is too small.*257/);
  assert.throws(() => trainByteLevelBpe(texts, { vocabSize: 300.5, specialTokens: [] }), /vocabSize must be an integer/);
  assert.throws(() => trainByteLevelBpe(texts, { vocabSize: 300, specialTokens: ['<s>', '<s>'] }), /'<s>' is listed twice/);
  assert.throws(() => trainByteLevelBpe(texts, { vocabSize: 300, specialTokens: ['a'] }), /byte-level symbol/);
  assert.throws(() => trainByteLevelBpe(texts, { vocabSize: 300, specialTokens: [], minFrequency: 0 }), /minFrequency/);
  assert.throws(() => trainTokenizers(texts, 100), /vocabSize 100 is too small/);
  assert.doesNotThrow(() => trainTokenizers(texts, 257));
});
