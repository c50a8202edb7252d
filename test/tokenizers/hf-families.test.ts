// Tokenizers as today's model families ship tokenizer.json, each made by
// Hugging Face's own `tokenizers` package in the reference venv
// (test/reference/hf_tokenizers.py) and saved by transformers: ids with and
// without special tokens and decodings equal transformers' on text inside
// and outside the trained alphabet (accents, CJK, emoji: byte fallback or
// byte-level bytes), and the special tokens come from tokenizer_config.json.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { loadTokenizer } from '../../src/tokenizers/index.js';
import { referenceTokenizer } from '../helpers/hf-tokenizers.js';

const PROBES = [
  "Hello world, it's 2024!",
  'naïve café — 日本語 🙂 Ünïcödé ÆØÅ',
  '  two  spaces\n\nnew line\ttab  ',
  'UPPER lower MiXeD 12345678 3.14159',
  "don't WON'T they'll I'M",
  readFileSync(new URL('../../../src/models/rope.ts', import.meta.url), 'utf8').slice(0, 3000),
];

const FAMILIES: { kind: string; vocab: number; what: string; roundTrip: boolean }[] = [
  { kind: 'llama3', vocab: 400, what: "byte-level BPE with Llama-3's split regex, BOS added", roundTrip: true },
  { kind: 'qwen2', vocab: 400, what: "byte-level BPE with Qwen2's split regex and NFC, no BOS", roundTrip: false },
  { kind: 'sentencepiece', vocab: 600, what: 'SentencePiece-style BPE with ▁ and byte fallback (Llama-2, Mistral, Phi-3)', roundTrip: true },
  { kind: 'wordpiece', vocab: 300, what: 'WordPiece (BERT), lower-cased, [CLS] … [SEP]', roundTrip: false },
];

for (const family of FAMILIES) {
  test(`tokenizer.json ${family.what}: ids and decodings equal transformers'`, () => {
    const { dir, reference } = referenceTokenizer(family.kind, family.vocab, PROBES);
    const tokenizer = loadTokenizer(dir);
    assert.equal(tokenizer.bosTokenId, reference.bos ?? undefined, 'BOS id');
    assert.equal(tokenizer.eosTokenId, reference.eos ?? undefined, 'EOS id');
    assert.equal(tokenizer.vocabSize, reference.vocab, 'vocabulary size');
    assert.equal(tokenizer.scoringPrefixTokenId, reference.bos ?? reference.eos ?? undefined, "HFLM's prefix_token_id: BOS, else EOS");
    PROBES.forEach((text, i) => {
      const ref = reference.probes[i]!;
      const label = `${family.kind} probe ${i} ${JSON.stringify(text.slice(0, 30))}`;
      assert.deepEqual(tokenizer.encode(text), ref.plain, `${label}: ids without special tokens`);
      assert.deepEqual(tokenizer.encode(text, { addSpecialTokens: true }), ref.special, `${label}: ids with special tokens`);
      assert.equal(tokenizer.decode(ref.plain), ref.decoded, `${label}: decoding`);
      // Byte-level and byte-fallback vocabularies lose nothing (Qwen2 normalizes to NFC first, BERT lower-cases).
      if (family.roundTrip) assert.equal(tokenizer.decode(tokenizer.encode(text)), text, `${label}: round trip`);
    });
  });
}

test('byte fallback is exercised: text outside the SentencePiece vocabulary becomes <0xNN> byte tokens', () => {
  const { dir } = referenceTokenizer('sentencepiece', 600, ['日本語 🙂']);
  const tokenizer = loadTokenizer(dir);
  const pieces = tokenizer.encode('日本語 🙂').map((id) => tokenizer.idToToken(id));
  assert.ok(pieces.filter((p) => /^<0x[0-9A-F]{2}>$/.test(p ?? '')).length >= 13, `byte tokens expected, got ${pieces.join(' ')}`);
});
