// Result files: an append costs the same on a file of any length, repairs a
// line cut by a crash, and reaches the disk before the run goes on.
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readFileSync, readSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { numberOrInfinityArg } from '../../src/cli/parse.js';
import { appendResult, finishedDocuments, type DocumentResult } from '../../src/eval/results.js';

const dir = mkdtempSync(join(tmpdir(), 'tttnn-results-'));
const line = (id: number): DocumentResult => ({ task: 'pile_a', doc_id: id, method: 'ttt', bytes: 10, words: 2, tokens: 3, retrieval_seconds: 0, neighbor_ids: [], neighbor_distances: [], loglikelihoods: [-1] });

/** The last `n` bytes of a file. */
function tail(path: string, n: number): string {
  const { size } = statSync(path);
  const buffer = Buffer.alloc(Math.min(n, size));
  const fd = openSync(path, 'r');
  try {
    readSync(fd, buffer, 0, buffer.length, size - buffer.length);
  } finally {
    closeSync(fd);
  }
  return buffer.toString('utf8');
}

test('appendResult reads only the last byte: a 700 MB results file (sparse) takes an append like a small one', () => {
  const path = join(dir, 'big.jsonl');
  // Read whole into a string, this file would fail (V8 strings stop at 512 MB), as the
  // append did when it read the file to check how it ended.
  const fd = openSync(path, 'w');
  writeSync(fd, '\n', 700 * 2 ** 20 - 1);
  closeSync(fd);
  const text = `${JSON.stringify(line(7))}\n`;
  appendResult(path, line(7));
  assert.equal(statSync(path).size, 700 * 2 ** 20 + text.length);
  assert.equal(tail(path, text.length + 1), `\n${text}`);
});

test('a results file that ends inside a line (a crash mid-write) gets a newline before the next line, and the cut line is redone', () => {
  const path = join(dir, 'cut.jsonl');
  writeFileSync(path, `${JSON.stringify(line(1))}\n{"task": "pile_a", "doc_id": 2, "meth`);
  appendResult(path, line(3));
  const lines = readFileSync(path, 'utf8').split('\n');
  assert.equal(lines.length, 4); // 1, the cut line, 3, and the final empty string
  assert.deepEqual(JSON.parse(lines[2]!), line(3));
  assert.deepEqual([...finishedDocuments(path).ids].sort(), [1, 3]);
  // An empty or new file: no stray newline.
  const fresh = join(dir, 'sub', 'fresh.jsonl');
  appendResult(fresh, line(4));
  assert.equal(readFileSync(fresh, 'utf8'), `${JSON.stringify(line(4))}\n`);
});

test('--distance-threshold takes inf / Infinity to keep every neighbour, and refuses negatives', () => {
  const parse = numberOrInfinityArg('--distance-threshold');
  assert.equal(parse('inf'), Infinity);
  assert.equal(parse('Infinity'), Infinity);
  assert.equal(parse('4'), 4);
  assert.throws(() => parse('-1'), /--distance-threshold must be a non-negative number, got "-1"/);
  assert.throws(() => parse('many'), /got "many"/);
});
