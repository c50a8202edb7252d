// Rows of float32 vectors read by offset from a file (index convert's and
// index recall's reader): pieces of a bounded size give exactly the bytes one
// read would, across float and row boundaries, since a training sample of the
// Pile's list counts (2.6M x 4 KiB) is larger than one Uint8Array (4 GiB) or
// one read (2 GiB) may be.
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readRows, readVectors, sampleVectors } from '../../src/index/vector-file.js';

const dir = mkdtempSync(join(tmpdir(), 'tttnn-vector-file-'));
const d = 5;
const rows = 50;
const header = 7; // an offset that is not a multiple of 4, as a FAISS header's is not of d x 4
const values = Float32Array.from({ length: rows * d }, (_, i) => Math.sin(i) * 100 + i);
const path = join(dir, 'vectors.bin');
writeFileSync(path, Buffer.concat([Buffer.alloc(header, 0xab), Buffer.from(values.buffer)]));
const file = { path, offset: header, d };

test('reads in pieces of any size equal the vectors written', () => {
  assert.deepEqual(readVectors(file, 0, rows), values);
  for (const maxReadBytes of [1, 3, 13, 4 * d, 4 * d + 1, 1 << 20]) {
    const into = new Float32Array(30 * d);
    const fd = openSync(path, 'r');
    try {
      readRows(fd, file, 12, into, maxReadBytes);
    } finally {
      closeSync(fd);
    }
    assert.deepEqual(into, values.subarray(12 * d, 42 * d), `pieces of ${maxReadBytes} bytes`);
  }
});

test('a sample is the seeded rows in increasing order, each row its own vector', () => {
  const { rows: picked, vectors } = sampleVectors(file, rows, 17, 3);
  assert.equal(picked.length, 17);
  assert.deepEqual(picked, [...picked].sort((a, b) => a - b));
  assert.equal(new Set(picked).size, 17);
  picked.forEach((row, i) => assert.deepEqual(vectors.subarray(i * d, (i + 1) * d), values.subarray(row * d, (row + 1) * d)));
  assert.deepEqual(sampleVectors(file, rows, 17, 3).rows, picked, 'the same seed picks the same rows');
  assert.notDeepEqual(sampleVectors(file, rows, 17, 4).rows, picked);
});

test('a file that ends early is an error naming it and the vector', () => {
  const cut = join(dir, 'cut.bin');
  writeFileSync(cut, Buffer.concat([Buffer.alloc(header), Buffer.from(values.buffer)]));
  truncateSync(cut, header + 4 * d * 20 + 6);
  assert.throws(() => readVectors({ path: cut, offset: header, d }, 0, rows), (e: Error) => e.message.startsWith(`${cut}: ended at byte ${header + 4 * d * 20 + 6}`) && e.message.includes('reading vector 20'));
});
