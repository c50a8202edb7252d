// Whole texts tokenized in pieces (issue 35, point 6: "for scoring stream
// windows"): the concatenated ids of BpeTokenizer.encodePieces equal the
// ids the peers give the whole text in one call — tiktoken's r50k_base for
// GPT-2, transformers for the Llama-3, Qwen2 and BERT layouts — on texts of
// many pieces full of the places where a cut could go wrong (punctuation
// before a newline, whitespace runs, digits, contractions, accents with
// combining marks, CJK, emoji, a literal special token). SentencePiece-style
// tokenizers claim no cut and come in one piece.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { getEncoding } from 'js-tiktoken';
import { seededRandom } from '../../src/data/seeded-random.js';
import { cutsAreExact, exactPieces } from '../../src/tokenizers/exact-cuts.js';
import { gpt2Tokenizer, loadTokenizer, type BpeTokenizer } from '../../src/tokenizers/index.js';
import { referenceTokenizer } from '../helpers/hf-tokenizers.js';

const PARTS = ['the', ' quick', '  ', '\n', '.\n', '!\r\n', ' \n ', '\t', ' 12345', '7', "'s", " don't", " I'LL", ' héllo', ' e\u0301te\u0301', ' 中文', '😀', ' ', '   x', ' ΑΣ', '<|endoftext|>', ' word', ' —', ',', '...', ' ' + 'z'.repeat(40)];

/** Seeded texts of `length` characters or a little more, made of PARTS. */
function texts(seed: number, count: number, length: number): string[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, () => {
    let text = '';
    while (text.length < length) text += PARTS[Math.floor(random() * PARTS.length)];
    return text;
  });
}

function concatenated(tokenizer: BpeTokenizer, text: string, pieceChars?: number): { ids: number[]; pieces: number } {
  const ids: number[] = [];
  let pieces = 0;
  for (const piece of tokenizer.encodePieces(text, pieceChars)) {
    pieces++;
    for (const id of piece) ids.push(id);
  }
  return { ids, pieces };
}

test('exactPieces cuts only before a space that follows non-whitespace, and its parts rejoin into the text', () => {
  for (const text of [...texts(1, 5, 3000), '', 'x', 'z'.repeat(5000), ' a b', '\n\n  ']) {
    const parts = [...exactPieces(text, 100)];
    assert.equal(parts.join(''), text);
    parts.slice(1).forEach((part, i) => {
      assert.equal(part[0], ' ', 'each later part starts at a space');
      assert.doesNotMatch(parts[i]!.slice(-1), /\s/, 'after a non-whitespace character');
    });
  }
  assert.equal([...exactPieces('z'.repeat(5000), 100)].length, 1, 'a stretch without a cut stays whole');
});

test('GPT-2: the pieces\' ids are tiktoken r50k_base\'s ids of the whole text', () => {
  const tiktoken = getEncoding('r50k_base');
  const gpt2 = gpt2Tokenizer();
  assert.equal(cutsAreExact(gpt2.tokenizerJson), true);
  for (const text of texts(2, 4, 60_000)) {
    const { ids, pieces } = concatenated(gpt2, text);
    assert.ok(pieces >= 3, `several pieces, got ${pieces}`);
    assert.deepEqual(ids, tiktoken.encode(text, 'all'));
    assert.deepEqual(gpt2.encode(text), ids, 'encode() is the same pieces');
    assert.deepEqual(concatenated(gpt2, text.slice(0, 20_000), 5).ids, tiktoken.encode(text.slice(0, 20_000), 'all'), 'cut at every chance');
  }
});

for (const [kind, vocab, cuts] of [['llama3', 2000, true], ['qwen2', 2000, true], ['wordpiece', 1000, true], ['sentencepiece', 1000, false]] as const) {
  test(`${kind}: the pieces' ids are transformers' ids of the whole text${cuts ? '' : ' (one piece: no cut is claimed exact)'}`, () => {
    const long = texts(3, 3, 40_000);
    const { dir, reference } = referenceTokenizer(kind, vocab, long);
    const tokenizer = loadTokenizer(dir);
    assert.equal(cutsAreExact(tokenizer.tokenizerJson), cuts);
    long.forEach((text, i) => {
      const { ids, pieces } = concatenated(tokenizer, text);
      assert.ok(cuts ? pieces >= 2 : pieces === 1, `${pieces} pieces`);
      assert.deepEqual(ids, reference.probes[i]!.plain, `${kind} text ${i}`);
      assert.deepEqual(concatenated(tokenizer, text, 5).ids, reference.probes[i]!.plain, `${kind} text ${i}, cut at every chance`);
    });
  });
}
