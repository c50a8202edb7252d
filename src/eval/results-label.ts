// The results subdirectory of a configuration: the method for the
// original's selection, `<method>+lora` for LoRA training, and `<method>+<selection>` (with `-alpha<a>` for
// adaptive SIFT, `@<S>s` for a budget) otherwise, so that a report compares
// them side by side. Only written here: the report reads a directory's
// method, selection and budget from its result lines, never from its name.
export function resultsLabel(s: { method: string; selection: string; siftAlpha?: number; budgetSeconds?: number; trainable?: string }): string {
  let label = s.method;
  if (s.trainable === 'lora') label += '+lora';
  if (s.selection !== 'knn') label += `+${s.selection}`;
  if (s.siftAlpha !== undefined) label += `-alpha${s.siftAlpha}`;
  if (s.budgetSeconds !== undefined) label += `@${s.budgetSeconds}s`;
  return label;
}
