// Pile-format JSONL documents: one {"text": ..., "meta": {"pile_set_name": ...}}
// per line, plain or .jsonl.zst. A line that is not such an object is
// reported with its file and line number and, by policy, skipped or fatal.
// A .parquet file is read as its rows (parquet.ts), with the same ids and policy.
import { readLines, type LineStart } from './lines.js';
import { isParquetPath, readParquetRows } from './parquet.js';
import { invalidUtf8Offset } from './utf8.js';

export interface PileDocument {
  text: string;
  meta?: { pile_set_name?: string; [key: string]: unknown };
}

export interface DocumentRecord {
  /** 0-based line index in the file (a Parquet file's row index): the document's id (and its vector id in the index). */
  id: number;
  /** Byte offset of the line in the uncompressed file (a Parquet file's: the row index). */
  offset: number;
  /** Byte offset of the next line (where a reader resumes after this document; a Parquet file's: the next row index). */
  nextOffset: number;
  document: PileDocument;
}

export type BadLinePolicy = 'skip' | 'fail';

export interface ReadOptions {
  /** Resume at this line start (its offset and index), as a DocumentRecord gave them. */
  from?: LineStart;
  /** What to do with a line that is not a Pile document (default fail). */
  onBadLine?: BadLinePolicy;
  /** Told about each skipped line (default: a warning on stderr). */
  warn?: (message: string) => void;
  /** The longest line read; longer is an error (default lines.ts DEFAULT_MAX_LINE_BYTES). */
  maxLineBytes?: number;
}

/** Parses one line; returns an error message instead of throwing. */
export function parseDocumentLine(bytes: Buffer): PileDocument | string {
  const bad = invalidUtf8Offset(bytes);
  if (bad >= 0) return `invalid UTF-8 (byte 0x${bytes[bad]!.toString(16)} at byte ${bad} of the line), which would be replaced and change the byte count of bits per byte; re-encode the file as UTF-8`;
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    return `malformed JSON (${(error as Error).message})`;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  const doc = value as PileDocument;
  if (typeof doc.text !== 'string') return 'no "text" string';
  if (doc.meta !== undefined && (typeof doc.meta !== 'object' || doc.meta === null)) return '"meta" is not an object';
  return doc;
}

export async function* readDocuments(path: string, options: ReadOptions = {}): AsyncGenerator<DocumentRecord> {
  const policy = options.onBadLine ?? 'fail';
  const warn = options.warn ?? ((message: string) => process.stderr.write(`warning: ${message}\n`));
  if (isParquetPath(path)) {
    for await (const row of readParquetRows(path, options.from?.index ?? 0)) {
      if (typeof row.document === 'string') {
        const message = `${path}: row ${row.index}: ${row.document}`;
        if (policy === 'fail') throw new Error(`${message} (use --on-bad-line skip to skip such rows)`);
        warn(`${message}; row skipped`);
        continue;
      }
      yield { id: row.index, offset: row.index, nextOffset: row.index + 1, document: row.document };
    }
    return;
  }
  for await (const line of readLines(path, options.from, options.maxLineBytes)) {
    if (line.bytes.length === 0) continue;
    const parsed = parseDocumentLine(line.bytes);
    if (typeof parsed === 'string') {
      const message = `${path}:${line.index + 1}: ${parsed}`;
      if (policy === 'fail') throw new Error(`${message} (use --on-bad-line skip to skip such lines)`);
      warn(`${message}; line skipped`);
      continue;
    }
    yield { id: line.index, offset: line.offset, nextOffset: line.next, document: parsed };
  }
}
