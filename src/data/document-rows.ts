// The documents of a data file by id, whatever its format — JSONL(.zst)
// lines or Parquet rows — each with the label an error names it by, and a
// row that is not a document given as the reason instead of dropped: what a
// reader that must keep ids aligned with positions (index build) iterates.
import { parseDocumentLine, type PileDocument } from './jsonl.js';
import { readLines } from './lines.js';
import { isParquetPath, readParquetRows } from './parquet.js';

export interface DocumentRow {
  /** The document's id: its line (row) index in the file. */
  index: number;
  /** How a message names it: `file:line` (1-based), or `file: row N` (0-based, as Parquet tools count). */
  label: string;
  /** The document, or why it is not one. A blank JSONL line is the empty text. */
  document: PileDocument | string;
}

/** Every document of `path` from id `from` on (JSONL lines before it are read and passed over; Parquet row groups before it are not read). */
export async function* readDocumentRows(path: string, from: number, maxLineBytes: number): AsyncGenerator<DocumentRow> {
  if (isParquetPath(path)) {
    for await (const row of readParquetRows(path, from)) yield { index: row.index, label: `${path}: row ${row.index}`, document: row.document };
    return;
  }
  for await (const line of readLines(path, undefined, maxLineBytes)) {
    if (line.index < from) continue;
    yield { index: line.index, label: `${path}:${line.index + 1}`, document: line.bytes.length === 0 ? { text: '' } : parseDocumentLine(line.bytes) };
  }
}
