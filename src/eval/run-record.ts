// What a results directory holds results of. The first evaluation into
// <results>/<label>/ writes run.json: every resolved setting that changes a
// number, the precision, and fingerprints of the model, its tokenizer, the
// test data and (for methods that retrieve) the embedder and the index. A
// rerun into the same directory (a resume, another rank) must match it, or
// it is refused with the fields that differ: otherwise a rerun with another
// learning rate, k, docs-per-task or model would add its documents to the
// first run's and the report would average them without a word.
// `--force-mix` adds anyway and records that it did; the report warns.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createDurably, writeFileDurably } from '../io/durable.js';

export const RUN_RECORD_FILE = 'run.json';

export interface RunRecord {
  /** The resolved settings (rank aside: every rank of a run writes to the same directory). Non-finite numbers as strings ("Infinity"). */
  settings: Record<string, unknown>;
  precision: 'fp32' | 'bf16';
  model: string;
  tokenizer: string;
  data: string;
  /** Methods that retrieve: the embedder (parameters and tokenizer) and the fleet's index (slices, sizes, dimension). */
  retrieval?: { embedder: string; index: string };
  /** Runs added with --force-mix despite differing, each with what differed. */
  mixed?: { at: string; differences: string[] }[];
}

/** The fields two records differ in, as `field: was X, now Y` (the `mixed` history aside). */
export function recordDifferences(was: RunRecord, now: RunRecord): string[] {
  const flat = (r: RunRecord): Map<string, string> => {
    const out = new Map<string, string>();
    for (const [k, v] of Object.entries(r.settings)) out.set(k, JSON.stringify(v));
    out.set('precision', r.precision);
    out.set('model', r.model);
    out.set('tokenizer', r.tokenizer);
    out.set('data', r.data);
    out.set('embedder', r.retrieval?.embedder ?? 'none');
    out.set('index', r.retrieval?.index ?? 'none');
    return out;
  };
  const a = flat(was);
  const b = flat(now);
  const short = (v: string | undefined): string => (v === undefined ? 'unset' : v.length > 24 && /^[0-9a-f:]+$/.test(v) ? `${v.slice(0, 12)}…` : v);
  return [...new Set([...a.keys(), ...b.keys()])].filter((k) => a.get(k) !== b.get(k)).map((k) => `${k}: was ${short(a.get(k))}, now ${short(b.get(k))}`);
}

export function readRunRecord(dir: string): RunRecord | undefined {
  const path = join(dir, RUN_RECORD_FILE);
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as RunRecord;
  } catch (error) {
    throw new Error(`${path}: not a run record (${(error as Error).message}); it says what this directory's results were made with: restore it, or move the results to another directory`);
  }
}

/**
 * Records `record` for `dir`, or checks it against the one there: refused
 * when they differ, unless `forceMix` (then the differences are added to
 * the record's `mixed` list and returned).
 */
export function claimResultsDirectory(dir: string, record: RunRecord, forceMix = false): string[] {
  const path = join(dir, RUN_RECORD_FILE);
  mkdirSync(dir, { recursive: true });
  if (createDurably(path, `${JSON.stringify(record, null, 2)}\n`)) return [];
  const was = readRunRecord(dir) as RunRecord;
  const differences = recordDifferences(was, record);
  if (differences.length === 0) return [];
  if (!forceMix) {
    throw new Error(
      `${dir}: holds results of another configuration (${differences.join('; ')}); ` +
        'evaluate into another --results-dir, or pass --force-mix to add these documents anyway (the report then warns that the directory mixes runs)',
    );
  }
  const updated: RunRecord = { ...was, mixed: [...(was.mixed ?? []), { at: new Date().toISOString(), differences }] };
  writeFileDurably(path, `${JSON.stringify(updated, null, 2)}\n`);
  return differences;
}

/** What must be the same for every method of one results directory to be compared: the inputs and the documents. */
const SHARED_BY_METHODS: readonly string[] = ['model', 'tokenizer', 'data', 'precision', 'embedder', 'index', 'valPortion', 'seed'];

/**
 * Refuses a results directory whose methods ran on different inputs or
 * documents (records of its subdirectories, by label): the report compares
 * them document by document. Methods that do not retrieve are not compared
 * on the embedder and index.
 */
export function checkComparable(dir: string, records: ReadonlyMap<string, RunRecord>): void {
  const entries = [...records];
  const value = (r: RunRecord, field: string): string | undefined => {
    if (field === 'embedder' || field === 'index') return r.retrieval?.[field];
    if (field === 'model' || field === 'tokenizer' || field === 'data' || field === 'precision') return r[field];
    return JSON.stringify(r.settings[field]);
  };
  const problems: string[] = [];
  for (const field of SHARED_BY_METHODS) {
    const seen = entries.map(([label, r]) => [label, value(r, field)] as const).filter(([, v]) => v !== undefined);
    const distinct = new Set(seen.map(([, v]) => v));
    if (distinct.size > 1) problems.push(`${field} differs (${seen.map(([label, v]) => `${label}: ${(v as string).slice(0, 12)}`).join(', ')})`);
  }
  if (problems.length > 0) {
    throw new Error(`${dir}: its methods were not evaluated on the same inputs: ${problems.join('; ')}. Evaluate them into one results directory with the same model, data and fleet, or report the directories as separate runs`);
  }
}
