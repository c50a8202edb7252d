// The document store of a data file, by its format: a Parquet file's
// (row groups, parquet-store.ts) or a JSONL file's (line offsets,
// document-store.ts).
import { DocumentStore, type DocumentSource } from './document-store.js';
import { isParquetPath } from './parquet.js';
import { ParquetDocumentStore } from './parquet-store.js';

/** `maxLineBytes` bounds a JSONL line (data/lines.ts); a Parquet row group is bounded by its own reader. */
export async function openDocumentStore(path: string, options: { maxLineBytes?: number } = {}): Promise<DocumentSource> {
  return isParquetPath(path) ? ParquetDocumentStore.open(path) : DocumentStore.open(path, options);
}
