// How many points of one curve the report draws. A run with 200k neighbours
// per document (issue 35) made a 395 MB HTML page and took 276 s and 4.8 GB
// to render every point; no reader sees more than a few hundred points on a
// 420-pixel-wide line. Longer curves are drawn at evenly spaced steps (the
// first and the last always among them) and the plot and table say so; the
// summary's JSON and CSV keep every point.

/** The most points drawn per line of a plot, or printed per curve table. */
export const MAX_PLOTTED_POINTS = 200;

/** The steps 0..length-1 to draw: all of them up to `max`, else `max` evenly spaced ones from the first to the last. */
export function plottedSteps(length: number, max = MAX_PLOTTED_POINTS): number[] {
  if (length <= max) return Array.from({ length }, (_, i) => i);
  const steps = Array.from({ length: max }, (_, j) => Math.round((j * (length - 1)) / (max - 1)));
  return [...new Set(steps)];
}

/** `values` at plottedSteps, each with its step. */
export function plotted<T>(values: readonly T[], max = MAX_PLOTTED_POINTS): { step: number; value: T }[] {
  return plottedSteps(values.length, max).map((step) => ({ step, value: values[step]! }));
}

/** What a plot's or table's title adds when some curve was longer than what is drawn (empty otherwise). */
export function thinnedNote(longest: number, max = MAX_PLOTTED_POINTS): string {
  return longest > max ? ` (${max} evenly spaced of ${longest} steps shown; aggregates.json holds every one)` : '';
}
