// Files that are not what a flag expects, and messages that must name what
// is there (issue 35, point 10): a FIFO, a device or a directory as data or
// token file is refused at once naming it (a FIFO used to hang), and an
// unknown --tasks lists the tasks the file holds.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DocumentStore } from '../../src/data/document-store.js';
import { fileFingerprint } from '../../src/data/file-fingerprint.js';
import { readLines } from '../../src/data/lines.js';
import { selectDocuments } from '../../src/eval/documents.js';
import { readToken } from '../../src/retrieval/auth.js';
import { runPython } from '../helpers/python.js';

const dir = mkdtempSync(join(tmpdir(), 'tttnn-unusual-files-'));

test('a FIFO, a device or a directory as the data or token file is refused at once, naming it and what it is', async () => {
  const fifo = join(dir, 'pipe');
  runPython(`import json, os, sys\nos.mkfifo(json.load(sys.stdin), 0o600)\nprint('null')`, fifo);
  const lines = async (path: string): Promise<void> => {
    for await (const line of readLines(path)) assert.fail(`read ${line.bytes.length} bytes`);
  };
  await assert.rejects(lines(fifo), new RegExp(`${fifo}: the data file is a FIFO \\(named pipe\\), not a regular file; give a file`));
  await assert.rejects(DocumentStore.open(fifo), /pipe: the data file is a FIFO/);
  assert.throws(() => fileFingerprint(fifo), /pipe: the data file is a FIFO/);
  assert.throws(() => readToken(fifo), /pipe: the token file is a FIFO/);
  await assert.rejects(lines('/dev/zero'), /\/dev\/zero: the data file is a device, not a regular file/);
  await assert.rejects(lines(dir), /: the data file is a directory, not a regular file/);
  assert.throws(() => readToken(dir), /: the token file is a directory/);
});

test('--tasks naming a task the file does not hold lists the tasks it does', async () => {
  const data = join(dir, 'tasks.jsonl');
  writeFileSync(data, ['ArXiv', 'Github', 'ArXiv'].map((name, i) => JSON.stringify({ text: `t${i}`, meta: { pile_set_name: name } })).join('\n') + '\n');
  await assert.rejects(selectDocuments(data, { tasks: ['pile_nonexistent'], valPortion: 1, seed: 1, rank: 0, worldSize: 1 }), new RegExp(`${data} has no documents of task\\(s\\) pile_nonexistent \\(tasks there: pile_arxiv, pile_github\\)`));
  const empty = join(dir, 'empty.jsonl');
  writeFileSync(empty, '');
  await assert.rejects(selectDocuments(empty, { tasks: ['pile_arxiv'], valPortion: 1, seed: 1, rank: 0, worldSize: 1 }), /\(tasks there: none: the file holds no documents\)/);
});
