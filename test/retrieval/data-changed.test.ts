// A data file rewritten or truncated under a running shard server (issue 35,
// point 3): the server answers 503 naming the file, never hits with empty or
// wrong texts; a file replaced by a rename keeps being read as it was opened.
// The files are changed by Python, as another program would change them.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DocumentStore } from '../../src/data/document-store.js';
import { FaissIndex } from '../../src/index/index.js';
import { RetrievalClient } from '../../src/retrieval/client.js';
import { encodeVectors } from '../../src/retrieval/protocol.js';
import { startShardServer } from '../../src/retrieval/shard-server.js';
import { rawRequest } from '../helpers/http.js';
import { runPython } from '../helpers/python.js';

/** A shard server's JSON answer, with the fields these tests read. */
const parsed = (body: string): { error: string; results: { texts: string[] }[]; documents: { text: string }[] } => JSON.parse(body) as { error: string; results: { texts: string[] }[]; documents: { text: string }[] };

const dir = mkdtempSync(join(tmpdir(), 'tttnn-data-changed-'));
const token = 'c'.repeat(32);
const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };

async function serve(name: string) {
  const data = join(dir, name);
  writeFileSync(data, Array.from({ length: 20 }, (_, i) => JSON.stringify({ text: `document ${String(i).padStart(2, '0')}` })).join('\n') + '\n');
  const store = await DocumentStore.open(data);
  const index = FaissIndex.create(2, 'Flat');
  index.add(new Float32Array(Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? i / 2 : 0))));
  const server = await startShardServer({ index, store, begin: 0, replica: 0, token, embeddingModel: 'm', host: '127.0.0.1' });
  return { data, server, stop: async () => (await server.close(), index.dispose(), store.close()) };
}

const search = (address: string) => rawRequest(address, 'POST', '/v1/search', auth, JSON.stringify({ k: 3, vectors: encodeVectors(new Float32Array([5, 0])) }));
const documents = (address: string) => rawRequest(address, 'POST', '/v1/documents', auth, JSON.stringify({ ids: [4, 17] }));

test('a data file rewritten in place (same size) or truncated under a server: 503 naming the file and what changed, never 200 with empty texts', async () => {
  const same = await serve('rewritten.jsonl');
  const cut = await serve('truncated.jsonl');
  try {
    const before = await search(same.server.address);
    assert.equal(before.status, 200);
    assert.deepEqual(parsed(before.body).results[0]?.texts, ['document 05', 'document 04', 'document 06']);
    // Same size, other bytes: every line's text changes, the offsets still fit.
    runPython(`import json, sys\npath = json.load(sys.stdin)\nwith open(path, 'r+b') as f:\n    data = f.read().replace(b'document', b'DOCUMENT')\n    f.seek(0)\n    f.write(data)\nprint('null')`, same.data);
    for (const answer of [await search(same.server.address), await documents(same.server.address)]) {
      assert.equal(answer.status, 503, answer.body);
      assert.match(parsed(answer.body).error, new RegExp(`${same.data.replace(/[.]/g, '\\.')}: the data file changed on disk since it was opened \\(modification time, contents of its head\\).*rebuild the index`));
    }
    runPython(`import json, os, sys\nos.truncate(json.load(sys.stdin), 0)\nprint('null')`, cut.data);
    for (const answer of [await search(cut.server.address), await documents(cut.server.address)]) {
      assert.equal(answer.status, 503, answer.body);
      assert.match(parsed(answer.body).error, /truncated\.jsonl: the data file changed on disk since it was opened \(size 460 -> 0/);
    }
    // The client counts the 503 as that replica's failure and names the reason.
    const client = await RetrievalClient.connect({ addresses: [cut.server.address], token });
    await assert.rejects(client.search(new Float32Array([5, 0]), 3), /HTTP 503: .*truncated\.jsonl: the data file changed on disk/);
  } finally {
    await same.stop();
    await cut.stop();
  }
});

test('a data file replaced by a rename is not a change: the server keeps reading the file it opened, which its index describes', async () => {
  const moved = await serve('renamed.jsonl');
  try {
    runPython(`import json, os, sys\npath = json.load(sys.stdin)\nwith open(path + '.new', 'w') as f:\n    f.write('{"text": "another file"}\\n')\nos.replace(path + '.new', path)\nprint('null')`, moved.data);
    const answer = await documents(moved.server.address);
    assert.equal(answer.status, 200, answer.body);
    assert.deepEqual(parsed(answer.body).documents.map((d: { text: string }) => d.text), ['document 04', 'document 17']);
  } finally {
    await moved.stop();
  }
});
