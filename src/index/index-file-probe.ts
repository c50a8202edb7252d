// Opens a FAISS index file in a child process, for the kinds whose structure
// index-file-check.ts does not read field by field (IVF, PQ, SQ, ...): the
// child reads it, searches it once and reconstructs from it, and prints what
// it found. If a crafted or corrupt file kills the child (SIGSEGV, SIGFPE,
// SIGBUS, an OOM kill), the caller reports it instead of dying itself.
// This catches what reading the file and a first search touch (sizes,
// headers, truncation); it is not a proof that every later query is safe,
// as the field-by-field check of Flat and HNSW is. Index files of these
// kinds should come from a source you trust.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { IndexFileSummary } from './index-file-check.js';

/** How long a probe may take: reading a large index from a slow disk takes minutes. */
const PROBE_TIMEOUT_MS = 30 * 60_000;

/** The child's module, named by path rather than imported: it imports faiss-index.ts, which imports this file. */
const PROBE_ENTRY = fileURLToPath(new URL('./index-file-probe-child.js', import.meta.url));

/** Reads `path` in a child process; throws naming how the child failed or died. */
export function probeIndexFile(path: string, mmap: boolean): IndexFileSummary {
  const child = spawnSync(process.execPath, [PROBE_ENTRY, path, mmap ? 'mmap' : 'read'], { encoding: 'utf8', timeout: PROBE_TIMEOUT_MS, maxBuffer: 16 << 20 });
  const said = (child.stderr ?? '').trim().split('\n').slice(-3).join(' ');
  if (child.error) {
    const code = (child.error as NodeJS.ErrnoException).code;
    if (code === 'ENOBUFS') throw new Error(`${path}: the process checking this index wrote more than 16 MiB of messages; the file is probably not a sound index`);
    if (code === 'ETIMEDOUT') throw new Error(`${path}: checking this index took over ${PROBE_TIMEOUT_MS / 60_000} minutes; the file is probably not a sound index`);
    throw new Error(`${path}: could not open the index in a child process to check it (${child.error.message})`);
  }
  if (child.signal !== null) throw new Error(`${path}: reading this FAISS index killed the process that tried (${child.signal}); the file is corrupt, truncated or crafted${said ? `: ${said}` : ''}`);
  if (child.status !== 0) throw new Error(said || `${path}: the index check exited with code ${child.status}`);
  return JSON.parse(child.stdout) as IndexFileSummary;
}
