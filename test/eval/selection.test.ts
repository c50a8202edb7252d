// Document selection against CPython itself: random.Random(seed).shuffle
// and the val-portion cut, for many sizes and seeds (eval_tttlm.py:374-384).
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { selectDocuments, shuffled, valPortionOf } from '../../src/eval/documents.js';
import { PythonRandom } from '../../src/eval/python-random.js';
import { runPython } from '../helpers/python.js';

const SIZES = [0, 1, 2, 3, 4, 5, 7, 8, 10, 13, 16, 31, 32, 33, 64, 100, 127, 255, 256, 1000, 1023, 4097];
const SEEDS = [1216, 0, 1, 42, 2 ** 31 - 1, 2 ** 32, 2 ** 40 + 7, -5];
const PORTIONS = [0.2, 0.1, 0.5, 0.33, 1, 0.05];

const PYTHON = String.raw`
import json, random, sys
d = json.load(sys.stdin)
out = {'shuffles': {}, 'portions': {}, 'bits': {}}
for seed in d['seeds']:
    for n in d['sizes']:
        rnd = random.Random(); rnd.seed(seed)
        docs = list(range(n)); rnd.shuffle(docs)
        out['shuffles']['%d/%d' % (seed, n)] = docs
for p in d['portions']:
    for n in d['sizes']:
        docs = list(range(n))
        if p < 1: docs = docs[:int(p * len(docs))]
        out['portions']['%r/%d' % (p, n)] = len(docs)
for seed in d['seeds']:
    rnd = random.Random(seed)
    out['bits'][str(seed)] = [rnd.getrandbits(k) for k in [1, 5, 31, 32, 33, 40, 53]] + [rnd.random() < 2]
print(json.dumps(out))
`;

interface PythonOut {
  shuffles: Record<string, number[]>;
  portions: Record<string, number>;
  bits: Record<string, number[]>;
}

test(`random.Random(seed).shuffle and the val-portion cut match CPython (${SIZES.length} sizes x ${SEEDS.length} seeds)`, () => {
  const py = runPython<PythonOut>(PYTHON, { sizes: SIZES, seeds: SEEDS, portions: PORTIONS });
  for (const seed of SEEDS) {
    for (const n of SIZES) {
      const items = Array.from({ length: n }, (_, i) => i);
      assert.deepEqual(shuffled(items, seed), py.shuffles[`${seed}/${n}`], `seed ${seed}, ${n} documents`);
    }
    const rnd = new PythonRandom(seed);
    assert.deepEqual([1, 5, 31, 32, 33, 40, 53].map((k) => rnd.getrandbits(k)), py.bits[String(seed)]!.slice(0, 7), `getrandbits, seed ${seed}`);
  }
  for (const p of PORTIONS) {
    for (const n of SIZES) {
      const key = `${Number.isInteger(p) ? p.toFixed(0) : String(p)}/${n}`;
      assert.equal(valPortionOf(Array.from({ length: n }, (_, i) => i), p).length, py.portions[key], `portion ${p} of ${n}`);
    }
  }
});

test('selectDocuments: per task in file order, shuffled, first int(portion * n) (0 when that is 0), every world-size-th from rank', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tttnn-select-'));
  const data = join(dir, 'test.jsonl');
  // 23 GitHub documents and 3 Enron ones, interleaved.
  const names = Array.from({ length: 26 }, (_, i) => (i % 9 === 4 ? 'Enron Emails' : 'Github'));
  writeFileSync(data, names.map((name, i) => JSON.stringify({ text: `document ${i}`, meta: { pile_set_name: name } })).join('\n') + '\n');
  const github = names.flatMap((n, i) => (n === 'Github' ? [i] : []));
  const py = runPython<{ order: number[] }>(String.raw`
import json, random, sys
docs = json.load(sys.stdin)
rnd = random.Random(); rnd.seed(1216); rnd.shuffle(docs)
print(json.dumps({'order': docs[:int(0.2 * len(docs))]}))`, github);
  const selected = await selectDocuments(data, { tasks: 'pile_all', valPortion: 0.2, seed: 1216, rank: 0, worldSize: 1 });
  assert.deepEqual(selected.get('pile_github')!.map((d) => d.id), py.order);
  assert.equal(selected.get('pile_enron')!.length, 0, 'int(0.2 * 3) = 0 documents, as the original');
  const ranks = await Promise.all([0, 1, 2].map((rank) => selectDocuments(data, { tasks: ['pile_github'], valPortion: 0.2, seed: 1216, rank, worldSize: 3 })));
  assert.deepEqual(ranks.map((m) => m.get('pile_github')!.map((d) => d.id)), [0, 1, 2].map((r) => py.order.filter((_, i) => i % 3 === r)));
});

test('random.Random(seed).sample matches CPython: the pool draw (small populations) and the set draw (large ones), drawn in sequence', () => {
  const cases = [[1234, 5, 0], [1234, 5, 5], [1234, 21, 3], [1234, 22, 3], [1234, 24, 4], [0, 100, 6], [7, 30, 6], [7, 200, 30], [42, 1000, 60]] as const;
  const py = runPython<number[][]>(String.raw`
import json, random, sys
out = []
for seed, n, k in json.load(sys.stdin):
    rnd = random.Random(seed)
    out.append(rnd.sample(range(n), k) + rnd.sample(range(n), k))
print(json.dumps(out))`, cases);
  cases.forEach(([seed, n, k], i) => {
    const rnd = new PythonRandom(seed);
    const population = Array.from({ length: n }, (_, j) => j);
    assert.deepEqual([...rnd.sample(population, k), ...rnd.sample(population, k)], py[i], `seed ${seed}, sample ${k} of ${n}, twice`);
  });
  assert.throws(() => new PythonRandom(1).sample([1, 2], 3), /larger than the population/);
});
