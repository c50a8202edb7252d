// Quality gates: what must hold before a TTT-NN number means anything.
//   - the language model has learned: its validation loss is clearly below
//     the unigram baseline's cross-entropy (train/unigram.ts);
//   - the encoder retrieves: the neighbours of held-out documents come from
//     the document's own domain far more often than documents drawn at random;
//   - nothing leaks: no neighbour is the test document itself.
// The demo measures them and writes quality-gates.json into the results
// directory; the report shows them above every table of numbers.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface LanguageModelGate {
  /** Validation loss, nats per token. */
  valLoss: number;
  /** The unigram baseline's cross-entropy on the same tokens. */
  unigram: number;
  steps: number;
  seconds: number;
  /** Why training stopped: the quality target, the time cap, or the step budget. */
  stopReason: string;
  target?: number;
}

export interface RetrievalGate {
  queries: number;
  k: number;
  /** Share of all neighbours that come from their query's domain (mean precision@k, a neighbour being relevant when it shares the domain). */
  precisionAtK: number;
  /** Share of queries whose nearest neighbour shares their domain. */
  precisionAt1: number;
  /** The same share for documents drawn uniformly from the index: the mean over queries of their domain's share of the index. */
  chance: number;
  /** Neighbours identical to their query document (same text, or distance 0). */
  duplicates: number;
  queriesWithDuplicates: number;
}

export interface QualityGates {
  languageModel?: LanguageModelGate;
  retrieval?: RetrievalGate;
}

/** A gate's verdict, and the rule it applies (printed beside it). */
export interface GateCheck {
  name: string;
  measured: string;
  reference: string;
  passed: boolean;
  rule: string;
}

export interface RetrievalQuery {
  /** The query document's domain (task). */
  task: string;
  /** Domains of its neighbours, nearest first. */
  neighborTasks: readonly string[];
  /** How many of its neighbours are identical to it. */
  duplicates: number;
}

/** Retrieval quality of `queries` against an index whose documents have domains in the proportions `indexShares` (task -> share, summing to 1). */
export function retrievalGate(queries: readonly RetrievalQuery[], indexShares: ReadonlyMap<string, number>): RetrievalGate {
  if (queries.length === 0) throw new Error('no retrieval queries to measure');
  let relevant = 0;
  let retrieved = 0;
  let top = 0;
  let chance = 0;
  let duplicates = 0;
  let queriesWithDuplicates = 0;
  for (const q of queries) {
    relevant += q.neighborTasks.filter((t) => t === q.task).length;
    retrieved += q.neighborTasks.length;
    if (q.neighborTasks[0] === q.task) top++;
    chance += indexShares.get(q.task) ?? 0;
    duplicates += q.duplicates;
    if (q.duplicates > 0) queriesWithDuplicates++;
  }
  return {
    queries: queries.length,
    k: queries.reduce((most, q) => Math.max(most, q.neighborTasks.length), -Infinity),
    precisionAtK: retrieved === 0 ? 0 : relevant / retrieved,
    precisionAt1: top / queries.length,
    chance: chance / queries.length,
    duplicates,
    queriesWithDuplicates,
  };
}

/**
 * Validation loss at most this share of the unigram baseline's counts as
 * "clearly below" (on the demo's corpus, 5 % is about 0.3 nats per token,
 * over ten times the standard error of a validation loss on ~30k tokens).
 */
export const LM_GATE_RATIO = 0.95;
/** Retrieval precision must be at least this many times chance. */
export const RETRIEVAL_GATE_FACTOR = 3;

export function checkGates(g: QualityGates): GateCheck[] {
  const checks: GateCheck[] = [];
  const lm = g.languageModel;
  if (lm) {
    checks.push({
      name: 'language model: validation loss (nats/token)',
      measured: `${lm.valLoss.toFixed(3)} after ${lm.steps} steps, ${Math.round(lm.seconds)} s (${lm.stopReason})`,
      reference: `unigram ${lm.unigram.toFixed(3)}`,
      passed: lm.valLoss <= LM_GATE_RATIO * lm.unigram,
      rule: `at most ${LM_GATE_RATIO} x unigram`,
    });
  }
  const r = g.retrieval;
  if (r) {
    const enough = (p: number): boolean => p >= Math.min(1, RETRIEVAL_GATE_FACTOR * r.chance);
    checks.push({
      name: `retrieval: neighbours from the query's domain (precision@${r.k})`,
      measured: `${r.precisionAtK.toFixed(3)} (${r.queries} held-out documents)`,
      reference: `random ${r.chance.toFixed(3)}`,
      passed: enough(r.precisionAtK),
      rule: `at least ${RETRIEVAL_GATE_FACTOR} x random`,
    });
    checks.push({
      name: "retrieval: nearest neighbour from the query's domain (precision@1)",
      measured: r.precisionAt1.toFixed(3),
      reference: `random ${r.chance.toFixed(3)}`,
      passed: enough(r.precisionAt1),
      rule: `at least ${RETRIEVAL_GATE_FACTOR} x random`,
    });
    checks.push({
      name: 'leakage: neighbours identical to the test document',
      measured: `${r.duplicates} of ${r.queries * r.k} (${r.queriesWithDuplicates} documents)`,
      reference: '0',
      passed: r.duplicates === 0,
      rule: 'none',
    });
  }
  return checks;
}

export const GATES_FILE = 'quality-gates.json';

export function writeGates(resultsDir: string, gates: QualityGates): void {
  writeFileSync(join(resultsDir, GATES_FILE), `${JSON.stringify(gates, null, 1)}\n`);
}

/** The gates stored beside a run's results, if any. */
export function readGates(resultsDir: string): QualityGates | undefined {
  const path = join(resultsDir, GATES_FILE);
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as QualityGates;
  } catch (error) {
    throw new Error(`${path}: ${(error as Error).message}`);
  }
}
