// The client compares the embedder the servers' index was built with to the
// one it embeds queries with, and servers among themselves (issue 35, point
// 10): another embedder of the same dimension used to be accepted silently.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DocumentStore } from '../../src/data/document-store.js';
import { FaissIndex } from '../../src/index/index.js';
import { RetrievalClient } from '../../src/retrieval/client.js';
import { startShardServer } from '../../src/retrieval/shard-server.js';

const token = 'e'.repeat(32);

test('servers built with another embedder than the client\'s, or with different ones, are refused naming both; the same directory name elsewhere passes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tttnn-embedder-'));
  const data = join(dir, 'e.jsonl');
  writeFileSync(data, '{"text": "a"}\n{"text": "b"}\n');
  const stores = [await DocumentStore.open(data), await DocumentStore.open(data)];
  const indexes = [FaissIndex.create(4, 'Flat'), FaissIndex.create(4, 'Flat')];
  indexes.forEach((index) => index.add(new Float32Array(8)));
  const roberta = await startShardServer({ index: indexes[0]!, store: stores[0]!, begin: 0, replica: 0, token, embeddingModel: '/models/tiny-roberta', host: '127.0.0.1' });
  const bert = await startShardServer({ index: indexes[1]!, store: stores[1]!, begin: 0, replica: 1, token, embeddingModel: '/models/other-bert', host: '127.0.0.1' });
  try {
    const ok = await RetrievalClient.connect({ addresses: [roberta.address], token, embeddingModel: '/mnt/shared/models/tiny-roberta/' });
    assert.equal(ok.dimension, 4);
    await assert.rejects(
      RetrievalClient.connect({ addresses: [roberta.address], token, embeddingModel: '/models/other-bert' }),
      new RegExp(`${roberta.address} serves an index built with the embedder /models/tiny-roberta \\(its embedding_model\\.txt\\), and queries are embedded with /models/other-bert: .*pass --embedder /models/tiny-roberta`),
    );
    await assert.rejects(RetrievalClient.connect({ addresses: [roberta.address, bert.address], token }), /serves an index built with the embedder .*one fleet must serve indexes of one embedder/);
  } finally {
    await roberta.close();
    await bert.close();
    indexes.forEach((index) => index.dispose());
    stores.forEach((store) => store.close());
  }
});
