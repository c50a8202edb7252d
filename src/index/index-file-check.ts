// Checks a FAISS index file before FAISS reads it. FAISS trusts its files: a
// header with d = 0 divides by zero, a huge ntotal allocates without bound,
// an HNSW link past the end reads outside the vectors — a SIGFPE, an OOM
// kill or a SIGSEGV of the server or evaluator that opened it, not an error.
//
// The formats tttnn builds and the original published are read here field
// by field (FAISS 1.7.3 impl/index_read.cpp: read_index_header, the Flat
// codes, read_HNSW) and every size and link checked against the file. Any
// other kind (IVF, PQ, SQ, ...) is opened first in a child process
// (index-file-probe.ts) that reads it, searches it and reconstructs from it:
// if that process dies, the file is refused with how it died.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { requireRegularFile } from '../data/regular-file.js';

/** A memory-mapped index file that changed on disk: searching it could read past its end (SIGBUS). */
export class IndexFileChangedError extends Error {}

/** What the check found. `structure`: every field checked here; `header`: only the header (the rest needs the probe). */
export interface IndexFileSummary {
  kind: string;
  d: number;
  ntotal: number;
  checked: 'structure' | 'header';
}

/** Widest embedding accepted (RoBERTa-large's is 1024; FAISS itself has no limit, its users do). */
const MAX_DIMENSION = 1 << 16;
/** Most vectors one index may claim (2^40: far beyond any file this side of a petabyte). */
const MAX_VECTORS = 2 ** 40;

const FLAT_KINDS = new Set(['IxF2', 'IxFI', 'IxFl']);
const HNSW_KINDS = new Set(['IHNf', 'IHNp', 'IHNs', 'IHN2']);

/** Positional reads of a file, with every length checked against what is left of it. */
class FileReader {
  readonly size: number;
  offset = 0;

  constructor(
    private readonly fd: number,
    private readonly path: string,
  ) {
    this.size = fstatSync(fd).size;
  }

  fail(what: string): never {
    throw new Error(`${this.path}: not a valid FAISS index (${what} at byte ${this.offset}); is it truncated, corrupt or not an index?`);
  }

  bytes(n: number, what: string): Buffer {
    if (n > this.size - this.offset) this.fail(`${what}: ${n} bytes needed, ${this.size - this.offset} left in the file`);
    const buffer = Buffer.alloc(n);
    let done = 0;
    while (done < n) {
      const got = readSync(this.fd, buffer, done, n - done, this.offset + done);
      if (got === 0) this.fail(`${what}: the file ended early (it shrank while being checked)`);
      done += got;
    }
    this.offset += n;
    return buffer;
  }

  int32(what: string): number {
    return this.bytes(4, what).readInt32LE(0);
  }

  int64(what: string): number {
    const value = this.bytes(8, what).readBigInt64LE(0);
    if (value < -1n || value > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`${what} = ${value} is out of range`);
    return Number(value);
  }

  /** A FAISS vector's element count (size_t), which must fit in the rest of the file. */
  count(elementBytes: number, what: string): number {
    const n = this.int64(`${what} size`);
    if (n < 0 || n * elementBytes > this.size - this.offset) this.fail(`${what} claims ${n} elements of ${elementBytes} bytes, more than the ${this.size - this.offset} bytes left`);
    return n;
  }

  /** Calls `each` on the int32 elements of a vector of `n`, read in chunks (HNSW links can be gigabytes). */
  int32s(n: number, what: string, each: (value: number, i: number) => void): void {
    const chunk = 1 << 20;
    for (let from = 0; from < n; from += chunk) {
      const buffer = this.bytes(4 * Math.min(chunk, n - from), what);
      for (let i = 0; i < buffer.length / 4; i++) each(buffer.readInt32LE(4 * i), from + i);
    }
  }
}

function readHeader(r: FileReader): IndexFileSummary & { metric: number } {
  const kind = r.bytes(4, 'the fourcc').toString('latin1');
  if (!/^[\x20-\x7e]{4}$/.test(kind)) r.fail('the first four bytes are not a FAISS fourcc');
  const d = r.int32('d');
  const ntotal = r.int64('ntotal');
  r.bytes(8 + 8 + 1, 'the header');
  const metric = r.int32('metric_type');
  if (metric > 1) r.bytes(4, 'metric_arg');
  if (d < 1 || d > MAX_DIMENSION) r.fail(`d = ${d} is not a dimension from 1 to ${MAX_DIMENSION}`);
  if (ntotal < 0 || ntotal > MAX_VECTORS) r.fail(`ntotal = ${ntotal} is not a count of vectors`);
  if (metric < 0 || metric > 23) r.fail(`metric_type = ${metric} is not a FAISS metric`);
  return { kind, d, ntotal, metric, checked: 'header' };
}

// IndexFlat: the header, then ntotal x d float32 codes (their count in floats, as FAISS writes it).
function checkFlat(r: FileReader, header: IndexFileSummary): void {
  const floats = r.count(4, 'the vectors');
  if (floats !== header.ntotal * header.d) r.fail(`the vectors hold ${floats} floats, not ntotal x d = ${header.ntotal} x ${header.d}`);
  // A NaN or infinite stored vector makes every distance to it NaN/Inf: FAISS
  // ranks it arbitrarily and the neighbours served are silently wrong.
  const start = r.offset;
  const chunk = 1 << 20;
  for (let from = 0; from < floats; from += chunk) {
    const buffer = r.bytes(4 * Math.min(chunk, floats - from), 'the vectors');
    for (let i = 0; i < buffer.length / 4; i++) {
      const value = buffer.readFloatLE(4 * i);
      if (!Number.isFinite(value)) {
        const at = from + i;
        r.offset = start + 4 * at;
        r.fail(`vector ${Math.floor(at / header.d)} (its id in the index) holds ${value} at component ${at % header.d}; rebuild the index from finite embeddings`);
      }
    }
  }
}

/** The largest efSearch / efConstruction / upper_beam accepted: FAISS allocates in proportion to them per search. */
const MAX_EF = 1 << 16;

// read_HNSW: level probabilities, neighbours per level, each vector's level,
// its offset into the links, the links, then the entry point and parameters.
// A search walks from the entry point down its levels (FAISS hnsw.cc
// greedy_update_nearest reads cum_nneighbor_per_level[level + 1] and the
// links of each node it reaches at that level): so every link at level L
// must point at a node that exists at level L, and max_level must be the
// entry point's level.
function checkHnsw(r: FileReader, ntotal: number): void {
  const probabilities = r.count(8, 'assign_probas');
  r.offset += probabilities * 8;
  const cumulative: number[] = [];
  r.int32s(r.count(4, 'cum_nneighbor_per_level'), 'cum_nneighbor_per_level', (v) => cumulative.push(v));
  if (cumulative[0] !== 0 || cumulative.some((v, i) => v < 0 || (i > 0 && v < cumulative[i - 1]!))) r.fail('cum_nneighbor_per_level is not a non-decreasing count from 0');
  if (r.count(4, 'levels') !== ntotal) r.fail(`levels has not ntotal = ${ntotal} entries`);
  // levels[i] - 1 is vector i's top level (FAISS stores level + 1).
  const levels = new Int32Array(ntotal);
  r.int32s(ntotal, 'levels', (level, i) => {
    if (level < 1 || level >= cumulative.length) r.fail(`levels[${i}] = ${level} is not a level from 1 to ${cumulative.length - 1}`);
    levels[i] = level;
  });
  if (r.count(8, 'offsets') !== ntotal + 1) r.fail(`offsets has not ntotal + 1 = ${ntotal + 1} entries`);
  let expected = 0;
  for (let i = 0; i <= ntotal; i++) {
    if (r.int64(`offsets[${i}]`) !== expected) r.fail(`offsets[${i}] does not follow from the levels`);
    if (i < ntotal) expected += cumulative[levels[i]!]!;
  }
  if (r.count(4, 'neighbors') !== expected) r.fail(`neighbors has not the ${expected} entries the offsets need`);
  // Walk the links in file order: node `node` owns [start, start + cumulative[levels[node]]), level L the part [cumulative[L], cumulative[L + 1]).
  let node = 0;
  let start = 0;
  r.int32s(expected, 'neighbors', (v, j) => {
    while (j >= start + cumulative[levels[node]!]!) start += cumulative[levels[node++]!]!;
    if (v === -1) return;
    if (v < 0 || v >= ntotal) r.fail(`neighbors[${j}] = ${v} links outside the index's ${ntotal} vectors`);
    let level = 0;
    while (j - start >= cumulative[level + 1]!) level++;
    if (levels[v]! <= level) r.fail(`neighbors[${j}] links vector ${node} at level ${level} to vector ${v}, which has no level ${level}`);
  });
  const entry = r.int32('entry_point');
  const maxLevel = r.int32('max_level');
  if (ntotal === 0) {
    if (entry !== -1 || maxLevel !== -1) r.fail(`an empty HNSW has entry_point ${entry} and max_level ${maxLevel}, not -1 and -1`);
  } else {
    if (entry < 0 || entry >= ntotal) r.fail(`entry_point = ${entry} is not a vector of the index`);
    if (maxLevel !== levels[entry]! - 1) r.fail(`max_level = ${maxLevel} is not the entry point's level ${levels[entry]! - 1}`);
  }
  for (const name of ['efConstruction', 'efSearch', 'upper_beam']) {
    const value = r.int32(name);
    if (value < 0 || value > MAX_EF) r.fail(`${name} = ${value} is not from 0 to ${MAX_EF}`);
  }
}

// One index at the reader's offset (HNSW nests its storage index).
function checkAt(r: FileReader): IndexFileSummary {
  const header = readHeader(r);
  if (FLAT_KINDS.has(header.kind)) {
    checkFlat(r, header);
    return { kind: header.kind, d: header.d, ntotal: header.ntotal, checked: 'structure' };
  }
  if (HNSW_KINDS.has(header.kind)) {
    checkHnsw(r, header.ntotal);
    const storage = checkAt(r);
    if (storage.d !== header.d || storage.ntotal !== header.ntotal) r.fail(`the HNSW storage holds ${storage.ntotal} x ${storage.d}, not ${header.ntotal} x ${header.d}`);
    return { ...header, checked: storage.checked };
  }
  return header;
}

/** Checks a FAISS index file (see above); throws naming the file, the field and the byte. */
export function checkIndexFile(path: string): IndexFileSummary {
  // A FIFO would block the open forever, and positional reads of a pipe fail with an unnamed ESPIPE.
  requireRegularFile(path, 'the index file');
  const fd = openSync(path, 'r');
  try {
    const r = new FileReader(fd, path);
    const summary = checkAt(r);
    if (summary.checked === 'structure' && r.offset !== r.size) r.fail(`${r.size - r.offset} bytes follow the index`);
    return summary;
  } finally {
    closeSync(fd);
  }
}

/** Where a Flat index file's vectors lie, for reading them in chunks without FAISS reading the whole file. */
export interface FlatFileLayout {
  kind: string;
  d: number;
  ntotal: number;
  metric: 'l2' | 'ip';
  /** Byte offset of vector 0; vector i is the d float32s at dataOffset + 4 * d * i. */
  dataOffset: number;
  /** Size of the file in bytes. */
  bytes: number;
}

/**
 * Reads a Flat index file's header (FAISS write_index: IndexFlatL2 "IxF2" or
 * IndexFlatIP "IxFI", as the original's build_database.py:129,156 writes
 * them) and checks that the file holds exactly ntotal x d float32s after it:
 * another kind, or a truncated or padded file, is an error naming the file.
 * The vectors themselves are not read here (they can be tens of gigabytes).
 */
export function readFlatLayout(path: string): FlatFileLayout {
  requireRegularFile(path, 'the index file');
  const fd = openSync(path, 'r');
  try {
    const r = new FileReader(fd, path);
    const header = readHeader(r);
    if (header.kind !== 'IxF2' && header.kind !== 'IxFI') {
      const what = HNSW_KINDS.has(header.kind) ? 'an HNSW index' : header.kind === 'IxFl' ? 'a Flat index with a metric other than L2 or inner product' : `a "${header.kind}" index`;
      throw new Error(`${path}: not a Flat (IndexFlatL2 / IndexFlatIP) index but ${what}; only Flat indexes hold the exact vectors a conversion or an exact search reads (\`tttnn index info ${path}\` shows its type)`);
    }
    const floats = r.int64('the vectors size');
    if (floats !== header.ntotal * header.d) r.fail(`the vectors hold ${floats} floats, not ntotal x d = ${header.ntotal} x ${header.d}`);
    const expected = r.offset + 4 * floats;
    if (r.size < expected) {
      throw new Error(`${path}: truncated: its header says ${header.ntotal} vectors of ${header.d} float32s (${expected} bytes), the file has ${r.size} bytes (${Math.floor((r.size - r.offset) / (4 * header.d))} whole vectors); copy or download it again`);
    }
    if (r.size > expected) throw new Error(`${path}: ${r.size - expected} bytes follow the ${header.ntotal} vectors its header announces; not a file FAISS wrote, or two files joined`);
    return { kind: header.kind, d: header.d, ntotal: header.ntotal, metric: header.kind === 'IxFI' ? 'ip' : 'l2', dataOffset: r.offset, bytes: r.size };
  } finally {
    closeSync(fd);
  }
}
