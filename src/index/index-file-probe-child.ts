// The child process of index-file-probe.ts: what a server would do with an
// index file, once, where a crash harms nobody. It prints what it found as
// JSON (IndexFileSummary); a crafted file may kill it instead.
import { fileURLToPath } from 'node:url';
import { FaissIndex } from './faiss-index.js';
import type { IndexFileSummary } from './index-file-check.js';

async function probe(path: string, mmap: boolean): Promise<void> {
  const index = FaissIndex.readUnchecked(path, mmap);
  const { d, ntotal, type } = index.info;
  if (ntotal > 0) {
    await index.search(new Float32Array(d), Math.min(ntotal, 16));
    for (const id of [0, ntotal - 1]) {
      try {
        index.reconstruct(id, 1);
      } catch {
        // Kinds without a direct map cannot reconstruct; the servers then fail that request with a message.
      }
    }
  }
  index.dispose();
  process.stdout.write(JSON.stringify({ kind: type, d, ntotal, checked: 'structure' } satisfies IndexFileSummary));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  probe(process.argv[2] as string, process.argv[3] === 'mmap').catch((error: unknown) => {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exitCode = 1;
  });
}
