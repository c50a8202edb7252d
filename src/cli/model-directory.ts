// What `--model`, `--embedder` and `--adapter` accept: a model (or PEFT
// adapter) directory as it is, or the output directory `tttnn train --out`
// left (OUT/checkpoint-<step>/ ..., log.jsonl), which stands for its newest
// complete checkpoint. "Complete" is the trainer's own marker
// (train/checkpoints.ts: checkpoint-complete.json, each file's size), the
// same test a resume applies, so a checkpoint a crash left half-written is
// never the one scored. The choice is said on stderr: which checkpoint, and
// which newer ones were passed over and why.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { latestCheckpoint } from '../train/checkpoints.js';

/** What the directory must hold to be used as it is: a model's config.json, or a PEFT adapter's adapter_config.json. */
export type DirectoryKind = 'model' | 'adapter';

const MARKER_FILE: Record<DirectoryKind, string> = { model: 'config.json', adapter: 'adapter_config.json' };

/**
 * The directory to load for `flag` (e.g. `--model`): `dir` itself when it
 * holds a final model (or adapter), else the newest complete checkpoint-<step>
 * under it. `say` hears which checkpoint was taken and what was skipped.
 */
export function resolveModelDirectory(dir: string, flag: string, kind: DirectoryKind, say: (line: string) => void = (line) => console.error(line)): string {
  if (!existsSync(dir)) throw new Error(`${flag} ${dir}: no such directory`);
  if (!statSync(dir).isDirectory()) throw new Error(`${flag} ${dir}: not a directory (expected a ${kind} directory or a tttnn train output directory)`);
  const marker = MARKER_FILE[kind];
  if (existsSync(join(dir, marker))) return dir;
  const skipped: string[] = [];
  const checkpoint = latestCheckpoint(dir, (skippedDir, why) => skipped.push(`${skippedDir} (${why})`));
  const hasCheckpoints = readdirSync(dir).some((name) => /^checkpoint-\d+$/.test(name));
  if (checkpoint === null) {
    throw new Error(
      hasCheckpoints
        ? `${flag} ${dir}: a tttnn train output directory with no complete checkpoint: ${skipped.join('; ')}; resume the training (the same tttnn train command) or pass a checkpoint directory`
        : `${flag} ${dir}: neither a ${kind} directory (no ${marker}) nor a tttnn train output directory (no checkpoint-<step>/)`,
    );
  }
  if (!existsSync(join(checkpoint, marker))) {
    const other = kind === 'model' ? 'a LoRA adapter (pass it with --adapter, the base model with --model)' : 'a whole model, not a LoRA adapter (pass it with --model)';
    throw new Error(`${flag} ${dir}: its newest complete checkpoint ${checkpoint} has no ${marker}: it holds ${other}`);
  }
  for (const line of skipped) say(`${flag}: skipping ${line}: incomplete`);
  say(`${flag}: ${dir} is a tttnn train output directory; using its newest complete checkpoint ${checkpoint}`);
  return checkpoint;
}
