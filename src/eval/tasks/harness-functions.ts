// The Python functions the harness's own task YAMLs name with `!function`,
// written again in TypeScript under the same names. Each cites the file of
// lm-evaluation-harness 0.4.13 it transcribes (lm_eval/tasks/...). A YAML
// naming another function is refused, naming it.

type Doc = Record<string, unknown>;
type DocFunction = (doc: Doc) => unknown;

const str = (doc: Doc, key: string): string => {
  const v = doc[key];
  if (typeof v !== 'string') throw new Error(`field "${key}" is not a string (got ${JSON.stringify(v)})`);
  return v;
};

// super_glue/copa/utils.py
const copaConvertChoice = (choice: string): string => choice.charAt(0).toLowerCase() + choice.slice(1);
const copaDocToText: DocFunction = (doc) => {
  const connector = ({ cause: 'because', effect: 'therefore' } as Record<string, string>)[str(doc, 'question')];
  if (connector === undefined) throw new Error(`copa: question must be "cause" or "effect", got ${JSON.stringify(doc['question'])}`);
  return pySlice(str(doc, 'premise').trim(), -1) + ` ${connector}`;
};
const copaDocToTarget: DocFunction = (doc) => ' ' + copaConvertChoice(doc['label'] === 0 ? str(doc, 'choice1') : str(doc, 'choice2'));
const copaDocToChoice: DocFunction = (doc) => [' ' + copaConvertChoice(str(doc, 'choice1')), ' ' + copaConvertChoice(str(doc, 'choice2'))];

/** s[:end] on code points, as Python slices a str (end may be negative). */
function pySlice(s: string, end: number): string {
  const chars = [...s];
  return chars.slice(0, end).join('');
}

// lm_eval/utils.py general_detokenize
export function generalDetokenize(input: string): string {
  return input
    .replace(/ n't/g, "n't")
    .replace(/ \)/g, ')')
    .replace(/\( /g, '(')
    .replace(/" /g, '"')
    .replace(/ "/g, '"')
    .replace(/ (['.,])/g, '$1');
}

// super_glue/wsc/preprocess_wsc.py default_doc_to_text
const wscDocToText: DocFunction = (doc) => {
  const raw = str(doc, 'text');
  const span2 = str(doc, 'span2_text');
  const index = Number(doc['span2_index']);
  const words = raw.split(/\s+/).filter((w) => w !== ''); // str.split()
  const pre = words.slice(0, index).join(' ');
  const post = [...raw].slice([...pre].length + [...span2].length + 1).join('');
  const passage = generalDetokenize(pre + ` *${span2}*` + post);
  return `Passage: ${passage}\nQuestion: In the passage above, does the pronoun "*${span2}*" refer to "*${str(doc, 'span1_text')}*"?\nAnswer:`;
};

// hellaswag/utils.py preprocess and process_docs
function hellaswagPreprocess(text: string): string {
  return text.trim().replaceAll(' [title]', '. ').replace(/\[.*?\]/g, '').replaceAll('  ', ' ');
}
const pyCapitalize = (s: string): string => (s.length === 0 ? s : s.charAt(0).toUpperCase() + s.slice(1).toLowerCase());
const hellaswagProcessDoc: DocFunction = (doc) => {
  const ctx = str(doc, 'ctx_a') + ' ' + pyCapitalize(str(doc, 'ctx_b'));
  const endings = doc['endings'];
  if (!Array.isArray(endings)) throw new Error('hellaswag: "endings" is not a list');
  return { ...doc, query: hellaswagPreprocess(str(doc, 'activity_label') + ': ' + ctx), choices: endings.map((e) => hellaswagPreprocess(String(e))), gold: parseInt(String(doc['label']), 10) };
};

/** `!function module.name` → what it does to one document (doc_to_*) or to every document (process_docs, mapped per document as datasets.map does). */
export const HARNESS_FUNCTIONS: Record<string, { source: string; fn: DocFunction }> = {
  'utils.doc_to_text': { source: 'lm_eval/tasks/super_glue/copa/utils.py', fn: copaDocToText },
  'utils.doc_to_target': { source: 'lm_eval/tasks/super_glue/copa/utils.py', fn: copaDocToTarget },
  'utils.doc_to_choice': { source: 'lm_eval/tasks/super_glue/copa/utils.py', fn: copaDocToChoice },
  'preprocess_wsc.default_doc_to_text': { source: 'lm_eval/tasks/super_glue/wsc/preprocess_wsc.py', fn: wscDocToText },
  'utils.process_docs': { source: 'lm_eval/tasks/hellaswag/utils.py', fn: hellaswagProcessDoc },
};

export function harnessFunction(name: string, where: string): DocFunction {
  const found = HARNESS_FUNCTIONS[name];
  if (!found) {
    throw new Error(`${where}: !function ${name} is not one tttnn implements (it has: ${Object.keys(HARNESS_FUNCTIONS).join(', ')}); write the field as a Jinja template instead`);
  }
  return found.fn;
}
