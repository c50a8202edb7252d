// A task's Jinja templates (doc_to_text, doc_to_target, doc_to_choice),
// rendered as lm-evaluation-harness renders them (lm_eval/utils.py:616-624:
// jinja2 Environment(undefined=StrictUndefined, keep_trailing_newline=True),
// template.render(**doc)) through @huggingface/jinja, the maintained
// JavaScript Jinja engine.
import { Template } from '@huggingface/jinja';

/** Appended to every template and cut from its output: keeps a trailing newline, which @huggingface/jinja (as jinja2 by default) would drop. */
const END = '\uE000';

const cache = new Map<string, Template>();

/** The template rendered with the document's fields as its variables. `where` names the task and field for errors. */
export function renderTemplate(template: string, doc: Record<string, unknown>, where: string): string {
  let compiled = cache.get(template);
  if (!compiled) {
    try {
      compiled = new Template(template + END);
    } catch (error) {
      throw new Error(`${where}: the Jinja template ${JSON.stringify(template)} does not parse: ${(error as Error).message}`);
    }
    cache.set(template, compiled);
  }
  checkDefined(template, doc, where);
  let out: string;
  try {
    out = compiled.render(doc);
  } catch (error) {
    throw new Error(`${where}: rendering ${JSON.stringify(template)} failed: ${(error as Error).message}`);
  }
  if (!out.endsWith(END)) throw new Error(`${where}: rendering ${JSON.stringify(template)} lost its end`);
  return out.slice(0, -END.length);
}

/**
 * StrictUndefined: the harness fails on a variable the document lacks; a
 * JavaScript engine renders it empty. The names a template reads as
 * variables ({{name…}} and {% … name … %} at the start of an expression)
 * must be fields of the document.
 */
function checkDefined(template: string, doc: Record<string, unknown>, where: string): void {
  for (const m of template.matchAll(/\{\{-?\s*([A-Za-z_][A-Za-z0-9_]*)/g)) {
    const name = m[1]!;
    if (!(name in doc) && !['true', 'false', 'none', 'True', 'False', 'None', 'range', 'loop'].includes(name)) {
      throw new Error(`${where}: the template reads "${name}", which the document does not have (its fields: ${Object.keys(doc).join(', ')})`);
    }
  }
}
