// The texts the report shows beside its numbers: the test documents the
// results name (lm-eval samples, the explorer's excerpts) and the neighbours'
// texts (the explorer), each read by streaming its data file once and
// keeping only the ids asked for — a Pile shard is far larger than memory
// should hold for a report.
import { join } from 'node:path';
import { readDocuments, type PileDocument } from '../data/jsonl.js';
import { dataFingerprint } from '../eval/fingerprints.js';
import type { RunInput } from './summary.js';

/**
 * The documents of the test file that the results name (or only those of
 * `only`), by id; the file must be the one every method's run.json recorded,
 * else ids would name other documents.
 */
export async function documentsById(data: string, runs: readonly RunInput[], only?: ReadonlySet<number>): Promise<Map<number, PileDocument>> {
  const fingerprint = dataFingerprint(data);
  for (const { loaded } of runs) {
    for (const [method, record] of loaded.records) {
      if (record.data !== fingerprint) throw new Error(`--data ${data} is not the file ${join(loaded.dir, method)} was evaluated on (its run.json records data ${record.data}, this file is ${fingerprint}); pass the test file the evaluation read`);
    }
  }
  const wanted = only ?? new Set(runs.flatMap(({ loaded }) => [...loaded.byMethod.values()].flatMap((byTask) => [...byTask.values()].flat().map((d) => d.doc_id))));
  const out = new Map<number, PileDocument>();
  for await (const record of readDocuments(data, { onBadLine: 'skip', warn: () => undefined })) if (wanted.has(record.id)) out.set(record.id, record.document);
  return out;
}

/** The texts of the neighbours `ids`, from the file the index was built from (ids numbered as readDocuments numbers them, as the index's are). */
export async function neighbourTexts(data: string, ids: ReadonlySet<number>): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  for await (const record of readDocuments(data, { onBadLine: 'skip', warn: () => undefined })) if (ids.has(record.id)) out.set(record.id, record.document.text);
  return out;
}
