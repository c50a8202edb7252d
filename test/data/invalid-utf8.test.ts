// Invalid UTF-8 in a document (issue 35, point 10). Buffer.toString would
// replace it with U+FFFD and the replaced byte count would enter bits per
// byte; instead the line is refused (or, under --on-bad-line skip, skipped
// with a warning) naming the file and line, as Python's strict decoder (the
// original's open()) refuses it. Files are written by hand, byte by byte.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DocumentStore } from '../../src/data/document-store.js';
import { readDocuments } from '../../src/data/jsonl.js';
import { invalidUtf8Offset } from '../../src/data/utf8.js';
import { runPython } from '../helpers/python.js';

const CLI = new URL('../../../bin/tttnn.js', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'tttnn-invalid-utf8-'));

test("the first invalid UTF-8 byte is where Python's strict decoder stops", () => {
  const samples = [
    [0x61, 0xe9, 0x62], // latin-1 é
    [0xc3, 0xa9, 0xff], // valid é, then 0xff
    [0xe2, 0x82], // a truncated euro sign
    [0x61, 0xed, 0xa0, 0x80], // an encoded surrogate
    [0xf0, 0x80, 0x80, 0x80], // an overlong 4-byte form
    [0xc0, 0xaf], // an overlong slash
    [0xf4, 0x90, 0x80, 0x80], // beyond U+10FFFF
    [0x7a, 0xf0, 0x9f, 0x98, 0x80, 0x80], // an emoji, then a stray continuation byte
    [0x68, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80], // all valid
  ];
  const python = runPython<number[]>(
    `import json, sys
out = []
for s in json.load(sys.stdin):
    try:
        bytes(s).decode('utf-8'); out.append(-1)
    except UnicodeDecodeError as e:
        out.append(e.start)
print(json.dumps(out))`,
    samples,
  );
  assert.deepEqual(samples.map((s) => invalidUtf8Offset(Uint8Array.from(s))), python);
  assert.ok(python.slice(0, -1).every((offset) => offset >= 0) && python.at(-1) === -1);
});

test('a JSONL line holding invalid UTF-8 is refused naming the file and line (skipped with a warning under skip), and never served with a replaced text', async () => {
  const path = join(dir, 'latin1.jsonl');
  const good = Buffer.from(JSON.stringify({ text: 'café', meta: { pile_set_name: 'ArXiv' } }) + '\n', 'utf8');
  const bad = Buffer.concat([Buffer.from('{"text": "caf', 'latin1'), Buffer.from([0xe9]), Buffer.from('", "meta": {"pile_set_name": "ArXiv"}}\n', 'latin1')]);
  writeFileSync(path, Buffer.concat([good, bad, good]));
  const read = async (onBadLine: 'fail' | 'skip', warnings: string[] = []): Promise<number[]> => {
    const ids: number[] = [];
    for await (const record of readDocuments(path, { onBadLine, warn: (m) => warnings.push(m) })) ids.push(record.id);
    return ids;
  };
  await assert.rejects(read('fail'), new RegExp(`^Error: ${path}:2: invalid UTF-8 \\(byte 0xe9 at byte 13 of the line\\).*re-encode the file as UTF-8 \\(use --on-bad-line skip`));
  const warnings: string[] = [];
  assert.deepEqual(await read('skip', warnings), [0, 2]);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, new RegExp(`${path}:2: invalid UTF-8 .* line skipped`));
  const store = await DocumentStore.open(path);
  try {
    assert.equal(store.text(0), 'café');
    assert.throws(() => store.text(1), new RegExp(`${path}:2: invalid UTF-8`));
    assert.equal(store.indexedText(1), ''); // as index build --on-bad-line skip embedded it
  } finally {
    store.close();
  }
});

test('tttnn score refuses a text file holding invalid UTF-8, naming the file and line, before loading any model', async () => {
  const text = join(dir, 'doc.txt');
  writeFileSync(text, Buffer.concat([Buffer.from('first line\nsecond '), Buffer.from([0xff, 0xfe]), Buffer.from(' line\n')]));
  const result = await new Promise<{ code: number; stderr: string }>((resolve) =>
    execFile(process.execPath, [CLI, 'score', '--model', join(dir, 'no-model'), '--text-file', text], { timeout: 60_000 }, (error, _stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stderr })),
  );
  assert.notEqual(result.code, 0);
  assert.match(result.stderr, new RegExp(`${text}:2: invalid UTF-8 \\(byte 0xff at byte 18 of the file\\); re-encode the file as UTF-8`));
});
