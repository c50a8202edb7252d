// Long lines (issue 35, point 6): lines of megabytes read in one linear pass
// and split exactly as Python splits them; a line over the limit is an error
// naming the file, the line and the limit; truncation for an embedder
// tokenizes only a prefix, with the same ids as tokenizing the whole text.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { DocumentStore } from '../../src/data/document-store.js';
import { createModel, saveModel } from '../../src/models/index.js';
import { saveTokenizer } from '../../src/tokenizers/index.js';
import { readDocuments } from '../../src/data/jsonl.js';
import { DEFAULT_MAX_LINE_BYTES, readLines } from '../../src/data/lines.js';
import { seededRandom } from '../../src/data/seeded-random.js';
import { LONG_WORD_CHARS } from '../../src/tokenizers/exact-cuts.js';
import { gpt2Tokenizer, robertaTokenizerFromGpt2 } from '../../src/tokenizers/index.js';

const CLI = new URL('../../../bin/tttnn.js', import.meta.url).pathname;
import { runPython } from '../helpers/python.js';

const dir = mkdtempSync(join(tmpdir(), 'tttnn-long-lines-'));

test('lines of megabytes that span many read chunks come out as Python splits them (offsets, bytes, CRLF at a chunk edge, characters split across chunks)', async () => {
  const path = join(dir, 'long.jsonl');
  // Written by Python: a 3.5 MB line of 3-byte characters, a CRLF whose CR ends the first 1 MiB chunk, short lines, no final newline.
  const expected = runPython<{ offset: number; length: number; head: string; tail: string }[]>(
    `import json, sys
path = json.load(sys.stdin)
first = b'x' * (2**20 - 1) + b'\\r\\n'
long = json.dumps({"text": "\\u20ac" * 1200000}, ensure_ascii=False).encode()
data = first + b'{"text": "a"}\\n\\n' + long + b'\\n' + b'{"text": "end"}'
open(path, 'wb').write(data)
out, offset = [], 0
for raw in data.split(b'\\n'):
    line = raw[:-1] if raw.endswith(b'\\r') else raw
    out.append({"offset": offset, "length": len(line), "head": line[:8].hex(), "tail": line[-8:].hex()})
    offset += len(raw) + 1
print(json.dumps(out))`,
    path,
  );
  const lines = [];
  for await (const line of readLines(path)) lines.push({ offset: line.offset, length: line.bytes.length, head: line.bytes.subarray(0, 8).toString('hex'), tail: line.bytes.subarray(-8).toString('hex') });
  for (const line of lines) if (line.length === 0) line.tail = '';
  for (const line of expected) if (line.length === 0) line.tail = '';
  assert.deepEqual(lines, expected);
  const documents = [];
  for await (const record of readDocuments(path, { onBadLine: 'skip', warn: () => undefined })) documents.push(record.document.text.length);
  assert.deepEqual(documents, [1, 1_200_000, 3]);
});

test('a line longer than the limit is an error naming the file, the line, where it starts and the fix; so is a file with no newline at all', async () => {
  assert.equal(DEFAULT_MAX_LINE_BYTES, 256 * 2 ** 20);
  const path = join(dir, 'too-long.jsonl');
  runPython(`import json, sys\nopen(json.load(sys.stdin), 'w').write('{"text": "a"}\\n' + '{"text": "' + 'b' * 3000000 + '"}\\n{"text": "c"}\\n')\nprint('null')`, path);
  const read = async (max: number, file = path): Promise<number> => {
    let n = 0;
    for await (const record of readDocuments(file, { maxLineBytes: max })) n += record.document.text.length;
    return n;
  };
  await assert.rejects(read(2 ** 20), new RegExp(`${path}:2: the line starting at byte 14 is longer than the limit of 1048576 bytes; split the document, or raise the limit .*--max-line-bytes`));
  assert.equal(await read(4 * 2 ** 20), 3_000_002, 'under a higher limit it is read');
  const endless = join(dir, 'no-newline.bin');
  runPython(`import json, sys\nopen(json.load(sys.stdin), 'wb').write(bytes(5 * 2**20))\nprint('null')`, endless);
  await assert.rejects(async () => {
    for await (const line of readLines(endless, undefined, 2 ** 20)) assert.fail(`read a line of ${line.bytes.length} bytes`);
  }, /no-newline\.bin:1: the line starting at byte 0 is longer than the limit of 1048576 bytes/);
});

test('truncation to an embedder\'s window tokenizes a prefix: the same ids as the whole text, for GPT-2 and RoBERTa layouts and texts of every shape', () => {
  const random = seededRandom(35);
  const pieces = ['the', ' quick', '  ', '\n', '\n\n', '\t', ' \n ', '123', '4567', '!!', '?', "'s", "don't", ' héllo', '中文', '😀', '   x', 'a'.repeat(300), '<|endoftext|>', ' <s>', '\r\n'];
  const texts: string[] = [];
  for (let t = 0; t < 30; t++) {
    let text = '';
    const length = 50 + Math.floor(random() * 8000);
    while (text.length < length) text += pieces[Math.floor(random() * pieces.length)];
    texts.push(text);
  }
  texts.push(`${'z'.repeat(LONG_WORD_CHARS + 5000)} tail`); // one word longer than the search for a cut
  texts.push(' '.repeat(30_000) + 'word'); // whitespace only, then a word
  for (const tokenizer of [gpt2Tokenizer(), robertaTokenizerFromGpt2()]) {
    for (const text of texts) {
      const whole = tokenizer.encode(text);
      for (const maxLength of [3, 17, 130, 512, 4096]) {
        assert.deepEqual(tokenizer.encode(text, { maxLength }), whole.slice(0, maxLength), `${text.slice(0, 40)}… maxLength ${maxLength}`);
        assert.deepEqual(tokenizer.encode(text, { maxLength, addSpecialTokens: true }), tokenizer.withSpecialTokens(whole.slice(0, maxLength - tokenizer.specialTokenCount)));
      }
    }
  }
});

test('serve and eval take --max-line-bytes too: a longer line is an error naming the file and line, also where an offsets sidecar was built under a higher limit', async () => {
  const data = join(dir, 'served.jsonl');
  runPython(`import json, sys\nopen(json.load(sys.stdin), 'w').write('{"text": "a"}\\n' + '{"text": "' + 'b' * 3000000 + '"}\\n{"text": "c"}\\n')\nprint('null')`, data);
  const tooLong = new RegExp(`${data}:2: the line starting at byte 14 is longer than the limit of 1048576 bytes`);
  // The document store of a shard server: the scan, then a sidecar made under the default limit.
  await assert.rejects(DocumentStore.open(data, { maxLineBytes: 2 ** 20 }), tooLong);
  (await DocumentStore.open(data)).close();
  await assert.rejects(DocumentStore.open(data, { maxLineBytes: 2 ** 20 }), tooLong);
  (await DocumentStore.open(data, { maxLineBytes: 4 * 2 ** 20 })).close();

  // tttnn serve: a Flat index of the file's three lines, written by FAISS itself.
  const index = join(dir, 'served.index');
  runPython(`import json, sys, faiss, numpy as np\nindex = faiss.IndexFlatL2(4)\nindex.add(np.eye(3, 4, dtype='float32'))\nfaiss.write_index(index, json.load(sys.stdin))\nprint('null')`, index);
  const token = join(dir, 'token');
  writeFileSync(token, 'a-token-of-enough-length', { mode: 0o600 });
  const serve = spawnSync(process.execPath, [CLI, 'serve', '--data', data, '--index', index, '--addresses', join(dir, 'addresses'), '--token-file', token, '--max-line-bytes', String(2 ** 20)], { encoding: 'utf8', timeout: 120_000 });
  assert.notEqual(serve.status, 0);
  assert.match(serve.stderr, tooLong);

  // tttnn eval reading its documents (dynamic evaluation: no fleet needed).
  const modelDir = join(dir, 'model');
  const model = createModel({ model_type: 'gpt2', vocab_size: 50257, n_positions: 32, n_embd: 8, n_layer: 1, n_head: 2 });
  saveModel(model, modelDir);
  model.dispose();
  saveTokenizer(gpt2Tokenizer(), modelDir);
  const evaluate = (max: number): ReturnType<typeof spawnSync> =>
    spawnSync(process.execPath, [CLI, 'eval', '--method', 'dynamic', '--model', modelDir, '--data', data, '--results-dir', join(dir, `results-${max}`), '--max-line-bytes', String(max), '--docs-per-task', '0'], { encoding: 'utf8', timeout: 120_000 });
  const refused = evaluate(2 ** 20);
  assert.equal(refused.status, 1, String(refused.stderr));
  assert.match(String(refused.stderr), tooLong);
});
