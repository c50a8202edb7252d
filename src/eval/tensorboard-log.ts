// An evaluation's TensorBoard scalars, one event file per process (rank):
//   documents/<task>/<doc_id>         the document's bits per byte at each
//                                     point of its curve (step = neighbours
//                                     trained on; interpolation: alpha index)
//   pile_all/bits_per_byte_before     running pile_all over the documents this
//   pile_all/bits_per_byte_after      process has evaluated (step = how many),
//   tasks/<task>/bits_per_byte_after  and per task: the report's aggregation
//                                     (sums over documents, tasks weighted as
//                                     data/tasks.ts taskWeights) so far
// "after" is the last point of each curve (interpolation: every alpha's
// best is the report's business; here the last alpha). The report remains
// the place for final numbers: these curves are for watching a run.
import { taskWeights } from '../data/tasks.js';
import { EventFileWriter } from '../io/tensorboard-events.js';
import type { DocumentResult } from './results.js';

interface TaskSums {
  bytes: number;
  before: number;
  after: number;
}

export class EvalEventLog {
  private readonly writer: EventFileWriter;
  private readonly sums = new Map<string, TaskSums>();
  private documents = 0;

  constructor(logdir: string) {
    this.writer = new EventFileWriter(logdir);
  }

  get path(): string {
    return this.writer.path;
  }

  add(result: DocumentResult): void {
    const curve = result.loglikelihoods ?? result.alpha_loglikelihoods;
    if (!curve || curve.length === 0) return; // a failed retrieval: no curve
    const bits = (ll: number): number => -ll / result.bytes / Math.LN2;
    curve.forEach((ll, step) => this.writer.scalars(step, { [`documents/${result.task}/${result.doc_id}`]: bits(ll) }));
    const sums = this.sums.get(result.task) ?? this.sums.set(result.task, { bytes: 0, before: 0, after: 0 }).get(result.task)!;
    sums.bytes += result.bytes;
    sums.before += curve[0]!;
    sums.after += curve.at(-1)!;
    this.documents++;
    const weights = taskWeights(Object.fromEntries([...this.sums].map(([task, s]) => [task, s.bytes])));
    const pileAll = (which: 'before' | 'after'): number => {
      let sum = 0;
      let total = 0;
      for (const [task, s] of this.sums) {
        const w = weights[task] ?? 0;
        sum += (w * -s[which]) / s.bytes / Math.LN2;
        total += w;
      }
      return total === 0 ? NaN : sum / total;
    };
    this.writer.scalars(this.documents, {
      'pile_all/bits_per_byte_before': pileAll('before'),
      'pile_all/bits_per_byte_after': pileAll('after'),
      [`tasks/${result.task}/bits_per_byte_after`]: -sums.after / sums.bytes / Math.LN2,
    });
  }

  close(): void {
    this.writer.close();
  }
}
