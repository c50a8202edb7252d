// Which test documents an evaluation process scores, as the original chose
// them (eval_tttlm.py:374-384): the test split grouped into tasks by
// meta.pile_set_name, each task's documents in file order shuffled by
// Python's random.Random(seed).shuffle (seed 1216), the first
// int(val_portion * n) of them kept (none when that is 0; all when the
// portion is 1 or more), and every world-size-th one from `rank` given to
// this process.
import { readDocuments } from '../data/jsonl.js';
import { taskName } from '../data/tasks.js';
import { PythonRandom } from './python-random.js';

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
  /** The longest line read (data/lines.ts DEFAULT_MAX_LINE_BYTES by default); longer is an error naming it. */
  maxLineBytes?: number;
}

/** `rnd = random.Random(); rnd.seed(seed); rnd.shuffle(items)` on a copy. */
export function shuffled<T>(items: readonly T[], seed: number): T[] {
  return new PythonRandom(seed).shuffle([...items]);
}

/** The documents of one task the original evaluates: the first int(portion * n) after shuffling (eval_tttlm.py:379-380). */
export function valPortionOf<T>(shuffledDocs: readonly T[], valPortion: number): T[] {
  if (valPortion >= 1) return [...shuffledDocs];
  // Python's int() truncates toward zero; the product is computed in doubles as Python does.
  return shuffledDocs.slice(0, Math.trunc(valPortion * shuffledDocs.length));
}

export async function selectDocuments(path: string, options: SelectOptions): Promise<Map<string, EvalDocument[]>> {
  if (!(options.worldSize >= 1) || !(options.rank >= 0 && options.rank < options.worldSize)) {
    throw new Error(`--rank ${options.rank} must be in [0, --world-size ${options.worldSize})`);
  }
  const byTask = new Map<string, EvalDocument[]>();
  const present = new Set<string>(); // every task of the file, for the message when one asked for is not there
  for await (const record of readDocuments(path, { onBadLine: 'skip', maxLineBytes: options.maxLineBytes })) {
    const task = taskName(record.document.meta?.pile_set_name);
    present.add(task);
    if (options.tasks !== 'pile_all' && !options.tasks.includes(task)) continue;
    const docs = byTask.get(task) ?? byTask.set(task, []).get(task)!;
    docs.push({ task, id: record.id, text: record.document.text });
  }
  if (options.tasks !== 'pile_all') {
    const missing = options.tasks.filter((t) => !byTask.has(t));
    if (missing.length > 0) throw new Error(`${path} has no documents of task(s) ${missing.join(', ')} (tasks there: ${[...present].sort().join(', ') || 'none: the file holds no documents'})`);
  }
  const out = new Map<string, EvalDocument[]>();
  for (const [task, docs] of [...byTask].sort(([a], [b]) => a.localeCompare(b))) {
    const portion = valPortionOf(shuffled(docs, options.seed), options.valPortion);
    const mine = portion.filter((_, i) => i % options.worldSize === options.rank);
    out.set(task, options.limit === undefined ? mine : mine.slice(0, options.limit));
  }
  return out;
}
