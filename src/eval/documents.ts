// Which test documents an evaluation process scores: the test split grouped
// into tasks by meta.pile_set_name, each task's documents shuffled with the
// seed (1216), the first val-portion of them kept, and every world-size-th
// one from `rank` given to this process.
import { readDocuments } from '../data/jsonl.js';
import { taskName } from '../data/tasks.js';
import { seededRandom } from '../data/corpus/dm-mathematics.js';

export interface EvalDocument {
  task: string;
  /** Line number in the data file. */
  id: number;
  text: string;
}

export interface SelectOptions {
  /** "pile_all" or a list of task names. */
  tasks: string[] | 'pile_all';
  valPortion: number;
  seed: number;
  rank: number;
  worldSize: number;
  /** At most this many documents per task (after the portion and the rank split). */
  limit?: number;
}

/** Fisher-Yates with a seeded generator: the same order on every machine. */
export function shuffled<T>(items: readonly T[], seed: number): T[] {
  const random = seededRandom(seed);
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

export async function selectDocuments(path: string, options: SelectOptions): Promise<Map<string, EvalDocument[]>> {
  if (!(options.worldSize >= 1) || !(options.rank >= 0 && options.rank < options.worldSize)) {
    throw new Error(`--rank ${options.rank} must be in [0, --world-size ${options.worldSize})`);
  }
  const byTask = new Map<string, EvalDocument[]>();
  for await (const record of readDocuments(path, { onBadLine: 'skip' })) {
    const task = taskName(record.document.meta?.pile_set_name);
    if (options.tasks !== 'pile_all' && !options.tasks.includes(task)) continue;
    byTask.set(task, [...(byTask.get(task) ?? []), { task, id: record.id, text: record.document.text }]);
  }
  if (options.tasks !== 'pile_all') {
    const missing = options.tasks.filter((t) => !byTask.has(t));
    if (missing.length > 0) throw new Error(`${path} has no documents of task(s) ${missing.join(', ')} (tasks there: ${[...byTask.keys()].sort().join(', ')})`);
  }
  const out = new Map<string, EvalDocument[]>();
  for (const [task, docs] of [...byTask].sort(([a], [b]) => a.localeCompare(b))) {
    const portion = shuffled(docs, options.seed).slice(0, Math.max(1, Math.floor(docs.length * options.valPortion)));
    const mine = portion.filter((_, i) => i % options.worldSize === options.rank);
    out.set(task, options.limit === undefined ? mine : mine.slice(0, options.limit));
  }
  return out;
}
