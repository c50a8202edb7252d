// Pile-format documents in a Parquet file, as the Pile's public copies are
// also distributed: a `text` string column and either a `meta` column (a
// struct with pile_set_name, or a JSON string of one) or a `pile_set_name`
// string column. Read with hyparquet (+ hyparquet-compressors for zstd,
// gzip, brotli, lz4; snappy is hyparquet's own), one row group at a time,
// so a file of any size streams in the memory of its largest row group.
//
// A row's id is its 0-based position in the file (row groups in file
// order), as a JSONL document's is its line number: a function of the file
// alone, so an index built from it, a served slice and an evaluation's
// result lines agree on it. A row that is not a document — a null or
// non-string text, text that is not valid UTF-8, a meta that is not an
// object — is what a bad JSONL line is: an error by default, skipped with
// --on-bad-line skip (eval, training), embedded as '' by index build
// --on-bad-line skip and served as '' (ids stay aligned), never renumbered.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { parquetMetadataAsync, parquetReadObjects, parquetSchema, type AsyncBuffer, type FileMetaData } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import type { PileDocument } from './jsonl.js';
import { requireRegularFile } from './regular-file.js';
import { invalidUtf8Offset } from './utf8.js';

export function isParquetPath(path: string): boolean {
  return /\.parquet$/i.test(path);
}

/** A string cell hyparquet could not decode as strict UTF-8 (it would have replaced the bytes, changing the byte count of bits per byte). */
class InvalidUtf8 {
  constructor(readonly bytes: Uint8Array, readonly at: number) {}
}

const decoder = new TextDecoder('utf-8');
/** Strict decoding of every string cell (hyparquet's default replaces invalid bytes with U+FFFD). */
const PARSERS = {
  stringFromBytes: (bytes: Uint8Array | undefined): string | InvalidUtf8 | undefined => {
    if (bytes === undefined || bytes === null) return bytes;
    const bad = invalidUtf8Offset(bytes);
    return bad >= 0 ? new InvalidUtf8(bytes, bad) : decoder.decode(bytes);
  },
};

/** A row: its document, or why it is not one. */
export type ParquetRow = PileDocument | string;

/** What a row's cells become: the document, or the reason it is not one (the messages of a bad JSONL line, where they apply). */
function documentOfRow(row: Record<string, unknown>, metaColumn: 'meta' | 'pile_set_name' | null): ParquetRow {
  const text = row['text'];
  if (text instanceof InvalidUtf8) return `invalid UTF-8 in "text" (byte 0x${text.bytes[text.at]!.toString(16)} at byte ${text.at}), which would be replaced and change the byte count of bits per byte; re-encode the text as UTF-8`;
  if (text === null || text === undefined) return '"text" is null';
  if (typeof text !== 'string') return 'no "text" string';
  if (metaColumn === null) return { text };
  const value = row[metaColumn];
  if (value === null || value === undefined) return { text };
  if (value instanceof InvalidUtf8) return `invalid UTF-8 in "${metaColumn}"`;
  if (metaColumn === 'pile_set_name') return typeof value === 'string' ? { text, meta: { pile_set_name: value } } : { text };
  let meta: unknown = value;
  if (typeof value === 'string') {
    try {
      meta = JSON.parse(value);
    } catch (error) {
      return `"meta" is a string that is not JSON (${(error as Error).message})`;
    }
  }
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) return '"meta" is not an object';
  return { text, meta: meta as PileDocument['meta'] };
}

/** An open Parquet file of documents: its row groups, read one at a time through the descriptor it was opened with. */
export class ParquetDocuments {
  private constructor(
    readonly path: string,
    readonly fd: number,
    private readonly buffer: AsyncBuffer,
    private readonly metadata: FileMetaData,
    /** Row ranges [start, end) of the row groups, in file order. */
    readonly groups: ReadonlyArray<{ start: number; end: number }>,
    private readonly metaColumn: 'meta' | 'pile_set_name' | null,
  ) {}

  /** Opens `path` and reads its footer; an error names the file when it is not Parquet or has no `text` column. */
  static async open(path: string): Promise<ParquetDocuments> {
    requireRegularFile(path, 'the data file');
    const fd = openSync(path, 'r');
    try {
      const size = fstatSync(fd).size;
      // Reads through the descriptor: the file opened is the file read, even once the path names another.
      const buffer: AsyncBuffer = {
        byteLength: size,
        slice: (start: number, end = size) => {
          const bytes = new Uint8Array(Math.max(0, end - start));
          let done = 0;
          while (done < bytes.length) {
            const n = readSync(fd, bytes, done, bytes.length - done, start + done);
            if (n === 0) throw new Error(`${path}: the file ends at byte ${start + done}, before byte ${end} its footer points to (truncated or rewritten)`);
            done += n;
          }
          return bytes.buffer;
        },
      };
      let metadata: FileMetaData;
      try {
        metadata = await parquetMetadataAsync(buffer);
      } catch (error) {
        throw new Error(`${path}: not a readable Parquet file (${(error as Error).message})`);
      }
      const top = new Set(parquetSchema(metadata).children.map((c) => c.element.name));
      if (!top.has('text')) throw new Error(`${path}: no "text" column (columns: ${[...top].join(', ') || 'none'}); a Pile-format Parquet file has "text" and "meta" or "pile_set_name"`);
      const metaColumn = top.has('meta') ? 'meta' : top.has('pile_set_name') ? 'pile_set_name' : null;
      const groups: { start: number; end: number }[] = [];
      let start = 0;
      for (const group of metadata.row_groups) {
        const rows = Number(group.num_rows);
        groups.push({ start, end: start + rows });
        start += rows;
      }
      return new ParquetDocuments(path, fd, buffer, metadata, groups, metaColumn);
    } catch (error) {
      closeSync(fd);
      throw error;
    }
  }

  /** Rows in the file (document ids are 0 .. rows - 1). */
  get rows(): number {
    return this.groups.at(-1)?.end ?? 0;
  }

  /** The row group holding row `id`, by binary search. */
  groupOf(id: number): number {
    let low = 0;
    let high = this.groups.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (this.groups[mid]!.start <= id) low = mid;
      else high = mid - 1;
    }
    return low;
  }

  /** Every row of row group `g`, decoded: the documents, or why a row is not one. */
  async readGroup(g: number): Promise<ParquetRow[]> {
    const { start, end } = this.groups[g]!;
    const columns = this.metaColumn === null ? ['text'] : ['text', this.metaColumn];
    let rows: Record<string, unknown>[];
    try {
      rows = (await parquetReadObjects({ file: this.buffer, metadata: this.metadata, columns, rowStart: start, rowEnd: end, compressors, parsers: PARSERS })) as Record<string, unknown>[];
    } catch (error) {
      throw new Error(`${this.path}: row group ${g} (rows ${start}-${end - 1}) cannot be read: ${(error as Error).message}`);
    }
    if (rows.length !== end - start) throw new Error(`${this.path}: row group ${g} holds ${rows.length} rows, its footer says ${end - start}`);
    return rows.map((row) => documentOfRow(row, this.metaColumn));
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** Every row of a Parquet file from row `from`, one row group at a time: its id and its document (or why it is not one). */
export async function* readParquetRows(path: string, from = 0): AsyncGenerator<{ index: number; document: ParquetRow }> {
  const file = await ParquetDocuments.open(path);
  try {
    for (let g = from < file.rows ? file.groupOf(from) : file.groups.length; g < file.groups.length; g++) {
      const rows = await file.readGroup(g);
      const start = file.groups[g]!.start;
      for (let r = Math.max(0, from - start); r < rows.length; r++) yield { index: start + r, document: rows[r]! };
    }
  } finally {
    file.close();
  }
}
