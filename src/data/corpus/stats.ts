// Per-domain document and byte counts of a Pile-format corpus directory,
// read from the JSONL files themselves (not the manifest).
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readDocuments, type BadLinePolicy } from '../jsonl.js';

export type CorpusStats = Record<string, Record<string, { documents: number; bytes: number }>>;

/** The JSONL files of each split directory (train/, val/, test/), or of DIR itself. */
export function splitFiles(dir: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const split of ['train', 'val', 'test']) {
    const sub = join(dir, split);
    if (existsSync(sub)) out[split] = readdirSync(sub).filter((f) => /\.(jsonl(\.zst)?|parquet)$/.test(f)).sort().map((f) => join(sub, f));
  }
  if (Object.keys(out).length === 0) throw new Error(`${dir}: no train/, val/ or test/ directory with .jsonl, .jsonl.zst or .parquet files`);
  return out;
}

/** stats[domain][split] = {documents, bytes} (UTF-8 bytes of the texts). */
export async function corpusStats(dir: string, onBadLine: BadLinePolicy = 'fail'): Promise<CorpusStats> {
  const stats: CorpusStats = {};
  for (const [split, files] of Object.entries(splitFiles(dir))) {
    for (const file of files) {
      for await (const { document } of readDocuments(file, { onBadLine })) {
        const domain = document.meta?.pile_set_name ?? '(none)';
        const cell = ((stats[domain] ??= {})[split] ??= { documents: 0, bytes: 0 });
        cell.documents++;
        cell.bytes += Buffer.byteLength(document.text);
      }
    }
  }
  return stats;
}
