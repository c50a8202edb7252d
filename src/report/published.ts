// The original's published results (its repository's results/ directory),
// read so the report can overlay them on our numbers:
//   <dir>/<run>/aggregate_stats.pth     torch.save of {task: [metrics after 0..k neighbours]},
//                                       written by process_results.py:387 (pile_all included, with
//                                       bits_per_byte, training_loss and training_cost only)
//   <dir>/baseline_<method>/comparison.txt       lines `task before after`
//   <dir>/baseline_<method>/baseline_<model>.txt lines `task value` (the baseline's result)
// The .pth files are read by the safe unpickler (io/torch-values.ts): no code is run.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadTorchValues } from '../io/torch-values.js';

/** One point of a published curve: the metrics the original stored (NaN where it stored NaN). */
export interface PublishedPoint {
  bits_per_byte?: number;
  byte_perplexity?: number;
  word_perplexity?: number;
  training_loss?: number;
  training_cost?: number;
}

export interface PublishedSource {
  /** "published <run directory>" (or "published <directory>/<file stem>" for a baseline's value list). */
  label: string;
  file: string;
  /** The method it is comparable with: baseline_<m> -> m; a curve over neighbours -> ttt. */
  method: string;
  /** aggregate_stats.pth: per task (and pile_all) the metrics after 0..k neighbours. */
  curves?: Map<string, PublishedPoint[]>;
  /** comparison.txt / baseline_*.txt: bits per byte per task (and pile_all where listed), before where given. */
  beforeAfter?: Map<string, { before?: number; after: number }>;
}

const METRICS = ['bits_per_byte', 'byte_perplexity', 'word_perplexity', 'training_loss', 'training_cost'] as const;

/** aggregate_stats.pth -> task -> points; anything not shaped like the original's file is an error naming it. */
export function readAggregateStats(path: string): Map<string, PublishedPoint[]> {
  const value = loadTorchValues(path);
  if (!(value instanceof Map)) throw new Error(`${path}: expected a dict of task -> list of metrics`);
  const out = new Map<string, PublishedPoint[]>();
  for (const [task, points] of value) {
    if (typeof task !== 'string' || !Array.isArray(points)) throw new Error(`${path}: expected a dict of task -> list of metrics`);
    out.set(
      task,
      points.map((p, i) => {
        if (!(p instanceof Map)) throw new Error(`${path}: ${task}[${i}] is not a dict of metrics`);
        const metrics = p as Map<unknown, unknown>;
        const point: PublishedPoint = {};
        for (const metric of METRICS) {
          const v = metrics.get(metric);
          if (typeof v === 'number') point[metric] = v;
        }
        return point;
      }),
    );
  }
  return out;
}

/** Lines `task v1 [v2]` of a published text file; other lines are reported through `warn`. */
function readValueLines(path: string, warn: (line: string) => void): Map<string, { before?: number; after: number }> {
  const out = new Map<string, { before?: number; after: number }>();
  readFileSync(path, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      const fields = line.trim().split(/\s+/);
      if (fields.length === 1 && fields[0] === '') return;
      const numbers = fields.slice(1).map(Number);
      if ((numbers.length === 1 || numbers.length === 2) && numbers.every(Number.isFinite)) {
        out.set(fields[0] as string, numbers.length === 2 ? { before: numbers[0], after: numbers[1] as number } : { after: numbers[0] as number });
      } else {
        warn(`${path}:${i + 1}: expected "task value" or "task before after"; line skipped`);
      }
    });
  return out;
}

/** Every published source under `dir`, in directory order. */
export function readPublished(dir: string, warn: (line: string) => void = () => {}): PublishedSource[] {
  if (!existsSync(dir)) throw new Error(`${dir}: no such published results directory`);
  const sources: PublishedSource[] = [];
  for (const run of readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort()) {
    const stats = join(dir, run, 'aggregate_stats.pth');
    // The original's TTT-NN runs (eval-<model>-pile_all-...): a curve over neighbours.
    if (existsSync(stats)) sources.push({ label: `published ${run}`, file: stats, method: 'ttt', curves: readAggregateStats(stats) });
    const baseline = /^baseline_(.+)$/.exec(run)?.[1];
    if (baseline === undefined) continue;
    const comparison = join(dir, run, 'comparison.txt');
    if (existsSync(comparison)) sources.push({ label: `published ${run}`, file: comparison, method: baseline, beforeAfter: readValueLines(comparison, warn) });
    for (const file of readdirSync(join(dir, run)).filter((f) => /^baseline_.*\.txt$/.test(f)).sort()) {
      sources.push({ label: `published ${run}/${file.replace(/\.txt$/, '')}`, file: join(dir, run, file), method: baseline, beforeAfter: readValueLines(join(dir, run, file), warn) });
    }
  }
  if (sources.length === 0) throw new Error(`${dir}: no published results (expected <run>/aggregate_stats.pth or baseline_<method>/comparison.txt)`);
  return sources;
}

/** Before (no neighbour) and after (the last point) bits per byte of a task, where the source has them. */
export function publishedBeforeAfter(source: PublishedSource, task: string): { before?: number; after?: number } | undefined {
  const curve = source.curves?.get(task);
  if (curve && curve.length > 0) return { before: curve[0]?.bits_per_byte, after: curve[curve.length - 1]?.bits_per_byte };
  return source.beforeAfter?.get(task);
}
