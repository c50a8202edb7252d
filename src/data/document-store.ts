// A document store: a JSONL file plus a sidecar of line byte offsets, so a
// document's text is one positioned read away, without holding the corpus
// in memory (8 bytes of offsets per document).
//
// Sidecar `<file>.offsets` (little-endian):
//   "TTTNNOF2"  magic
//   u64 size of the JSONL file when the sidecar was built
//   u64 its modification time in nanoseconds
//   32 bytes: SHA-256 of its first 64 KiB
//   u64 n, the number of lines
//   u64 offsets[n + 1]: start of each line, then the end of the last line
// A sidecar whose fingerprint (file-fingerprint.ts) differs from the file's
// is stale and rebuilt: a file rewritten to the same size is caught too.
// ("TTTNNOF1" sidecars of earlier versions recorded the size only; they are rebuilt.)
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { writeFileDurably } from '../io/durable.js';
import { fileFingerprint, fingerprintChanges, openFileFingerprint, type FileFingerprint } from './file-fingerprint.js';
import { parseDocumentLine, type PileDocument } from './jsonl.js';
import { DEFAULT_MAX_LINE_BYTES, lineTooLong, readLines } from './lines.js';
import { requireRegularFile } from './regular-file.js';

const MAGIC = 'TTTNNOF2';
/** Bytes before the offsets: magic, size, mtime, head hash, n. */
const HEADER_BYTES = 8 + 8 + 8 + 32 + 8;

function fingerprintBytes(f: FileFingerprint): Buffer {
  const out = Buffer.alloc(48);
  out.writeBigUInt64LE(BigInt(f.size), 0);
  out.writeBigUInt64LE(BigInt(f.mtimeNs), 8);
  Buffer.from(f.headSha256, 'hex').copy(out, 16);
  return out;
}

export function offsetsPath(jsonlPath: string): string {
  return `${jsonlPath}.offsets`;
}

/** Why a sidecar could not be written beside the data: a read-only volume, a directory of another user. */
const UNWRITABLE = new Set(['EROFS', 'EACCES', 'EPERM']);

/**
 * Scans the file once and writes its sidecar (durably); returns the sidecar's
 * bytes. Where the data's directory cannot be written (a read-only volume, as
 * Kubernetes mounts data), the offsets are kept in memory only, with a warning.
 */
export async function buildOffsets(jsonlPath: string, maxLineBytes = DEFAULT_MAX_LINE_BYTES): Promise<Buffer> {
  if (jsonlPath.endsWith('.zst')) {
    throw new Error(`${jsonlPath}: a document store needs random access; decompress it first (zstd -d ${jsonlPath})`);
  }
  const fingerprint = fileFingerprint(jsonlPath); // before the scan: a change during it makes the sidecar stale
  const offsets: number[] = [];
  let end = 0;
  for await (const line of readLines(jsonlPath, undefined, maxLineBytes)) {
    offsets.push(line.offset);
    end = line.offset + line.bytes.length;
  }
  offsets.push(end);
  const out = Buffer.alloc(HEADER_BYTES + 8 * offsets.length);
  out.write(MAGIC, 0, 'latin1');
  fingerprintBytes(fingerprint).copy(out, 8);
  out.writeBigUInt64LE(BigInt(offsets.length - 1), HEADER_BYTES - 8);
  offsets.forEach((o, i) => out.writeBigUInt64LE(BigInt(o), HEADER_BYTES + 8 * i));
  try {
    writeFileDurably(offsetsPath(jsonlPath), out);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    if (!UNWRITABLE.has(code)) throw error;
    process.emitWarning(`${offsetsPath(jsonlPath)}: cannot write the offsets sidecar (${code}); keeping the offsets in memory (8 bytes per line), rebuilt at every start`, 'TTTNN_OFFSETS_IN_MEMORY');
  }
  return out;
}

/**
 * The data file a store reads changed since the store was opened: its
 * offsets, and the index built from it, no longer describe it (a shard
 * server answers 503 with the message).
 */
export class DataFileChangedError extends Error {}

function fingerprintFromSidecar(raw: Buffer): FileFingerprint {
  return { size: Number(raw.readBigUInt64LE(8)), mtimeNs: raw.readBigUInt64LE(16).toString(), headSha256: raw.toString('hex', 24, 56) };
}

export class DocumentStore {
  private constructor(
    readonly path: string,
    private readonly fd: number,
    private readonly offsets: BigUint64Array,
    /** The file as the offsets describe it. */
    private readonly fingerprint: FileFingerprint,
  ) {}

  /**
   * Opens `jsonlPath`, building or rebuilding its sidecar when missing or
   * stale. A line longer than `maxLineBytes` is an error naming it, whether
   * found by the scan or in a sidecar built earlier under a higher limit.
   */
  static async open(jsonlPath: string, options: { maxLineBytes?: number } = {}): Promise<DocumentStore> {
    const maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    if (!existsSync(jsonlPath)) throw new Error(`${jsonlPath}: no such data file`);
    requireRegularFile(jsonlPath, 'the data file');
    const fd = openSync(jsonlPath, 'r');
    try {
      const sidecar = offsetsPath(jsonlPath);
      const raw = existsSync(sidecar) && DocumentStore.sidecarMatches(jsonlPath) ? readFileSync(sidecar) : await buildOffsets(jsonlPath, maxLineBytes);
      const count = Number(raw.readBigUInt64LE(HEADER_BYTES - 8));
      const offsets = new BigUint64Array(raw.buffer.slice(raw.byteOffset + HEADER_BYTES, raw.byteOffset + HEADER_BYTES + 8 * (count + 1)));
      // A sidecar built earlier under a higher limit: its lines are checked against this one (8 bytes a line).
      for (let i = 0; i < count; i++) {
        const bytes = Number(offsets[i + 1]! - offsets[i]!) - (i + 1 < count ? 1 : 0); // less the newline
        if (bytes > maxLineBytes) throw lineTooLong(jsonlPath, i, Number(offsets[i]!), maxLineBytes);
      }
      const store = new DocumentStore(jsonlPath, fd, offsets, fingerprintFromSidecar(raw));
      store.checkUnchanged(); // the file the descriptor reads is the one the offsets were taken of
      return store;
    } catch (error) {
      closeSync(fd);
      throw error;
    }
  }

  private static sidecarMatches(jsonlPath: string): boolean {
    const fd = openSync(offsetsPath(jsonlPath), 'r');
    try {
      const header = Buffer.alloc(HEADER_BYTES);
      if (readSync(fd, header, 0, HEADER_BYTES, 0) !== HEADER_BYTES || header.toString('latin1', 0, 8) !== MAGIC) return false;
      const expectedLength = HEADER_BYTES + 8 * (Number(header.readBigUInt64LE(HEADER_BYTES - 8)) + 1);
      return header.subarray(8, 56).equals(fingerprintBytes(fileFingerprint(jsonlPath))) && fstatSync(fd).size === expectedLength;
    } finally {
      closeSync(fd);
    }
  }

  /**
   * Throws DataFileChangedError, naming the file and what changed, when the
   * file no longer is what the offsets describe (size, modification time or
   * head differ): rewritten or truncated in place. Cheap (an fstat and a hash
   * of 64 KiB), so a server checks before every answer. A file replaced by a
   * rename is not a change: the store keeps reading the file it opened.
   */
  checkUnchanged(): void {
    const changes = fingerprintChanges(this.fingerprint, openFileFingerprint(this.fd));
    if (changes !== '') {
      throw new DataFileChangedError(`${this.path}: the data file changed on disk since it was opened (${changes}); its line offsets and the index built from it no longer match it: restore the file, or rebuild the index on the new one (tttnn index build) and restart the server`);
    }
  }

  /** Number of lines (document ids are 0 .. size - 1). */
  get size(): number {
    return this.offsets.length - 1;
  }

  /** The raw JSON line of document `id`. */
  line(id: number): Buffer {
    if (!Number.isInteger(id) || id < 0 || id >= this.size) {
      throw new RangeError(`${this.path}: document id ${id} out of range (the file has ${this.size} lines)`);
    }
    const start = Number(this.offsets[id]);
    let end = Number(this.offsets[id + 1]);
    const bytes = Buffer.alloc(Math.max(0, end - start));
    readSync(this.fd, bytes, 0, bytes.length, start);
    // Offsets of consecutive lines include the newline (and a CR before it).
    end = bytes.length;
    while (end > 0 && (bytes[end - 1] === 10 || bytes[end - 1] === 13)) end--;
    return bytes.subarray(0, end);
  }

  document(id: number): PileDocument {
    const parsed = parseDocumentLine(this.line(id));
    if (typeof parsed === 'string') throw new Error(`${this.path}:${id + 1}: ${parsed}`);
    return parsed;
  }

  text(id: number): string {
    return this.document(id).text;
  }

  /**
   * The text the index holds a vector for at line `id`: a blank line, or a
   * malformed one that `index build --on-bad-line skip` embedded as '', is ''
   * — so one such line among a search's hits never fails the whole answer.
   */
  indexedText(id: number): string {
    const line = this.line(id);
    if (line.length === 0) return '';
    const parsed = parseDocumentLine(line);
    return typeof parsed === 'string' ? '' : parsed.text;
  }

  close(): void {
    closeSync(this.fd);
  }
}
