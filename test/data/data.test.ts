// JSONL streaming (plain and zstd), bad-line policies, the document store
// and its sidecar, and task names.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, chmodSync, mkdtempSync, writeFileSync, existsSync, statSync, utimesSync } from 'node:fs';
import { fileFingerprint, fingerprintChanges } from '../../src/data/file-fingerprint.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DocumentStore, offsetsPath } from '../../src/data/document-store.js';
import { readDocuments, type DocumentRecord } from '../../src/data/jsonl.js';
import { readLines } from '../../src/data/lines.js';
import { taskName, taskWeights, PILE_WEIGHTS } from '../../src/data/tasks.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'tttnn-data-'));
const doc = (text: string, set = 'Github'): string => JSON.stringify({ text, meta: { pile_set_name: set } });

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

test('JSONL and .jsonl.zst stream the same documents with the same ids and offsets', async () => {
  const dir = tmp();
  const path = join(dir, 'a.jsonl');
  // Multi-byte text, and enough lines that the zstd stream spans many chunks.
  const lines = Array.from({ length: 3000 }, (_, i) => doc(`doc ${i} — 東京 ${'x'.repeat(i % 700)}`, i % 2 ? 'Github' : 'ArXiv'));
  writeFileSync(path, `${lines.join('\n')}\n`);
  execFileSync('zstd', ['-q', '-f', path, '-o', `${path}.zst`]);
  const plain = await collect(readDocuments(path));
  const compressed = await collect(readDocuments(`${path}.zst`));
  assert.equal(plain.length, 3000);
  assert.deepEqual(compressed, plain);
  assert.equal(plain[2999]!.document.text.startsWith('doc 2999 — 東京'), true);
  assert.equal(plain[1]!.offset, Buffer.byteLength(lines[0]!) + 1);
});

test('a bad line is reported with file and line number; skipped or fatal by policy', async () => {
  const path = join(tmp(), 'bad.jsonl');
  writeFileSync(path, [doc('one'), '{"text": 5}', 'not json', doc('four'), '[1]'].join('\n'));
  await assert.rejects(collect(readDocuments(path)), /bad\.jsonl:2: no "text" string \(use --on-bad-line skip/);
  const warnings: string[] = [];
  const docs = await collect(readDocuments(path, { onBadLine: 'skip', warn: (m) => warnings.push(m) }));
  assert.deepEqual(docs.map((d: DocumentRecord) => [d.id, d.document.text]), [[0, 'one'], [3, 'four']]);
  assert.equal(warnings.length, 3);
  assert.match(warnings[1]!, /bad\.jsonl:3: malformed JSON/);
  assert.match(warnings[2]!, /bad\.jsonl:5: not a JSON object/);
});

test('a corrupt or truncated zstd file is an error naming the file', async () => {
  const dir = tmp();
  const path = join(dir, 'c.jsonl');
  // Random text, so the compressed file is far longer than the 2,000 bytes kept.
  writeFileSync(path, Array.from({ length: 500 }, (_, i) => doc(`text ${i} ${randomBytes(150).toString('hex')}`)).join('\n'));
  execFileSync('zstd', ['-q', '-f', path, '-o', `${path}.zst`]);
  const bytes = execFileSync('head', ['-c', '2000', `${path}.zst`]);
  writeFileSync(join(dir, 'cut.jsonl.zst'), bytes);
  await assert.rejects(collect(readLines(join(dir, 'cut.jsonl.zst'))), /cut\.jsonl\.zst: (truncated|corrupt) zstd stream/);
});

test('the document store reads any document by id through its offset sidecar, and rebuilds a stale one', async () => {
  const dir = tmp();
  const path = join(dir, 'store.jsonl');
  const texts = Array.from({ length: 1000 }, (_, i) => `document ${i}: ${'ü'.repeat(i % 37)}\nsecond line`);
  writeFileSync(path, texts.map((t) => doc(t)).join('\r\n') + '\r\n'); // CRLF line ends too
  const store = await DocumentStore.open(path);
  assert.equal(store.size, 1000);
  assert.ok(existsSync(offsetsPath(path)));
  assert.equal(statSync(offsetsPath(path)).size, 64 + 8 * 1001);
  for (const id of [0, 1, 499, 998, 999]) assert.equal(store.text(id), texts[id]);
  assert.equal(store.document(7).meta?.pile_set_name, 'Github');
  assert.throws(() => store.text(1000), /document id 1000 out of range \(the file has 1000 lines\)/);
  assert.throws(() => store.text(-1), /out of range/);
  store.close();
  // Appending makes the sidecar stale: it is rebuilt on open.
  appendFileSync(path, `${doc('appended')}\n`);
  const reopened = await DocumentStore.open(path);
  assert.equal(reopened.size, 1001);
  assert.equal(reopened.text(1000), 'appended');
  reopened.close();
  // Rewritten in place to the same size, with the same modification time: the hash of the head catches it
  // (line boundaries moved, so stale offsets would cut documents in the wrong places).
  const same = join(dir, 'same-size.jsonl');
  writeFileSync(same, `${doc('ab')}\n${doc('cdef')}\n`);
  utimesSync(same, 1_700_000_000, 1_700_000_000); // whole seconds: restored exactly below
  const was = fileFingerprint(same);
  const first = await DocumentStore.open(same);
  assert.deepEqual([first.text(0), first.text(1)], ['ab', 'cdef']);
  first.close();
  writeFileSync(same, `${doc('abcd')}\n${doc('ef')}\n`);
  utimesSync(same, 1_700_000_000, 1_700_000_000);
  assert.equal(fingerprintChanges(was, fileFingerprint(same)), 'contents of its head');
  const rewritten = await DocumentStore.open(same);
  assert.deepEqual([rewritten.text(0), rewritten.text(1)], ['abcd', 'ef']);
  rewritten.close();
  await assert.rejects(DocumentStore.open(join(dir, 'missing.jsonl')), /missing\.jsonl: no such data file/);
});

test('the store does not hold the corpus in memory: 8 bytes per document', async () => {
  const path = join(tmp(), 'big.jsonl');
  const line = `${doc('z'.repeat(10_000))}\n`;
  writeFileSync(path, line.repeat(5000)); // 50 MB
  const before = process.memoryUsage();
  const store = await DocumentStore.open(path);
  assert.equal(store.text(4321).length, 10_000);
  const after = process.memoryUsage();
  const grown = after.heapUsed + after.arrayBuffers - before.heapUsed - before.arrayBuffers;
  assert.ok(grown < 10 * 2 ** 20, `heap and buffers grew by ${(grown / 2 ** 20).toFixed(1)} MiB for a 50 MB file`);
  store.close();
});

test('task names and weights', () => {
  assert.equal(taskName('Github'), 'pile_github');
  assert.equal(taskName('Gutenberg (PG-19)'), 'pile_gutenberg');
  assert.equal(taskName('DM Mathematics'), 'pile_dm-mathematics');
  assert.equal(taskName('My Own Set'), 'pile_my-own-set');
  assert.equal(Object.values(PILE_WEIGHTS).reduce((a, b) => a + b, 0).toFixed(2), '100.00');
  assert.deepEqual(taskWeights({ pile_github: 5, pile_arxiv: 1 }), { pile_github: 7.59, pile_arxiv: 8.96 });
  assert.deepEqual(taskWeights({ pile_github: 3, pile_custom: 1 }), { pile_github: 75, pile_custom: 25 });
});

test('a data file on a read-only volume (as Kubernetes mounts it) is served with its offsets kept in memory, with a warning', async (t) => {
  const dir = tmp();
  const path = join(dir, 'ro.jsonl');
  const content = Array.from({ length: 50 }, (_, i) => doc(`read-only document ${i}`)).join('\n') + '\n';
  let readOnly: () => void;
  let restore: () => void;
  if (process.getuid?.() === 0) {
    // root writes through file modes: make the directory a read-only mount instead.
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir]);
    if (mounted.status !== 0) return t.skip('mounting a tmpfs was not permitted here');
    readOnly = () => assert.equal(spawnSync('mount', ['-o', 'remount,ro', dir]).status, 0);
    restore = () => void spawnSync('umount', [dir]);
  } else {
    readOnly = () => chmodSync(dir, 0o555);
    restore = () => chmodSync(dir, 0o755);
  }
  try {
    writeFileSync(path, content);
    readOnly();
    const warnings: string[] = [];
    const listen = (w: Error): void => void warnings.push(w.message);
    process.on('warning', listen);
    const store = await DocumentStore.open(path);
    await new Promise((r) => setImmediate(r)); // warnings are emitted on the next tick
    process.off('warning', listen);
    assert.equal(store.size, 50);
    assert.equal(store.text(42), 'read-only document 42');
    store.close();
    assert.equal(existsSync(offsetsPath(path)), false);
    assert.ok(warnings.some((w) => /ro\.jsonl\.offsets: cannot write the offsets sidecar \((EROFS|EACCES)\); keeping the offsets in memory/.test(w)), warnings.join('\n'));
  } finally {
    restore();
  }
});
