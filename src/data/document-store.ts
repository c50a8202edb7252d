// A document store: a JSONL file plus a sidecar of line byte offsets, so a
// document's text is one positioned read away, without holding the corpus
// in memory (8 bytes of offsets per document).
//
// Sidecar `<file>.offsets` (little-endian):
//   "TTTNNOF1"  magic
//   u64 size of the JSONL file when the sidecar was built
//   u64 n, the number of lines
//   u64 offsets[n + 1]: start of each line, then the end of the last line
// A sidecar whose recorded size differs from the file is stale and rebuilt.
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { parseDocumentLine, type PileDocument } from './jsonl.js';
import { readLines } from './lines.js';

const MAGIC = 'TTTNNOF1';

export function offsetsPath(jsonlPath: string): string {
  return `${jsonlPath}.offsets`;
}

/** Scans the file once and writes its sidecar (atomically). Returns the line count. */
export async function buildOffsets(jsonlPath: string): Promise<number> {
  if (jsonlPath.endsWith('.zst')) {
    throw new Error(`${jsonlPath}: a document store needs random access; decompress it first (zstd -d ${jsonlPath})`);
  }
  const size = statSync(jsonlPath).size;
  const offsets: number[] = [];
  let end = 0;
  for await (const line of readLines(jsonlPath)) {
    offsets.push(line.offset);
    end = line.offset + line.bytes.length;
  }
  offsets.push(end);
  const out = Buffer.alloc(8 + 16 + 8 * offsets.length);
  out.write(MAGIC, 0, 'latin1');
  out.writeBigUInt64LE(BigInt(size), 8);
  out.writeBigUInt64LE(BigInt(offsets.length - 1), 16);
  offsets.forEach((o, i) => out.writeBigUInt64LE(BigInt(o), 24 + 8 * i));
  const temporary = `${offsetsPath(jsonlPath)}.tmp-${process.pid}`;
  writeFileSync(temporary, out);
  renameSync(temporary, offsetsPath(jsonlPath));
  return offsets.length - 1;
}

export class DocumentStore {
  private readonly fd: number;

  private constructor(
    readonly path: string,
    private readonly offsets: BigUint64Array,
  ) {
    this.fd = openSync(path, 'r');
  }

  /** Opens `jsonlPath`, building or rebuilding its sidecar when missing or stale. */
  static async open(jsonlPath: string): Promise<DocumentStore> {
    if (!existsSync(jsonlPath)) throw new Error(`${jsonlPath}: no such data file`);
    const sidecar = offsetsPath(jsonlPath);
    if (!existsSync(sidecar) || !DocumentStore.sidecarMatches(jsonlPath)) await buildOffsets(jsonlPath);
    const raw = readFileSync(sidecar);
    const count = Number(raw.readBigUInt64LE(16));
    const offsets = new BigUint64Array(raw.buffer.slice(raw.byteOffset + 24, raw.byteOffset + 24 + 8 * (count + 1)));
    return new DocumentStore(jsonlPath, offsets);
  }

  private static sidecarMatches(jsonlPath: string): boolean {
    const fd = openSync(offsetsPath(jsonlPath), 'r');
    try {
      const header = Buffer.alloc(24);
      if (readSync(fd, header, 0, 24, 0) !== 24 || header.toString('latin1', 0, 8) !== MAGIC) return false;
      const expectedLength = 24 + 8 * (Number(header.readBigUInt64LE(16)) + 1);
      return Number(header.readBigUInt64LE(8)) === statSync(jsonlPath).size && fstatSync(fd).size === expectedLength;
    } finally {
      closeSync(fd);
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
