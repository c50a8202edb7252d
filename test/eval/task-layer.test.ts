// The task layer's pieces against their Python peers and on bad input:
// ast.literal_eval of rendered doc_to_choice templates (CPython itself),
// Jinja rendering with the harness's keep_trailing_newline and
// StrictUndefined, and task YAMLs refused by field with the fix named.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { literalEval } from '../../src/eval/tasks/python-literal.js';
import { renderTemplate } from '../../src/eval/tasks/template.js';
import { loadTaskConfig } from '../../src/eval/tasks/task-config.js';
import { HarnessTask } from '../../src/eval/tasks/task.js';
import { runPython } from '../helpers/python.js';

test('literalEval equals ast.literal_eval on lists of strings, numbers and constants', () => {
  const sources = [
    `['''a\\nIs the answer correct? yes''', '''b\\nno''']`, `["no", "yes"]`, `('x', 'y',)`, `['it\\'s', "say \\"hi\\"", r'raw\\n']`,
    `[1, -2, 3.5, 1e3, True, False, None]`, `['caf\\xe9', '\\u00e9t\\u00e9']`, `'ab' 'cd'`, `[['nested'], []]`,
  ];
  const py = runPython<unknown[]>(String.raw`
import ast, json, sys
print(json.dumps([ast.literal_eval(s) for s in json.load(sys.stdin)]))`, sources);
  sources.forEach((s, i) => assert.deepEqual(literalEval(s), py[i], s));
  assert.throws(() => literalEval(`['a', b]`), /not a Python literal/);
  assert.throws(() => literalEval(`['unterminated]`), /unterminated string/);
});

test('templates: a trailing newline is kept, as the harness (keep_trailing_newline); a missing field is refused, as StrictUndefined', () => {
  assert.equal(renderTemplate('{{q}}\n', { q: 'x' }, 't'), 'x\n');
  assert.equal(renderTemplate("{{text.split(' ')[:-1]|join(' ')}}", { text: 'a b c' }, 't'), 'a b');
  assert.equal(renderTemplate('{{s[start:end]}}', { s: 'hello world', start: 6, end: 11 }, 't'), 'world');
  assert.throws(() => renderTemplate('{{passage}} {{question}}', { passage: 'p' }, 'task.yaml: doc_to_text'), /task\.yaml: doc_to_text: the template reads "question", which the document does not have \(its fields: passage\)/);
});

test('task YAMLs: unknown fields, fields tttnn does not implement, hub datasets and unknown !function are refused by name', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tttnn-task-yaml-'));
  const yaml = (name: string, body: string): string => {
    const file = join(dir, `${name}.yaml`);
    writeFileSync(file, body);
    return file;
  };
  writeFileSync(join(dir, 'v.jsonl'), '{"q": "a", "label": 0}\n');
  const base = 'task: t\ndataset_path: json\ndataset_kwargs:\n  data_files:\n    validation: v.jsonl\nvalidation_split: validation\noutput_type: multiple_choice\ndoc_to_text: "{{q}}"\ndoc_to_target: label\ndoc_to_choice: ["x", "y"]\n';
  assert.throws(() => loadTaskConfig(yaml('a', base + 'doc_to_texts: x\n')), /a\.yaml: doc_to_texts: not a field of the harness's TaskConfig/);
  assert.throws(() => loadTaskConfig(yaml('b', base + 'process_results: !function utils.process_results\n')), /b\.yaml: process_results: tttnn does not implement this field/);
  assert.throws(() => loadTaskConfig(yaml('c', base.replace('dataset_path: json', 'dataset_path: aps/super_glue'))), /c\.yaml: dataset_path "aps\/super_glue" is neither "json".*tttnn reads no hub/);
  assert.throws(() => HarnessTask.load(yaml('d', base.replace('doc_to_text: "{{q}}"', 'doc_to_text: !function mine.doc_to_text'))), /d\.yaml: doc_to_text: !function mine\.doc_to_text is not one tttnn implements/);
  assert.throws(() => loadTaskConfig('no_such_task'), /unknown task "no_such_task": not pile_\* and not one of the shipped tasks \(boolq, cb, copa/);
  const t = HarnessTask.load(yaml('e', base));
  assert.deepEqual(t.documents(0).map((d) => d.requests), [[{ type: 'loglikelihood', context: 'a', continuation: ' x' }, { type: 'loglikelihood', context: 'a', continuation: ' y' }]]);
  // Boolean labels (as SuperGLUE's own files hold them) index the choices as Python's bool does.
  writeFileSync(join(dir, 'b.jsonl'), '{"q": "a", "label": true}\n{"q": "b", "label": false}\n');
  const booleans = HarnessTask.load(yaml('f', base.replace('validation: v.jsonl', 'validation: b.jsonl\n    train: b.jsonl').replace('validation_split: validation', 'validation_split: validation\ntraining_split: train\nfewshot_config:\n  sampler: first_n')));
  // first_n, the evaluation document left out (fewshot split and test split both unset, as the harness compares them).
  assert.deepEqual(booleans.documents(1).map((d) => d.context), ['b x\n\na', 'a y\n\nb']);
  assert.throws(() => booleans.documents(2), /f\.yaml: 2 few-shot examples requested, 1 available/);
});
