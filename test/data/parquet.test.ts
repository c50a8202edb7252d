// Parquet corpora written by pyarrow (the reference venv): several row
// groups and codecs, meta as a struct, a JSON string or a pile_set_name
// column; a null text and text that is not UTF-8 are bad rows, treated as
// bad JSONL lines are (an error naming the row, or skipped with the ids of
// the others unchanged); random access by id through the row-group cache.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readDocuments } from '../../src/data/jsonl.js';
import { readDocumentRows } from '../../src/data/document-rows.js';
import { ParquetDocumentStore } from '../../src/data/parquet-store.js';
import { openDocumentStore } from '../../src/data/open-store.js';
import { DocumentStore } from '../../src/data/document-store.js';
import { corpusStats } from '../../src/data/corpus/stats.js';
import { runPythonWith } from '../helpers/python.js';
import { refVenvPython } from '../helpers/ref-venv.js';

const WRITER = readFileSync(new URL('../../../test/reference/write_parquet.py', import.meta.url), 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'tttnn-parquet-'));
const TASKS = ['Github', 'Pile-CC', 'FreeLaw'];
/** 25 rows; row 9's text is null. */
const rows = Array.from({ length: 25 }, (_, i) => ({ text: i === 9 ? null : `Document ${i}: ${'wörds 🤖 '.repeat(i % 4)}about ${TASKS[i % 3]}.\nSecond line ${i * 11}.`, task: TASKS[i % 3]! }));

interface Written {
  row_groups: number[];
  rows: number;
}
function writeParquet(path: string, spec: Record<string, unknown>): Written {
  return runPythonWith<Written>(refVenvPython(), WRITER, { path, rows, row_group_size: 7, meta: 'struct', compression: 'zstd', ...spec });
}

test('pyarrow files of several row groups and codecs read as documents with ids = row positions; a null text fails naming the row, or is skipped as a bad JSONL line', async () => {
  for (const [meta, compression] of [['struct', 'zstd'], ['json', 'snappy'], ['pile_set_name', 'gzip'], ['struct', 'none']] as const) {
    const path = join(dir, `docs-${meta}-${compression}.parquet`);
    const written = writeParquet(path, { meta, compression });
    assert.deepEqual(written.row_groups, [7, 7, 7, 4], 'four row groups');
    await assert.rejects(async () => {
      for await (const _ of readDocuments(path)) void _;
    }, new RegExp(`${path}: row 9: "text" is null \\(use --on-bad-line skip to skip such rows\\)`));
    const warnings: string[] = [];
    const read = [];
    for await (const r of readDocuments(path, { onBadLine: 'skip', warn: (m) => warnings.push(m) })) read.push(r);
    assert.deepEqual(read.map((r) => r.id), rows.map((_, i) => i).filter((i) => i !== 9), `${meta}/${compression}: ids are row positions, the null row skipped`);
    for (const r of read) {
      assert.equal(r.document.text, rows[r.id]!.text);
      assert.equal(r.document.meta?.pile_set_name, rows[r.id]!.task);
    }
    assert.deepEqual(warnings, [`${path}: row 9: "text" is null; row skipped`]);
    // Resuming from a row (a trainer's saved position) starts there, mid row group.
    const resumed = [];
    for await (const r of readDocuments(path, { from: { offset: 16, index: 16 }, onBadLine: 'skip' })) resumed.push(r.id);
    assert.deepEqual(resumed, [16, 17, 18, 19, 20, 21, 22, 23, 24]);
  }

  // The same documents as JSONL, with a bad line where the null text is: the same ids either way.
  const jsonl = join(dir, 'docs.jsonl');
  writeFileSync(jsonl, rows.map((r) => (r.text === null ? '{"text": null}' : JSON.stringify({ text: r.text, meta: { pile_set_name: r.task } }))).join('\n') + '\n');
  const fromJsonl = [];
  for await (const r of readDocuments(jsonl, { onBadLine: 'skip', warn: () => undefined })) fromJsonl.push([r.id, r.document.text]);
  const fromParquet = [];
  for await (const r of readDocuments(join(dir, 'docs-struct-zstd.parquet'), { onBadLine: 'skip', warn: () => undefined })) fromParquet.push([r.id, r.document.text]);
  assert.deepEqual(fromParquet, fromJsonl);
  // What index build iterates: every id, the bad row as its reason.
  const all = [];
  for await (const r of readDocumentRows(join(dir, 'docs-struct-zstd.parquet'), 5, 1 << 20)) all.push(r);
  assert.deepEqual(all.map((r) => r.index), Array.from({ length: 20 }, (_, i) => i + 5));
  assert.equal(all.find((r) => r.index === 9)!.document, '"text" is null');
  assert.equal(all.find((r) => r.index === 9)!.label, `${join(dir, 'docs-struct-zstd.parquet')}: row 9`);
});

test('text that is not UTF-8 is a bad row (never decoded with replacement characters); a file that is not Parquet, or has no text column, is an error naming it', async () => {
  const binary = join(dir, 'latin1.parquet');
  runPythonWith(refVenvPython(), WRITER, { path: binary, rows: [{ text: 'caf\u00e9', task: 'Github' }, { text: 'ok', task: 'Github' }], row_group_size: 10, meta: 'struct', compression: 'zstd', text_encoding: 'latin-1' });
  await assert.rejects(async () => {
    for await (const _ of readDocuments(binary)) void _;
  }, /latin1\.parquet: row 0: invalid UTF-8 in "text" \(byte 0xe9 at byte 3\)/);
  const notParquet = join(dir, 'fake.parquet');
  writeFileSync(notParquet, 'this is not parquet at all, just text');
  await assert.rejects(openDocumentStore(notParquet), /fake\.parquet: not a readable Parquet file/);
  const noText = join(dir, 'notext.parquet');
  runPythonWith(refVenvPython(), WRITER, { path: noText, rows: [{ text: 'x', task: 'Github' }], row_group_size: 10, meta: 'struct', compression: 'zstd', text_column: 'body' });
  await assert.rejects(openDocumentStore(noText), /notext\.parquet: no "text" column \(columns: body, meta\)/);
});

test('the Parquet store: texts by id across row groups, a bad row served as empty, each row group read once while cached, out-of-range ids and a rewritten file refused', async () => {
  const path = join(dir, 'docs-struct-zstd.parquet');
  const store = await openDocumentStore(path);
  assert.ok(store instanceof ParquetDocumentStore);
  const jsonlStore = await DocumentStore.open(join(dir, 'docs.jsonl'));
  try {
    assert.equal(store.size, 25);
    const ids = [24, 0, 9, 8, 13, 0];
    assert.deepEqual(await store.indexedTexts(ids), await jsonlStore.indexedTexts(ids), 'the same texts as the JSONL store, the bad row as ""');
    assert.equal((await store.indexedTexts([9]))[0], '');
    assert.equal(store.groupReads, 3, 'row groups 0, 1, 3 read once each');
    await store.indexedTexts([1, 2, 15]); // groups 0 (cached) and 2 (new)
    assert.equal(store.groupReads, 4);
    assert.equal((await store.document(22)).meta?.pile_set_name, rows[22]!.task);
    await assert.rejects(store.document(9), /row 9: "text" is null/);
    await assert.rejects(store.indexedTexts([25]), /document id 25 out of range \(the file has 25 rows\)/);
    store.checkUnchanged();
  } finally {
    store.close();
    jsonlStore.close();
  }
  // A small cache: more row groups than it holds are still served, then trimmed.
  const small = await ParquetDocumentStore.open(path, 1);
  assert.deepEqual(await small.indexedTexts([0, 7, 14, 21]), [0, 7, 14, 21].map((i) => rows[i]!.text));
  await small.indexedTexts([21]);
  assert.equal(small.groupReads, 4, 'the last group used is kept');
  await small.indexedTexts([0]);
  assert.equal(small.groupReads, 5, 'the others were dropped');
  // Rewritten in place under the store: refused, naming what changed.
  writeParquet(path, { compression: 'snappy' });
  assert.throws(() => small.checkUnchanged(), /docs-struct-zstd\.parquet: the data file changed on disk since it was opened/);
  small.close();
});

test('corpus stats counts the documents of Parquet splits', async () => {
  const corpus = join(dir, 'corpus');
  mkdirSync(join(corpus, 'test'), { recursive: true });
  writeParquet(join(corpus, 'test', '00.parquet'), {});
  const stats = await corpusStats(corpus, 'skip');
  for (const task of TASKS) {
    const texts = rows.filter((r) => r.text !== null && r.task === task).map((r) => r.text!);
    assert.deepEqual(stats[task]!['test'], { documents: texts.length, bytes: texts.reduce((n, t) => n + Buffer.byteLength(t), 0) }, task);
  }
});
