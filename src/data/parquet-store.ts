// Random access by document id into a Parquet file, for a shard server: the
// footer gives each row group's rows, so an id maps to (row group, row) by a
// binary search over the row groups' starts, and a row group is read and
// decoded whole (Parquet compresses pages of a column chunk, not rows) and
// kept in a small cache: the neighbours of one query usually fall in few row
// groups, and the next query's often in the same. The memory held is that of
// at most `cachedGroups` decoded row groups (plus those one request needs).
// A row that is not a document is served as '' (as index build
// --on-bad-line skip embedded it), like a bad JSONL line (document-store.ts).
import { DataFileChangedError, type DocumentSource } from './document-store.js';
import { fingerprintChanges, openFileFingerprint, type FileFingerprint } from './file-fingerprint.js';
import type { PileDocument } from './jsonl.js';
import { ParquetDocuments, type ParquetRow } from './parquet.js';

/** Decoded row groups kept between requests. */
export const DEFAULT_CACHED_ROW_GROUPS = 4;

export class ParquetDocumentStore implements DocumentSource {
  /** Row group -> its decoded rows (a promise, so concurrent requests read a group once); Map order is recency. */
  private readonly cache = new Map<number, Promise<ParquetRow[]>>();

  private constructor(
    private readonly file: ParquetDocuments,
    private readonly fingerprint: FileFingerprint,
    private readonly cachedGroups: number,
  ) {}

  static async open(path: string, cachedGroups = DEFAULT_CACHED_ROW_GROUPS): Promise<ParquetDocumentStore> {
    const file = await ParquetDocuments.open(path);
    return new ParquetDocumentStore(file, openFileFingerprint(file.fd), cachedGroups);
  }

  get path(): string {
    return this.file.path;
  }

  get size(): number {
    return this.file.rows;
  }

  /** Row groups read from the file so far (cache misses), for tests and diagnostics. */
  groupReads = 0;

  private group(g: number): Promise<ParquetRow[]> {
    let rows = this.cache.get(g);
    if (rows) {
      this.cache.delete(g); // most recent last
    } else {
      this.groupReads++;
      rows = this.file.readGroup(g);
      rows.catch(() => this.cache.delete(g)); // a failed read is retried by the next request
    }
    this.cache.set(g, rows);
    return rows;
  }

  private checkId(id: number): void {
    if (!Number.isInteger(id) || id < 0 || id >= this.size) throw new RangeError(`${this.path}: document id ${id} out of range (the file has ${this.size} rows)`);
  }

  /** The rows of `ids`, each row group read once; then the cache is trimmed to its size (never below what this call used). */
  private async rows(ids: readonly number[]): Promise<ParquetRow[]> {
    ids.forEach((id) => this.checkId(id));
    const groups = ids.map((id) => this.file.groupOf(id));
    const used = [...new Set(groups)];
    const decoded = new Map<number, ParquetRow[]>();
    for (const g of used) decoded.set(g, await this.group(g));
    for (const g of this.cache.keys()) {
      if (this.cache.size <= Math.max(this.cachedGroups, used.length)) break;
      if (!decoded.has(g)) this.cache.delete(g);
    }
    return ids.map((id, i) => decoded.get(groups[i]!)![id - this.file.groups[groups[i]!]!.start]!);
  }

  /** The document at row `id`; an error naming the row when it is not one. */
  async document(id: number): Promise<PileDocument> {
    const [row] = await this.rows([id]);
    if (typeof row === 'string') throw new Error(`${this.path}: row ${id}: ${row}`);
    return row!;
  }

  async indexedTexts(ids: readonly number[]): Promise<string[]> {
    return (await this.rows(ids)).map((row) => (typeof row === 'string' ? '' : row.text));
  }

  /** As DocumentStore.checkUnchanged: the file the descriptor reads must still be what the footer was read from. */
  checkUnchanged(): void {
    const changes = fingerprintChanges(this.fingerprint, openFileFingerprint(this.file.fd));
    if (changes !== '') {
      throw new DataFileChangedError(`${this.path}: the data file changed on disk since it was opened (${changes}); its row groups and the index built from it no longer match it: restore the file, or rebuild the index on the new one (tttnn index build) and restart the server`);
    }
  }

  close(): void {
    this.file.close();
  }
}
