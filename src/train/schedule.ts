// Learning-rate schedules, all with linear warm-up from 0 over `warmup` steps.
//   constant  the peak rate throughout
//   cosine    cosine decay from the peak to `minRatio` x peak at maxSteps
//   step      the original's: multiply by `factor` every `everySequences` sequences seen

export type ScheduleKind = 'constant' | 'cosine' | 'step';

export interface ScheduleOptions {
  kind: ScheduleKind;
  peak: number;
  warmup: number;
  maxSteps: number;
  batchSize: number;
  /** step: sequences between drops (original: 1.5M). */
  everySequences?: number;
  /** step: multiplier at each drop (original: 0.1). */
  factor?: number;
  /** cosine: final rate as a fraction of the peak (default 0.1). */
  minRatio?: number;
}

/** The learning rate for 0-based `step`. */
export function learningRate(step: number, o: ScheduleOptions): number {
  if (o.warmup > 0 && step < o.warmup) return (o.peak * (step + 1)) / o.warmup;
  switch (o.kind) {
    case 'constant':
      return o.peak;
    case 'cosine': {
      const span = Math.max(1, o.maxSteps - o.warmup);
      const progress = Math.min(1, (step - o.warmup) / span);
      const min = o.minRatio ?? 0.1;
      return o.peak * (min + (1 - min) * 0.5 * (1 + Math.cos(Math.PI * progress)));
    }
    case 'step': {
      const drops = Math.floor((step * o.batchSize) / (o.everySequences ?? 1_500_000));
      return o.peak * (o.factor ?? 0.1) ** drops;
    }
  }
}
