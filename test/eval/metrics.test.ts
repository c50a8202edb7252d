// Perplexity metrics on hand-computed values, and the rolling windows
// against lm-evaluation-harness's algorithm run in Python.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { countBytes, countWords, perplexityMetrics, sumCounts } from '../../src/eval/metrics.js';
import { rollingWindows, streamRollingWindows } from '../../src/eval/rolling-windows.js';
import { seededRandom } from '../../src/data/seeded-random.js';
import { runPython } from '../helpers/python.js';

test('word and byte counts follow Python re.split(r"\\s+") and UTF-8', () => {
  assert.equal(countWords('  a b '), 4); // ['', 'a', 'b', '']
  assert.equal(countWords('one two\nthree\t\tfour'), 4);
  assert.equal(countWords(''), 1);
  assert.equal(countWords('a\u00a0b\u3000c'), 3);
  assert.equal(countBytes('héllo'), 6);
  assert.equal(countBytes('東京'), 6);
  const python = runPython<number[]>(
    `import json, re, sys; print(json.dumps([len(re.split(r"\\s+", t)) for t in json.load(sys.stdin)]))`,
    ['  a b ', 'x\x1cy', 'tab\tnew\nline\r\n', '\u2028sep\u2029', 'no-space'],
  );
  assert.deepEqual(['  a b ', 'x\x1cy', 'tab\tnew\nline\r\n', '\u2028sep\u2029', 'no-space'].map(countWords), python);
});

test('bits per byte, byte and word perplexity from summed counts', () => {
  const m = perplexityMetrics({ loglikelihood: -10, bytes: 5, words: 2 });
  assert.ok(Math.abs(m.bits_per_byte - 2 / Math.LN2) < 1e-12);
  assert.ok(Math.abs(m.byte_perplexity - Math.exp(2)) < 1e-12);
  assert.ok(Math.abs(m.word_perplexity - Math.exp(5)) < 1e-9);
  // Aggregation weights documents by their length: (-10 - 30) / (5 + 35) bytes.
  const total = sumCounts([
    { loglikelihood: -10, bytes: 5, words: 2 },
    { loglikelihood: -30, bytes: 35, words: 8 },
  ]);
  assert.deepEqual(total, { loglikelihood: -40, bytes: 40, words: 10 });
  assert.ok(Math.abs(perplexityMetrics(total).bits_per_byte - 1 / Math.LN2) < 1e-12);
});

// lm-evaluation-harness utils.get_rolling_token_windows + make_disjoint_window (test/reference/lm_eval_windows.py).
const LM_EVAL_WINDOWS = `
import json, sys
from lm_eval_windows import get_rolling_token_windows, make_disjoint_window
out = []
for n, m in json.load(sys.stdin):
    out.append([list(map(list, make_disjoint_window(w))) for w in get_rolling_token_windows(list(range(100, 100 + n)), 7, m, 1)])
print(json.dumps(out))
`;

interface GoldenWindows {
  cases: { name: string; tokens: number; prefix_token: number; max_seq_len: number; gold: [number[], number[]][]; windows: [number[], number[]][] }[];
}

test("rolling windows equal lm-evaluation-harness's own gold windows (tests/test_utils.py, committed in test/eval/golden)", () => {
  // Read from the source tree: the compiled test runs from dist/test/eval/.
  const golden = JSON.parse(readFileSync(fileURLToPath(new URL('../../../test/eval/golden/rolling-windows.json', import.meta.url)), 'utf8')) as GoldenWindows;
  assert.equal(golden.cases.length, 4);
  for (const c of golden.cases) {
    const tokens = Array.from({ length: c.tokens }, (_, k) => k);
    const ours = rollingWindows(tokens, c.prefix_token, c.max_seq_len).map((w) => [w.context, w.continuation]);
    assert.deepEqual(ours, c.windows, c.name);
    // The committed disjoint forms are lm-eval's gold windows with the overlap cut off:
    // each gold input is our context followed by all but the last predicted token.
    c.gold.forEach(([input, predicted], i) => assert.deepEqual([...ours[i]![0], ...predicted.slice(0, -1)].slice(-input.length), input, `${c.name} window ${i}`));
  }
});

test('rolling windows equal lm-evaluation-harness at lengths 0, 1, max, max+1, 3*max and 3*max+2', () => {
  const max = 5;
  const cases: [number, number][] = [0, 1, max, max + 1, 3 * max, 3 * max + 2].map((n) => [n, max]);
  const expected = runPython<[number[], number[]][][]>(LM_EVAL_WINDOWS, cases);
  cases.forEach(([n], i) => {
    const tokens = Array.from({ length: n }, (_, k) => 100 + k);
    const ours = rollingWindows(tokens, 7, max).map((w) => [w.context, w.continuation]);
    assert.deepEqual(ours, expected[i], `length ${n}`);
    // Every token is predicted exactly once, in order.
    assert.deepEqual(ours.flatMap(([, c]) => c), tokens);
  });
  // Spot checks by hand: the second full window conditions on one token; the last partial one on more.
  const w = rollingWindows([1, 2, 3, 4, 5, 6, 7], 0, 3);
  assert.deepEqual(w.map((x) => [x.context, x.continuation]), [
    [[0], [1, 2, 3]],
    [[3], [4, 5, 6]],
    [[4, 5, 6], [7]], // input [4, 5, 6]: a full window of 3
  ]);
  assert.throws(() => rollingWindows([1], 0, 0), /maxLength must be a positive integer/);
});

test('rolling windows cut from a stream of token pieces equal those of the whole token array, whatever the pieces', () => {
  const random = seededRandom(35);
  for (let trial = 0; trial < 300; trial++) {
    const max = 1 + Math.floor(random() * 9);
    const tokens = Array.from({ length: Math.floor(random() * 60) }, (_, k) => 100 + k);
    const pieces: number[][] = [];
    for (let at = 0; at < tokens.length; ) {
      const size = Math.floor(random() * 2 * max); // empty pieces too
      pieces.push(tokens.slice(at, at + size));
      at += size;
    }
    assert.deepEqual([...streamRollingWindows(pieces, 7, max)], rollingWindows(tokens, 7, max), `${tokens.length} tokens, max ${max}, pieces ${pieces.map((p) => p.length).join(',')}`);
  }
  // Long enough that the stream drops tokens it no longer needs (it holds the last max + 1 and those not yet predicted).
  const long = Array.from({ length: 50_000 }, (_, k) => k);
  const pieces = Array.from({ length: 500 }, (_, i) => long.slice(i * 100, (i + 1) * 100));
  assert.deepEqual([...streamRollingWindows(pieces, 7, 64)], rollingWindows(long, 7, 64));
});
