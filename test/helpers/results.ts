// Reads the result lines an evaluation wrote for one method: every
// <results-dir>/<method>/*.jsonl line, as the runner's own DocumentResult type.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DocumentResult } from '../../src/eval/results.js';

export function readResultLines(resultsDir: string, method: string): DocumentResult[] {
  const methodDir = join(resultsDir, method);
  return readdirSync(methodDir)
    .filter((f) => f.endsWith('.jsonl'))
    .flatMap((f) => readFileSync(join(methodDir, f), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as DocumentResult));
}
