// A loaded harness task: its documents, doc_to_text / doc_to_target /
// doc_to_choice with the harness's semantics, the few-shot context of each
// evaluation document, and the requests that score it. Transcribes
// lm_eval/api/task.py (ConfigurableTask, lm-evaluation-harness 0.4.13):
// doc_to_text :1200, doc_to_target :1236, doc_to_choice :1282,
// fewshot_context :933 and build_qa_turn :1044, construct_requests :1362.
import { readFileSync } from 'node:fs';
import { PythonRandom } from '../python-random.js';
import { harnessFunction } from './harness-functions.js';
import { literalEval } from './python-literal.js';
import { loadTaskConfig, type Field, type FunctionRef, type TaskConfig } from './task-config.js';
import { renderTemplate } from './template.js';

export type Doc = Record<string, unknown>;

/** The few-shot sampler's seed: simple_evaluate's fewshot_random_seed (lm_eval/defaults.py DEFAULT_OTHER_SEED). */
export const HARNESS_FEWSHOT_SEED = 1234;

/** One request of a document: what the model is asked. */
export type TaskRequest =
  | { type: 'loglikelihood'; context: string; continuation: string }
  | { type: 'loglikelihood_rolling'; text: string }
  | { type: 'generate_until'; context: string; until: string[]; maxGenToks: number };

/** One evaluation document, ready to score: its few-shot context (the TTT-NN query) and requests. */
export interface TaskDocument {
  id: number;
  doc: Doc;
  context: string;
  requests: TaskRequest[];
}

export class HarnessTask {
  readonly config: TaskConfig;
  readonly name: string;
  private readonly splits = new Map<string, Doc[]>();
  /** Field names of the evaluation documents (datasets' features): a doc_to_* string naming one is that field. */
  private readonly features: Set<string>;

  constructor(config: TaskConfig) {
    this.config = config;
    this.name = config.task;
    // Every !function is resolved now, so that a YAML naming one tttnn lacks is refused before anything runs.
    for (const [field, value] of Object.entries({ process_docs: config.process_docs, doc_to_text: config.doc_to_text, doc_to_target: config.doc_to_target, doc_to_choice: config.doc_to_choice })) {
      if (isFunction(value)) harnessFunction(value.function, `${config.file}: ${field}`);
    }
    this.features = new Set(this.evalDocs().flatMap((d) => Object.keys(d)));
    if (this.evalDocs().length === 0) throw new Error(`${config.file}: the evaluation split has no documents`);
  }

  static load(nameOrPath: string, dataDir?: string): HarnessTask {
    return new HarnessTask(loadTaskConfig(nameOrPath, dataDir));
  }

  /** A split's documents in file order, with process_docs applied. */
  split(name: string): Doc[] {
    let docs = this.splits.get(name);
    if (docs) return docs;
    const files = this.config.dataFiles[name];
    if (!files) throw new Error(`${this.config.file}: no data for split "${name}" (data has: ${Object.keys(this.config.dataFiles).join(', ') || 'nothing'})`);
    docs = files.flatMap(readDocs);
    const keys = [...new Set(docs.flatMap((d) => Object.keys(d)))];
    docs = docs.map((d) => Object.fromEntries(keys.map((k) => [k, d[k] ?? null]))); // datasets fills a missing column with None
    const process = this.config.process_docs;
    if (process) {
      const fn = harnessFunction(process.function, `${this.config.file}: process_docs`);
      docs = docs.map((d) => fn(d) as Doc);
    }
    this.splits.set(name, docs);
    return docs;
  }

  /** eval_docs: the test split when there is one, else validation (task.py:566). */
  evalDocs(): Doc[] {
    const c = this.config;
    if (c.test_split) return this.split(c.test_split);
    if (c.validation_split) return this.split(c.validation_split);
    throw new Error(`${c.file}: needs a test_split or validation_split to evaluate`);
  }

  /** fewshot_docs (task.py:906 and :204): fewshot_split, else training, else validation, else test. */
  fewshotDocs(): Doc[] {
    const c = this.config;
    if (c.fewshot.split) return this.split(c.fewshot.split);
    if (c.training_split) return this.split(c.training_split);
    if (c.validation_split) return this.split(c.validation_split);
    if (c.test_split) return this.split(c.test_split);
    return [];
  }

  private where(field: string): string {
    return `${this.config.file}: ${field}`;
  }

  docToText(doc: Doc, field: Field | undefined = this.config.doc_to_text): string | number {
    if (typeof field === 'number') return field;
    if (typeof field === 'string') {
      if (this.features.has(field)) return doc[field] as string;
      const text = renderTemplate(field, doc, this.where('doc_to_text'));
      return isDigit(text) && this.config.doc_to_choice !== undefined ? Number(text) : text;
    }
    if (isFunction(field)) return harnessFunction(field.function, this.where('doc_to_text'))(doc) as string;
    throw new Error(`${this.where('doc_to_text')}: must be a template, a field name, an integer or !function`);
  }

  docToTarget(doc: Doc, field: Field | undefined = this.config.doc_to_target): string | number | unknown[] {
    if (typeof field === 'number') return field;
    if (typeof field === 'string') {
      if (this.features.has(field)) return doc[field] as string | number;
      const text = renderTemplate(field, doc, this.where('doc_to_target'));
      if (isDigit(text) && this.config.doc_to_choice !== undefined) return Number(text);
      if (text.length >= 2 && text.startsWith('[') && text.endsWith(']')) {
        try {
          return literalEval(text) as unknown[];
        } catch {
          return text;
        }
      }
      return text;
    }
    if (Array.isArray(field)) return field;
    if (isFunction(field)) return harnessFunction(field.function, this.where('doc_to_target'))(doc) as string | number;
    throw new Error(`${this.where('doc_to_target')}: must be a template, a field name, a list or !function`);
  }

  docToChoice(doc: Doc, field: Field | undefined = this.config.doc_to_choice): string[] {
    let choices: unknown;
    if (typeof field === 'string') choices = this.features.has(field) ? doc[field] : literalEval(renderTemplate(field, doc, this.where('doc_to_choice')));
    else if (Array.isArray(field)) choices = field;
    else if (isFunction(field)) choices = harnessFunction(field.function, this.where('doc_to_choice'))(doc);
    else if (field && typeof field === 'object') choices = Object.values(field);
    else throw new Error(`${this.where('doc_to_choice')}: required by ${this.config.output_type}`);
    if (!Array.isArray(choices) || choices.some((c) => typeof c !== 'string')) throw new Error(`${this.where('doc_to_choice')}: must give a list of strings, got ${JSON.stringify(choices)}`);
    return choices as string[];
  }

  /**
   * The few-shot context of every evaluation document, in the harness's
   * order: one sampler seeded once (set_fewshot_seed) draws for each
   * document in turn (build_all_requests), so a document's examples depend
   * on the documents before it; computed for all of them so that a subset,
   * a rank or a resumed run gets the same contexts.
   */
  documents(numFewshot: number | undefined, seed = HARNESS_FEWSHOT_SEED): TaskDocument[] {
    const shots = numFewshot ?? this.config.num_fewshot ?? 0;
    if (!Number.isInteger(shots) || shots < 0) throw new Error(`--num-fewshot must be a non-negative integer, got ${shots}`);
    const rnd = new PythonRandom(seed);
    const pool = shots > 0 ? this.fewshotDocs() : [];
    if (shots > 0 && pool.length === 0) throw new Error(`${this.config.file}: num_fewshot ${shots} needs few-shot documents (fewshot_split, training_split or validation_split)`);
    // The harness passes the evaluation document to be left out when the
    // few-shot split is the test split, which also holds when both are unset (task.py:987).
    const excludeSelf = this.config.fewshot.split === this.config.test_split;
    return this.evalDocs().map((doc, id) => {
      const examples = shots > 0 ? this.sample(rnd, pool, shots, excludeSelf ? doc : undefined) : [];
      const context = this.fewshotContext(doc, examples);
      return { id, doc, context, requests: this.requests(doc, context) };
    });
  }

  /** ContextSampler.sample / FirstNSampler.sample (lm_eval/api/samplers.py). */
  private sample(rnd: PythonRandom, pool: Doc[], n: number, evalDoc: Doc | undefined): Doc[] {
    if (this.config.fewshot.sampler === 'first_n') {
      const kept = evalDoc ? pool.filter((d) => !jsonEqual(d, evalDoc)) : pool;
      if (n > kept.length) throw new Error(`${this.config.file}: ${n} few-shot examples requested, ${kept.length} available`);
      return kept.slice(0, n);
    }
    if (!evalDoc) return rnd.sample(pool, n);
    let res = rnd.sample(pool, n + 1).filter((d) => !jsonEqual(d, evalDoc)).slice(0, n);
    if (res.length < n) res = rnd.sample(pool.filter((d) => !jsonEqual(d, evalDoc)), n);
    return res;
  }

  /** fewshot_context without chat templates: description, then each example's question, target delimiter, answer and few-shot delimiter, then the question. */
  fewshotContext(doc: Doc, examples: Doc[]): string {
    const f = this.config.fewshot;
    let out = this.config.description ? renderOrField(this.config.description, doc, this.where('description')) : '';
    for (const example of examples) {
      const q = this.docToText(example, f.doc_to_text);
      if (typeof q !== 'string') throw new Error(`${this.where('doc_to_text')}: returns an index (multiple inputs, as winogrande); tttnn does not support such tasks`);
      const c = f.doc_to_choice !== undefined ? this.docToChoice(example, f.doc_to_choice) : undefined;
      const a = this.docToTarget(example, f.doc_to_target);
      const hasAnswer = a !== undefined && a !== null && a !== '';
      out += q + (hasAnswer ? f.target_delimiter : '');
      if (hasAnswer) {
        // A boolean label indexes the choices as Python's bool (an int) does.
        const index = typeof a === 'boolean' ? Number(a) : a;
        const answer = c && typeof index === 'number' ? c[index] : Array.isArray(a) ? a[0] : a;
        if (typeof answer !== 'string') throw new Error(`${this.where('doc_to_target')}: the answer of a few-shot example is not a string (${JSON.stringify(a)})`);
        out += answer + f.fewshot_delimiter;
      }
    }
    const q = this.docToText(doc);
    if (typeof q !== 'string') throw new Error(`${this.where('doc_to_text')}: returns an index (multiple inputs, as winogrande); tttnn does not support such tasks`);
    return out + q;
  }

  /** construct_requests without chat templates. */
  requests(doc: Doc, context: string): TaskRequest[] {
    const c = this.config;
    switch (c.output_type) {
      case 'loglikelihood': {
        const target = this.docToTarget(doc);
        if (typeof target !== 'string') throw new Error(`${this.where('doc_to_target')}: a loglikelihood task's target must be a string, got ${JSON.stringify(target)}`);
        return [{ type: 'loglikelihood', context, continuation: target }];
      }
      case 'loglikelihood_rolling': {
        const target = this.docToTarget(doc);
        if (typeof target !== 'string') throw new Error(`${this.where('doc_to_target')}: a loglikelihood_rolling task's target must be a string`);
        return [{ type: 'loglikelihood_rolling', text: target }];
      }
      case 'multiple_choice':
        return this.docToChoice(doc).map((choice) => ({ type: 'loglikelihood', context, continuation: `${c.target_delimiter}${choice}` }));
      case 'generate_until':
        return [{ type: 'generate_until', context, until: c.generation_kwargs!.until, maxGenToks: c.generation_kwargs!.max_gen_toks }];
    }
  }
}

function isFunction(field: unknown): field is FunctionRef {
  return typeof field === 'object' && field !== null && !Array.isArray(field) && typeof (field as FunctionRef).function === 'string';
}

/** Python's str.isdigit on what templates render (ASCII and other decimal digits). */
function isDigit(s: string): boolean {
  return /^\p{Nd}+$/u.test(s);
}

function renderOrField(field: string, doc: Doc, where: string): string {
  return field in doc ? String(doc[field]) : renderTemplate(field, doc, where);
}

/** Python's == on JSON values (dicts by keys and values, lists in order; 1 == 1.0 == True). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === 'boolean' || typeof b === 'boolean') return Number(a) === Number(b) && typeof a !== 'string' && typeof b !== 'string' && a !== null && b !== null;
  if (Array.isArray(a) || Array.isArray(b)) return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k) => k in b && jsonEqual((a as Doc)[k], (b as Doc)[k]));
  }
  return false;
}

/** A data file: JSON lines, or one JSON array of objects. */
function readDocs(file: string): Doc[] {
  const text = readFileSync(file, 'utf8');
  const docs: Doc[] = [];
  if (text.trimStart().startsWith('[')) {
    const all = JSON.parse(text) as unknown;
    if (!Array.isArray(all)) throw new Error(`${file}: not a JSON array of objects`);
    all.forEach((d, i) => docs.push(checkDoc(d, `${file}: item ${i}`)));
    return docs;
  }
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new Error(`${file}:${i + 1}: not JSON (${(error as Error).message})`);
    }
    docs.push(checkDoc(value, `${file}:${i + 1}`));
  });
  return docs;
}

function checkDoc(value: unknown, where: string): Doc {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Error(`${where}: a document is a JSON object`);
  return value as Doc;
}
