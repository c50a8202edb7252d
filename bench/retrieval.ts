// Benchmark: retrieval through the shard servers on 127.0.0.1 — QPS and
// p50 / p99 latency with 1, 2 and 4 shards (8 concurrent clients, one query
// each request, k 50) — vs python3-faiss searching the same vectors in one
// process with no network (the ceiling), in the same run.
//
//   npm run bench:retrieval        (BENCH_VECTORS, default 200,000 x 768)
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seededRandom } from '../src/data/seeded-random.js';
import { FaissIndex } from '../src/index/index.js';
import { writeNewToken } from '../src/retrieval/auth.js';
import { RetrievalClient } from '../src/retrieval/client.js';
import { startFleetProcess } from '../test/helpers/fleet.js';
import { formatTable, runPython } from './helpers.js';

const N = Number(process.env['BENCH_VECTORS'] ?? 200_000);
const D = 768;
const K = 50;
const CLIENTS = 8;
const PER_CLIENT = Number(process.env['BENCH_QUERIES'] ?? 50);
const dir = mkdtempSync(join(tmpdir(), 'tttnn-bench-retrieval-'));
const random = seededRandom(11);
const vectors = new Float32Array(N * D).map(() => random() * 2 - 1);
const queries = new Float32Array(CLIENTS * PER_CLIENT * D).map(() => random() * 2 - 1);
const data = join(dir, '00.jsonl');
writeFileSync(data, Array.from({ length: N }, (_, i) => `{"text": "document ${i}"}`).join('\n') + '\n');
const index = FaissIndex.create(D, 'Flat');
index.add(vectors);
index.write(join(dir, '00.jsonl.index'));
index.dispose();
const tokenFile = join(dir, 'token');
const token = writeNewToken(tokenFile);

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] as number;
const rows: (string | number)[][] = [];
for (const shards of [1, 2, 4]) {
  const fleet = await startFleetProcess({ data, index: join(dir, '00.jsonl.index'), slices: shards, replicas: 1, addresses: join(dir, `${shards}.addresses`), tokenFile });
  const latencies: number[] = [];
  const start = performance.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, c) => {
      const client = await RetrievalClient.connect({ addresses: fleet.addresses, token });
      for (let i = 0; i < PER_CLIENT; i++) {
        const q = (c * PER_CLIENT + i) * D;
        const t = performance.now();
        await client.search(queries.subarray(q, q + D), K);
        latencies.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  await fleet.stop();
  latencies.sort((a, b) => a - b);
  rows.push([`tttnn, ${shards} shard(s)`, latencies.length / seconds, percentile(latencies, 0.5), percentile(latencies, 0.99)]);
}
const python = runPython<{ qps: number; p50: number; p99: number }>(
  `
import json, sys, time, numpy as np, faiss
d = json.load(sys.stdin)
index = faiss.read_index(d['path'])
q = np.array(d['queries'], dtype='float32').reshape(-1, ${D})
lat = []
t0 = time.perf_counter()
for i in range(len(q)):
    t = time.perf_counter(); index.search(q[i:i+1], ${K}); lat.append((time.perf_counter() - t) * 1000)
total = time.perf_counter() - t0
lat.sort()
print(json.dumps({'qps': len(q) / total, 'p50': lat[len(lat) // 2], 'p99': lat[min(len(lat) - 1, int(len(lat) * 0.99))]}))
`,
  { path: join(dir, '00.jsonl.index'), queries: Array.from(queries) },
  3_600_000,
);
rows.push(['python3-faiss, in process', python.qps, python.p50, python.p99]);
rmSync(dir, { recursive: true, force: true });
console.log(`${N} x ${D} Flat, k ${K}, ${CLIENTS} concurrent clients x ${PER_CLIENT} queries`);
console.log(formatTable(['', 'QPS', 'p50 ms', 'p99 ms'], rows));
