// Small local data sets in the columns of the Hugging Face datasets the
// shipped task YAMLs (tasks/) read — SuperGLUE's boolq, cb, copa, rte, wic,
// wsc.fixed, multirc, LAMBADA, HellaSwag — written deterministically from
// a word list: a few dozen documents per task, laid out as --task-data
// expects (<dir>/<task>/<split>.jsonl).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { seededRandom } from '../../src/data/seeded-random.js';

const WORDS = ('the a cat dog bird sat ran flew on under over mat tree house river big small red blue green old new happy sad ' +
  'quickly slowly because then when she he they it was is were saw found took gave long short night day water fire stone').split(' ');

export const TASK_DATA_SPLITS: Record<string, string[]> = {
  boolq: ['train', 'validation'], cb: ['train', 'validation'], copa: ['train', 'validation'], rte: ['train', 'validation'],
  wic: ['train', 'validation'], wsc: ['train', 'validation'], multirc: ['train', 'validation'], lambada_openai: ['test'],
  lambada_standard: ['validation', 'test'], hellaswag: ['train', 'validation'],
};

/** Writes every task's splits under `dir`; `perSplit` documents each. */
export function writeTaskData(dir: string, perSplit = 24, seed = 7): void {
  const r = seededRandom(seed);
  const int = (n: number): number => Math.floor(r() * n);
  const word = (): string => WORDS[int(WORDS.length)]!;
  const words = (lo: number, hi: number): string[] => Array.from({ length: lo + int(hi - lo + 1) }, word);
  const sentence = (lo = 3, hi = 8): string => {
    const w = words(lo, hi).join(' ');
    return w.charAt(0).toUpperCase() + w.slice(1) + '.';
  };
  const make: Record<string, (i: number) => Record<string, unknown>> = {
    boolq: (i) => ({ question: words(3, 6).join(' '), passage: `${sentence()} ${sentence()}`, idx: i, label: int(2) }),
    cb: (i) => ({ premise: sentence(), hypothesis: words(3, 6).join(' '), idx: i, label: int(3) }),
    copa: (i) => ({ premise: sentence(), choice1: sentence(2, 5), choice2: sentence(2, 5), question: int(2) ? 'cause' : 'effect', idx: i, label: int(2) }),
    rte: (i) => ({ premise: sentence(), hypothesis: sentence(2, 5), idx: i, label: int(2) }),
    wic: (i) => {
      const s1 = words(4, 8);
      const at = int(s1.length);
      const start1 = s1.slice(0, at).join(' ').length + (at > 0 ? 1 : 0);
      const s2 = [...words(2, 4), s1[at]!, ...words(1, 3)];
      const start2 = s2.slice(0, -1).join(' ').length - s2.at(-2)!.length;
      return { word: s1[at], sentence1: s1.join(' '), sentence2: s2.join(' '), start1, start2, end1: start1 + s1[at]!.length, end2: start2 + s1[at]!.length, idx: i, label: int(2) };
    },
    wsc: (i) => {
      const w = words(6, 10);
      const span2 = 1 + int(w.length - 2);
      w[span2] = ['he', 'she', 'it', 'they'][int(4)]!;
      return { text: w.join(' ') + ' .', span1_index: 0, span2_index: span2, span1_text: w[0], span2_text: w[span2], idx: i, label: int(2) };
    },
    multirc: (i) => ({ paragraph: `${sentence()} ${sentence()}`, question: words(3, 6).join(' ') + '?', answer: words(1, 4).join(' '), idx: { paragraph: i, question: 0, answer: 0 }, label: int(2) }),
    lambada_openai: () => ({ text: words(8, 16).join(' ') }),
    lambada_standard: () => ({ text: words(8, 16).join(' '), domain: null }),
    hellaswag: (i) => ({
      ind: i, activity_label: word(), ctx_a: sentence(), ctx_b: words(2, 4).join(' '), ctx: '', endings: [0, 1, 2, 3].map(() => words(2, 7).join(' ') + (int(3) === 0 ? ' [title] x' : '')),
      source_id: `s${i}`, split: 'val', split_type: 'indomain', label: String(int(4)),
    }),
  };
  for (const [task, splits] of Object.entries(TASK_DATA_SPLITS)) {
    mkdirSync(join(dir, task), { recursive: true });
    for (const split of splits) {
      const docs = Array.from({ length: perSplit }, (_, i) => make[task]!(i));
      writeFileSync(join(dir, task, `${split}.jsonl`), docs.map((d) => JSON.stringify(d)).join('\n') + '\n');
    }
  }
}
